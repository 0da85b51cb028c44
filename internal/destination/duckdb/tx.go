package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// tx is one load: a BEGIN TRANSACTION on a dedicated connection. Appenders
// are created on that same connection, so appended rows are part of the
// transaction and vanish on rollback.
type tx struct {
	d    *DuckDB
	conn *sql.Conn
	// staged maps a table to the columns of its staging table, for tables
	// staged in this transaction and not yet merged.
	staged map[string][]*schema.Column
	done   bool
	// failed is set when a statement failed midway; Commit then refuses.
	failed error
}

var _ destination.Tx = (*tx)(nil)

func (t *tx) exec(ctx context.Context, table, op, query string) error {
	if _, err := t.conn.ExecContext(ctx, query); err != nil {
		return t.fail(t.d.errorf(table, op, err))
	}
	return nil
}

func (t *tx) fail(err error) error {
	if t.failed == nil {
		t.failed = err
	}
	return err
}

func (t *tx) check() error {
	if t.done {
		return errors.New("duckdb: transaction already finished")
	}
	return nil
}

// Apply creates the dataset's schema, then each table or column in changes.
// It is idempotent: existing tables and columns are left alone.
func (t *tx) Apply(ctx context.Context, changes []schema.Change) error {
	if err := t.check(); err != nil {
		return err
	}
	if err := t.exec(ctx, "", "create schema", "CREATE SCHEMA IF NOT EXISTS "+quote(t.d.catalog)+"."+quote(t.d.dataset)); err != nil {
		return err
	}
	for _, c := range changes {
		if c.Table == nil {
			return t.d.errorf("", "apply", fmt.Errorf("%s change without a table", c.Kind))
		}
		switch c.Kind {
		case schema.AddTable:
			defs, err := columnDefs(c.Table.Columns)
			if err != nil {
				return t.d.errorf(c.Table.Name, "create table", err)
			}
			q := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", t.d.target(c.Table.Name), defs)
			if err := t.exec(ctx, c.Table.Name, "create table", q); err != nil {
				return err
			}
		case schema.AddColumn:
			if c.Column == nil {
				return t.d.errorf(c.Table.Name, "add column", errors.New("add_column change without a column"))
			}
			typ, err := sqlType(c.Column)
			if err != nil {
				return t.d.errorf(c.Table.Name, "add column", err)
			}
			q := fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s", t.d.target(c.Table.Name), quote(c.Column.Name), typ)
			if err := t.exec(ctx, c.Table.Name, "add column "+c.Column.Name, q); err != nil {
				return err
			}
		default:
			return t.d.errorf(c.Table.Name, "apply", fmt.Errorf("unknown change kind %q", c.Kind))
		}
	}
	return nil
}

// Write appends rows to the table (ModeAppend), replaces its rows
// (ModeReplace: DELETE then append, invisible to readers until Commit), or
// appends them to its staging table (ModeStage).
func (t *tx) Write(ctx context.Context, tb *schema.Table, mode destination.Mode, rows destination.RowSource) (int64, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	catalog, sch := t.d.catalog, t.d.dataset
	switch mode {
	case destination.ModeAppend:
	case destination.ModeReplace:
		if err := t.exec(ctx, tb.Name, "replace", "DELETE FROM "+t.d.target(tb.Name)); err != nil {
			return 0, err
		}
	case destination.ModeStage:
		if err := t.stage(ctx, tb); err != nil {
			return 0, err
		}
		catalog, sch = "temp", "main"
	default:
		return 0, t.d.errorf(tb.Name, "write", fmt.Errorf("unknown write mode %d", mode))
	}
	n, err := t.appendRows(ctx, tb, catalog, sch, rows)
	if err != nil {
		return n, t.fail(t.d.errorf(tb.Name, "write", err))
	}
	return n, nil
}

// stage makes sure tb's staging table exists with all of tb's columns.
func (t *tx) stage(ctx context.Context, tb *schema.Table) error {
	have, ok := t.staged[tb.Name]
	if !ok {
		defs, err := columnDefs(tb.Columns)
		if err != nil {
			return t.d.errorf(tb.Name, "stage", err)
		}
		q := fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s (%s)", quote(tb.Name), defs)
		if err := t.exec(ctx, tb.Name, "stage", q); err != nil {
			return err
		}
		t.staged[tb.Name] = append([]*schema.Column(nil), tb.Columns...)
		return nil
	}
	for _, c := range tb.Columns {
		if hasColumn(have, c.Name) {
			continue
		}
		typ, err := sqlType(c)
		if err != nil {
			return t.d.errorf(tb.Name, "stage", err)
		}
		q := fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", staging(tb.Name), quote(c.Name), typ)
		if err := t.exec(ctx, tb.Name, "stage", q); err != nil {
			return err
		}
		have = append(have, c)
	}
	t.staged[tb.Name] = have
	return nil
}

func hasColumn(cols []*schema.Column, name string) bool {
	for _, c := range cols {
		if c.Name == name {
			return true
		}
	}
	return false
}

// appendRows feeds rows through an Appender limited to tb's columns, so the
// table may hold more columns (they get NULL) or hold them in another order.
func (t *tx) appendRows(ctx context.Context, tb *schema.Table, catalog, sch string, rows destination.RowSource) (int64, error) {
	names := make([]string, len(tb.Columns))
	convs := make([]converter, len(tb.Columns))
	for i, c := range tb.Columns {
		names[i] = c.Name
		conv, err := converterFor(c)
		if err != nil {
			return 0, err
		}
		convs[i] = conv
	}
	var n int64
	err := withRaw(t.conn, func(dc driver.Conn) error {
		app, err := duckdb.NewAppenderWithColumns(dc, catalog, sch, tb.Name, names)
		if err != nil {
			return fmt.Errorf("create appender: %w", err)
		}
		vals := make([]driver.Value, len(names))
		for rows.Next() {
			row := rows.Values()
			if len(row) > len(names) {
				app.Close()
				return fmt.Errorf("row %d has %d values, the table has %d columns", n+1, len(row), len(names))
			}
			for i := range vals {
				var v any
				if i < len(row) {
					v = row[i]
				}
				cv, err := convs[i](v)
				if err != nil {
					app.Close()
					return fmt.Errorf("row %d column %q: %w", n+1, names[i], err)
				}
				vals[i] = cv
			}
			if err := app.AppendRow(vals...); err != nil {
				app.Close()
				return fmt.Errorf("row %d: %w", n+1, err)
			}
			n++
			if n%100_000 == 0 {
				if err := ctx.Err(); err != nil {
					app.Close()
					return err
				}
			}
		}
		if err := rows.Err(); err != nil {
			app.Close()
			return fmt.Errorf("reading rows: %w", err)
		}
		if err := app.CloseWithCancel(ctx); err != nil {
			return fmt.Errorf("flush: %w", err)
		}
		return nil
	})
	return n, err
}

// Merge folds the staged rows of root and children into their tables; see
// destination.Tx. Without a primary key on root it appends the staged rows.
func (t *tx) Merge(ctx context.Context, root *schema.Table, children []*schema.Table) error {
	if err := t.check(); err != nil {
		return err
	}
	rootCols, ok := t.staged[root.Name]
	if !ok {
		// Nothing staged for root: nothing replaces anything. Children
		// staged without a root row cannot belong to any winner.
		return t.dropStaged(ctx, children)
	}
	pk := root.PrimaryKey()
	if len(pk) > 0 && !hasColumn(rootCols, schema.ColID) {
		return t.d.errorf(root.Name, "merge", fmt.Errorf("staged rows lack the %s column", schema.ColID))
	}
	var stmts []string
	if len(pk) > 0 {
		match := make([]string, len(pk))
		for i, k := range pk {
			match[i] = fmt.Sprintf("s.%s = t.%s", quote(k), quote(k))
		}
		replaced := fmt.Sprintf("EXISTS (SELECT 1 FROM %s s WHERE %s)", staging(root.Name), strings.Join(match, " AND "))
		for _, c := range children {
			if c.Column(schema.ColRootID) == nil {
				return t.d.errorf(c.Name, "merge", fmt.Errorf("child table lacks the %s column", schema.ColRootID))
			}
			stmts = append(stmts, fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT t.%s FROM %s t WHERE %s)",
				t.d.target(c.Name), quote(schema.ColRootID), quote(schema.ColID), t.d.target(root.Name), replaced))
		}
		stmts = append(stmts, fmt.Sprintf("DELETE FROM %s t WHERE %s", t.d.target(root.Name), replaced))
	}
	cols := columnList(rootCols)
	winners := staging(root.Name)
	if len(pk) > 0 {
		keys := make([]string, len(pk))
		for i, k := range pk {
			keys[i] = quote(k)
		}
		winners = fmt.Sprintf("(SELECT * FROM %s QUALIFY row_number() OVER (PARTITION BY %s ORDER BY %s DESC) = 1)",
			staging(root.Name), strings.Join(keys, ", "), quote(schema.ColID))
	}
	stmts = append(stmts, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s w", t.d.target(root.Name), cols, cols, winners))
	for _, c := range children {
		ccols, ok := t.staged[c.Name]
		if !ok {
			continue
		}
		q := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s c", t.d.target(c.Name), columnList(ccols), columnList(ccols), staging(c.Name))
		if len(pk) > 0 {
			q += fmt.Sprintf(" WHERE c.%s IN (SELECT %s FROM %s w)", quote(schema.ColRootID), quote(schema.ColID), winners)
		}
		stmts = append(stmts, q)
	}
	for _, q := range stmts {
		if err := t.exec(ctx, root.Name, "merge", q); err != nil {
			return err
		}
	}
	return t.dropStaged(ctx, append([]*schema.Table{root}, children...))
}

func columnList(cols []*schema.Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quote(c.Name)
	}
	return strings.Join(names, ", ")
}

// dropStaged drops the staging tables of tables, where they exist.
func (t *tx) dropStaged(ctx context.Context, tables []*schema.Table) error {
	for _, tb := range tables {
		if _, ok := t.staged[tb.Name]; !ok {
			continue
		}
		if err := t.exec(ctx, tb.Name, "drop staging", "DROP TABLE IF EXISTS "+staging(tb.Name)); err != nil {
			return err
		}
		delete(t.staged, tb.Name)
	}
	return nil
}

// Commit drops unmerged staging tables and commits. It fails, rolling back,
// when an earlier statement of the transaction failed.
func (t *tx) Commit(ctx context.Context) error {
	if err := t.check(); err != nil {
		return err
	}
	if t.failed != nil {
		t.Rollback(ctx)
		return t.d.errorf("", "commit", fmt.Errorf("transaction rolled back after an earlier error: %w", t.failed))
	}
	var left []*schema.Table
	for name := range t.staged {
		left = append(left, &schema.Table{Name: name})
	}
	if err := t.dropStaged(ctx, left); err != nil {
		t.Rollback(ctx)
		return err
	}
	_, err := t.conn.ExecContext(ctx, "COMMIT")
	t.done = true
	if err != nil {
		// A failed COMMIT leaves DuckDB's transaction aborted; make sure the
		// pooled connection goes back clean.
		t.conn.ExecContext(context.Background(), "ROLLBACK")
		t.conn.Close()
		return t.d.errorf("", "commit", err)
	}
	return t.d.closeConn(t.conn)
}

// Rollback abandons the transaction; after Commit or Rollback it does nothing.
func (t *tx) Rollback(ctx context.Context) error {
	if t.done {
		return nil
	}
	t.done = true
	_, err := t.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	cerr := t.d.closeConn(t.conn)
	if err != nil {
		return t.d.errorf("", "rollback", err)
	}
	return cerr
}

func (d *DuckDB) closeConn(c *sql.Conn) error {
	if err := c.Close(); err != nil {
		return d.errorf("", "release connection", err)
	}
	return nil
}
