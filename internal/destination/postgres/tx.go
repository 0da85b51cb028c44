package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// tx is one load: a pgx transaction on one pooled connection.
type tx struct {
	p  *Postgres
	tx pgx.Tx
	// staged maps a table to the columns of its staging table, for tables
	// staged in this transaction and not yet merged.
	staged map[string][]*schema.Column
	done   bool
}

var _ destination.Tx = (*tx)(nil)

func (t *tx) exec(ctx context.Context, table, op, query string) error {
	if _, err := t.tx.Exec(ctx, query); err != nil {
		return t.p.errorf(table, op, err)
	}
	return nil
}

// Apply creates the dataset's schema, then each table or column in changes.
// It is idempotent: existing tables and columns are left alone.
func (t *tx) Apply(ctx context.Context, changes []schema.Change) error {
	if t.done {
		return errDone
	}
	if err := t.exec(ctx, "", "create schema", "CREATE SCHEMA IF NOT EXISTS "+quote(t.p.dataset)); err != nil {
		return err
	}
	for _, c := range changes {
		if c.Table == nil {
			return t.p.errorf("", "apply", fmt.Errorf("%s change without a table", c.Kind))
		}
		if err := checkTable(c.Table); err != nil {
			return t.p.errorf("", "apply", err)
		}
		if c.Column != nil {
			if err := checkIdent("column", c.Column.Name); err != nil {
				return t.p.errorf(c.Table.Name, "apply", err)
			}
		}
		switch c.Kind {
		case schema.AddTable:
			defs, err := columnDefs(c.Table.Columns)
			if err != nil {
				return t.p.errorf(c.Table.Name, "create table", err)
			}
			q := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", t.p.target(c.Table.Name), defs)
			if err := t.exec(ctx, c.Table.Name, "create table", q); err != nil {
				return err
			}
		case schema.AddColumn:
			if c.Column == nil {
				return t.p.errorf(c.Table.Name, "add column", errors.New("add_column change without a column"))
			}
			typ, err := sqlType(c.Column)
			if err != nil {
				return t.p.errorf(c.Table.Name, "add column", err)
			}
			q := fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s", t.p.target(c.Table.Name), quote(c.Column.Name), typ)
			if err := t.exec(ctx, c.Table.Name, "add column "+c.Column.Name, q); err != nil {
				return err
			}
		default:
			return t.p.errorf(c.Table.Name, "apply", fmt.Errorf("unknown change kind %q", c.Kind))
		}
	}
	return nil
}

// Write copies rows into the table (ModeAppend), replaces its rows
// (ModeReplace: DELETE, not TRUNCATE, so readers keep seeing the old rows
// until Commit), or copies them into its staging table (ModeStage).
func (t *tx) Write(ctx context.Context, tb *schema.Table, mode destination.Mode, rows destination.RowSource) (int64, error) {
	if t.done {
		return 0, errDone
	}
	if err := checkTable(tb); err != nil {
		return 0, t.p.errorf("", "write", err)
	}
	ident := pgx.Identifier{t.p.dataset, tb.Name}
	switch mode {
	case destination.ModeAppend:
	case destination.ModeReplace:
		if err := t.exec(ctx, tb.Name, "replace", "DELETE FROM "+t.p.target(tb.Name)); err != nil {
			return 0, err
		}
	case destination.ModeStage:
		if err := t.stage(ctx, tb); err != nil {
			return 0, err
		}
		ident = pgx.Identifier{"pg_temp", tb.Name}
	default:
		return 0, t.p.errorf(tb.Name, "write", fmt.Errorf("unknown write mode %d", mode))
	}
	names := make([]string, len(tb.Columns))
	convs := make([]converter, len(tb.Columns))
	for i, c := range tb.Columns {
		names[i] = c.Name
		conv, err := converterFor(c)
		if err != nil {
			return 0, t.p.errorf(tb.Name, "write", err)
		}
		convs[i] = conv
	}
	var n int64
	var srcErr error
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				srcErr = fmt.Errorf("reading rows: %w", err)
				return nil, srcErr
			}
			return nil, nil
		}
		row := rows.Values()
		if len(row) > len(names) {
			srcErr = fmt.Errorf("row %d has %d values, the table has %d columns", n+1, len(row), len(names))
			return nil, srcErr
		}
		out := make([]any, len(names))
		for i := range out {
			var v any
			if i < len(row) {
				v = row[i]
			}
			cv, err := convs[i](v)
			if err != nil {
				srcErr = fmt.Errorf("row %d column %q: %w", n+1, names[i], err)
				return nil, srcErr
			}
			out[i] = cv
		}
		n++
		return out, nil
	})
	copied, err := t.tx.CopyFrom(ctx, ident, names, src)
	if err != nil {
		if srcErr != nil {
			err = srcErr
		}
		return copied, t.p.errorf(tb.Name, "write", err)
	}
	return copied, nil
}

// stage makes sure tb's staging table exists with all of tb's columns.
func (t *tx) stage(ctx context.Context, tb *schema.Table) error {
	have, ok := t.staged[tb.Name]
	if !ok {
		defs, err := columnDefs(tb.Columns)
		if err != nil {
			return t.p.errorf(tb.Name, "stage", err)
		}
		if err := t.exec(ctx, tb.Name, "stage", "DROP TABLE IF EXISTS "+staging(tb.Name)); err != nil {
			return err
		}
		q := fmt.Sprintf("CREATE TEMP TABLE %s (%s) ON COMMIT DROP", quote(tb.Name), defs)
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
			return t.p.errorf(tb.Name, "stage", err)
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

func columnList(cols []*schema.Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quote(c.Name)
	}
	return strings.Join(names, ", ")
}

// Merge folds the staged rows of root and children into their tables; see
// destination.Tx. _dlt_id values compare byte-wise (COLLATE "C"), as in
// every other destination. Without a primary key on root it appends the
// staged rows.
func (t *tx) Merge(ctx context.Context, root *schema.Table, children []*schema.Table) error {
	if t.done {
		return errDone
	}
	rootCols, ok := t.staged[root.Name]
	if !ok {
		return t.dropStaged(ctx, children)
	}
	pk := root.PrimaryKey()
	if len(pk) > 0 && !hasColumn(rootCols, schema.ColID) {
		return t.p.errorf(root.Name, "merge", fmt.Errorf("staged rows lack the %s column", schema.ColID))
	}
	var stmts []string
	cols := columnList(rootCols)
	winners := staging(root.Name)
	if len(pk) > 0 {
		match := make([]string, len(pk))
		keys := make([]string, len(pk))
		for i, k := range pk {
			match[i] = fmt.Sprintf("s.%s = t.%s", quote(k), quote(k))
			keys[i] = quote(k)
		}
		replaced := fmt.Sprintf("EXISTS (SELECT 1 FROM %s s WHERE %s)", staging(root.Name), strings.Join(match, " AND "))
		for _, c := range children {
			if c.Column(schema.ColRootID) == nil {
				return t.p.errorf(c.Name, "merge", fmt.Errorf("child table lacks the %s column", schema.ColRootID))
			}
			stmts = append(stmts, fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT t.%s FROM %s t WHERE %s)",
				t.p.target(c.Name), quote(schema.ColRootID), quote(schema.ColID), t.p.target(root.Name), replaced))
		}
		stmts = append(stmts, fmt.Sprintf("DELETE FROM %s t WHERE %s", t.p.target(root.Name), replaced))
		// The winners are computed once, before anything is inserted.
		stmts = append(stmts, fmt.Sprintf(
			`CREATE TEMP TABLE "_restload_winners" ON COMMIT DROP AS SELECT DISTINCT ON (%s) %s FROM %s ORDER BY %s, %s COLLATE "C" DESC`,
			strings.Join(keys, ", "), quote(schema.ColID), staging(root.Name), strings.Join(keys, ", "), quote(schema.ColID)))
		winners = fmt.Sprintf(`(SELECT s.* FROM %s s WHERE s.%s IN (SELECT %s FROM pg_temp."_restload_winners"))`,
			staging(root.Name), quote(schema.ColID), quote(schema.ColID))
	}
	stmts = append(stmts, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s w", t.p.target(root.Name), cols, cols, winners))
	for _, c := range children {
		ccols, ok := t.staged[c.Name]
		if !ok {
			continue
		}
		q := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s c", t.p.target(c.Name), columnList(ccols), columnList(ccols), staging(c.Name))
		if len(pk) > 0 {
			q += fmt.Sprintf(` WHERE c.%s IN (SELECT %s FROM pg_temp."_restload_winners")`, quote(schema.ColRootID), quote(schema.ColID))
		}
		stmts = append(stmts, q)
	}
	if len(pk) > 0 {
		stmts = append(stmts, `DROP TABLE pg_temp."_restload_winners"`)
	}
	for _, q := range stmts {
		if err := t.exec(ctx, root.Name, "merge", q); err != nil {
			return err
		}
	}
	return t.dropStaged(ctx, append([]*schema.Table{root}, children...))
}

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

// Commit commits; staging tables go with it (ON COMMIT DROP). After a
// failed statement PostgreSQL refuses the commit and the load rolls back.
func (t *tx) Commit(ctx context.Context) error {
	if t.done {
		return errDone
	}
	t.done = true
	if err := t.tx.Commit(ctx); err != nil {
		return t.p.errorf("", "commit", err)
	}
	return nil
}

// Rollback abandons the transaction; after Commit or Rollback it does nothing.
func (t *tx) Rollback(ctx context.Context) error {
	if t.done {
		return nil
	}
	t.done = true
	if err := t.tx.Rollback(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return t.p.errorf("", "rollback", err)
	}
	return nil
}
