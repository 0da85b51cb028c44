// Package duckdb is the DuckDB destination: a dataset is a schema in a DuckDB
// database file (or an in-memory database), rows go in through DuckDB's bulk
// Appender, and each load is one DuckDB transaction.
//
// URLs: duckdb:PATH (relative or absolute; the file is created when missing)
// and duckdb::memory: for an in-memory database that lives until Close.
//
// Rows staged for merge go to TEMP tables (temp.main."<table>") on the load's
// own connection; Merge folds them into the dataset and drops them, and
// Commit drops any that were never merged, so staging never outlives a load.
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

func init() {
	destination.Register("duckdb", func(ctx context.Context, url, dataset string) (destination.Destination, error) {
		return Open(ctx, strings.TrimPrefix(url, "duckdb:"), dataset)
	})
}

// DuckDB is a DuckDB database opened for one dataset. Read is safe to call
// while a Tx is open and sees only committed rows.
type DuckDB struct {
	connector *duckdb.Connector
	db        *sql.DB
	name      string // "duckdb PATH", for errors
	catalog   string // the database's catalog name, to qualify every table
	dataset   string
}

var _ destination.Destination = (*DuckDB)(nil)

// Open opens (creating if needed) the DuckDB database at path for dataset.
// An empty path or ":memory:" opens an in-memory database. The dataset's
// schema is created by the first Tx.Apply, not here.
func Open(ctx context.Context, path, dataset string) (*DuckDB, error) {
	name := "duckdb " + path
	if dataset == "" {
		return nil, fmt.Errorf("%s: open: empty dataset name", name)
	}
	dsn := path
	if path == ":memory:" {
		dsn = ""
	}
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w", name, err)
	}
	db := sql.OpenDB(connector)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		connector.Close()
		return nil, fmt.Errorf("%s: open: %w", name, err)
	}
	var catalog string
	if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&catalog); err != nil {
		db.Close()
		connector.Close()
		return nil, fmt.Errorf("%s: open: %w", name, err)
	}
	return &DuckDB{connector: connector, db: db, name: name, catalog: catalog, dataset: dataset}, nil
}

// Close closes the database. Any open Tx must be finished first.
func (d *DuckDB) Close() error {
	err := errors.Join(d.db.Close(), d.connector.Close())
	if err != nil {
		return fmt.Errorf("%s: close: %w", d.name, err)
	}
	return nil
}

// errorf formats an error naming the destination, dataset and table.
func (d *DuckDB) errorf(table, op string, err error) error {
	if table == "" {
		return fmt.Errorf("%s: dataset %q: %s: %w", d.name, d.dataset, op, err)
	}
	return fmt.Errorf("%s: table %q.%q: %s: %w", d.name, d.dataset, table, op, err)
}

// Begin starts a transaction on a dedicated connection.
func (d *DuckDB) Begin(ctx context.Context) (destination.Tx, error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return nil, d.errorf("", "begin", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		conn.Close()
		return nil, d.errorf("", "begin", err)
	}
	return &tx{d: d, conn: conn, staged: map[string][]*schema.Column{}}, nil
}

// Read calls fn for each row of table in _dlt_id order (or by every column
// when the table has no _dlt_id). JSON and decimal values come back as
// strings, timestamps and dates as time.Time.
func (d *DuckDB) Read(ctx context.Context, table string, fn func(row map[string]any) error) error {
	rows, err := d.db.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? ORDER BY ordinal_position`,
		d.dataset, table)
	if err != nil {
		return d.errorf(table, "read", err)
	}
	var names, exprs []string
	hasID := false
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			rows.Close()
			return d.errorf(table, "read", err)
		}
		names = append(names, name)
		e := quote(name)
		if typ == "JSON" || strings.HasPrefix(typ, "DECIMAL") {
			e = "CAST(" + e + " AS VARCHAR)"
		}
		exprs = append(exprs, e)
		hasID = hasID || name == schema.ColID
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d.errorf(table, "read", err)
	}
	if len(names) == 0 {
		return d.errorf(table, "read", destination.ErrNoTable)
	}
	order := "ALL"
	if hasID {
		order = quote(schema.ColID)
	}
	q := fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", strings.Join(exprs, ", "), d.target(table), order)
	data, err := d.db.QueryContext(ctx, q)
	if err != nil {
		return d.errorf(table, "read", err)
	}
	defer data.Close()
	vals := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for data.Next() {
		if err := data.Scan(ptrs...); err != nil {
			return d.errorf(table, "read", err)
		}
		row := make(map[string]any, len(names))
		for i, n := range names {
			row[n] = vals[i]
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := data.Err(); err != nil {
		return d.errorf(table, "read", err)
	}
	return nil
}

func (d *DuckDB) target(table string) string {
	return quote(d.catalog) + "." + quote(d.dataset) + "." + quote(table)
}

func staging(table string) string {
	return "temp.main." + quote(table)
}

func quote(id string) string {
	return `"` + strings.ReplaceAll(id, `"`, `""`) + `"`
}

// sqlType maps a column to its DuckDB type.
func sqlType(c *schema.Column) (string, error) {
	switch c.Type {
	case schema.BigInt:
		return "BIGINT", nil
	case schema.Double:
		return "DOUBLE", nil
	case schema.Decimal:
		p, s := decimalSize(c)
		return fmt.Sprintf("DECIMAL(%d,%d)", p, s), nil
	case schema.Bool:
		return "BOOLEAN", nil
	case schema.Text:
		return "VARCHAR", nil
	case schema.Timestamp:
		return "TIMESTAMPTZ", nil
	case schema.Date:
		return "DATE", nil
	case schema.JSON:
		return "JSON", nil
	}
	return "", fmt.Errorf("column %q: unknown data type %q", c.Name, c.Type)
}

// decimalSize is a decimal column's precision and scale: its own, or
// DECIMAL(38,9) when unset.
func decimalSize(c *schema.Column) (precision, scale int) {
	if c.Precision <= 0 {
		return 38, 9
	}
	return c.Precision, c.Scale
}

// columnDefs renders the column list of a CREATE TABLE.
func columnDefs(cols []*schema.Column) (string, error) {
	defs := make([]string, len(cols))
	for i, c := range cols {
		typ, err := sqlType(c)
		if err != nil {
			return "", err
		}
		defs[i] = quote(c.Name) + " " + typ
	}
	return strings.Join(defs, ", "), nil
}

// withRaw runs fn on the duckdb driver connection under conn.
func withRaw(conn *sql.Conn, fn func(dc driver.Conn) error) error {
	return conn.Raw(func(c any) error {
		dc, ok := c.(driver.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", c)
		}
		return fn(dc)
	})
}
