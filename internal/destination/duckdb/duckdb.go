// Package duckdb is the DuckDB destination: a dataset is a schema in a DuckDB
// database file (or an in-memory database), rows go in a chunk at a time,
// as Arrow record batches DuckDB scans (with the duckdb_arrow build tag) or
// as CSV files its read_csv reads (without; see rowChunk), and each load is
// one DuckDB transaction.
//
// URLs: duckdb:PATH (relative or absolute; the file is created when missing)
// and duckdb::memory: for an in-memory database that lives until Close.
// DuckDB settings go in the query: duckdb:PATH?memory_limit=1GB&threads=4.
// A database file gets FileSettings for those the query does not set, so a
// load's memory stays bounded: DuckDB spills what does not fit to
// PATH.tmp (its default temp_directory) instead of growing toward its own
// default limit, 80% of RAM.
//
// Rows staged for merge go to TEMP tables (temp.main."<table>") on the load's
// own connection; Merge folds them into the dataset and drops them, and
// Commit drops any that were never merged, so staging never outlives a load.
package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/sqlgen"
)

func init() {
	destination.Register("duckdb", func(ctx context.Context, url, dataset string) (destination.Destination, error) {
		return Open(ctx, strings.TrimPrefix(url, "duckdb:"), dataset)
	})
}

// FileSettings are the DuckDB settings Open gives a database file unless
// its URL's query sets them. Without a limit a load grows toward DuckDB's
// default, 80% of RAM. Measured with the seed's nested records (bench/,
// rows reaching DuckDB through read_csv):
//   - threads=1: DuckDB's parallel INSERT from read_csv took more time and
//     CPU than one thread (8 x 100k records: 5.4-7.4 s of inserts on two
//     threads, 4.3 s on one, 8.4 s instead of 10 s with the commit), and
//     with 4 or more threads it ran out of memory under the limit below.
//     One DuckDB thread also leaves a core to the Go side, which encodes
//     the next chunk while DuckDB reads one.
//   - memory_limit=128MB: 8 x 100k records merged peak at ~290 MB RSS
//     (DuckDB and Go also allocate outside the limit); 64MB peaked at
//     ~210 MB but could not re-merge 1M records (the DELETE of the 1M
//     replaced rows ran out of memory), which 128MB can.
//   - preserve_insertion_order=false lets DuckDB stream rather than
//     buffer (restload reads rows back by _dlt_id, never by insertion
//     order).
var FileSettings = []Setting{
	{"threads", "1"},
	{"memory_limit", "128MB"},
	{"preserve_insertion_order", "false"},
}

// Setting is one DuckDB configuration option, as in SET name = value.
type Setting struct{ Name, Value string }

// dsnOf returns the DuckDB DSN of path (duckdb:PATH without the scheme, with
// any ?query): path with FileSettings added for the names its query does
// not set. An in-memory database keeps DuckDB's defaults.
func dsnOf(path string) (string, error) {
	file, query, _ := strings.Cut(path, "?")
	if file == ":memory:" {
		file = ""
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("settings %q: %w", query, err)
	}
	if file == "" {
		if query == "" {
			return "", nil
		}
		return "?" + query, nil
	}
	for _, s := range FileSettings {
		if !q.Has(s.Name) {
			if query != "" {
				query += "&"
			}
			query += s.Name + "=" + url.QueryEscape(s.Value)
		}
	}
	return file + "?" + query, nil
}

// DuckDB is a DuckDB database opened for one dataset. Read is safe to call
// while a Tx is open and sees only committed rows.
type DuckDB struct {
	connector *duckdb.Connector
	db        *sql.DB
	name      string // "duckdb PATH", for errors
	catalog   string // the database's catalog name, to qualify every table
	dataset   string
	sql       *sqlgen.Dataset
	// tmpDir is where rows wait as CSV files named tmpPrefix* for DuckDB
	// to read them: beside the database file (on a disk that has room for
	// the data), or the system's temporary directory ("") for an
	// in-memory database.
	tmpDir, tmpPrefix string
	// urlMemory is set when the URL's query sets memory_limit, which
	// LimitMemory then leaves alone.
	urlMemory bool
}

func tmpFilesOf(path string) (dir, prefix string) {
	file, _, _ := strings.Cut(path, "?")
	if file == "" || file == ":memory:" {
		return "", ".restload-load-"
	}
	dir = filepath.Dir(file)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if strings.ContainsAny(dir, "*?[]{}") {
		// read_csv would take the path for a glob pattern.
		dir = ""
	}
	return dir, "." + filepath.Base(file) + ".load-"
}

// dialect is where DuckDB's SQL differs from sqlgen's defaults.
var dialect = &sqlgen.Dialect{
	Quote:      sqlgen.QuoteDouble,
	Types:      types,
	Decimal:    "DECIMAL(%d,%d)",
	Hinted:     hintedType,
	NotNull:    true,
	TempSchema: "temp.main",
	TextCast:   "CAST(%s AS VARCHAR)",
}

var (
	_ destination.Destination     = (*DuckDB)(nil)
	_ destination.Counter         = (*DuckDB)(nil)
	_ destination.MergeStrategist = (*DuckDB)(nil)
	_ destination.MemoryLimiter   = (*DuckDB)(nil)
)

// Open opens (creating if needed) the DuckDB database at path for dataset.
// An empty path or ":memory:" opens an in-memory database. The dataset's
// schema is created by the first Tx.Apply, not here.
func Open(ctx context.Context, path, dataset string) (*DuckDB, error) {
	name := "duckdb " + path
	if dataset == "" {
		return nil, fmt.Errorf("%s: open: empty dataset name", name)
	}
	dsn, err := dsnOf(path)
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w", name, err)
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
	d := &DuckDB{connector: connector, db: db, name: name, catalog: catalog, dataset: dataset}
	d.tmpDir, d.tmpPrefix = tmpFilesOf(path)
	_, query, _ := strings.Cut(path, "?")
	if q, err := url.ParseQuery(query); err == nil && q.Has("memory_limit") {
		d.urlMemory = true
	}
	if d.tmpDir != "" {
		// The database is open, so no other process is loading into it:
		// row files left by a killed load are garbage.
		removeStale(d.tmpDir, d.tmpPrefix)
	}
	d.sql = &sqlgen.Dataset{Dialect: dialect, Schema: []string{catalog, dataset}, Name: name}
	return d, nil
}

// Close closes the database. Any open Tx must be finished first.
func (d *DuckDB) Close() error {
	err := errors.Join(d.db.Close(), d.connector.Close())
	if err != nil {
		return fmt.Errorf("%s: close: %w", d.name, err)
	}
	return nil
}

// Begin starts a transaction on a dedicated connection.
func (d *DuckDB) Begin(ctx context.Context) (destination.Tx, error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return nil, d.sql.Errorf("", "begin", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		conn.Close()
		return nil, d.sql.Errorf("", "begin", err)
	}
	return &tx{d: d, conn: conn, staging: d.sql.NewStaging()}, nil
}

// Count returns table's number of committed rows (destination.Counter).
func (d *DuckDB) Count(ctx context.Context, table string) (int64, error) {
	var n int64
	if err := d.db.QueryRowContext(ctx, "SELECT count(*) FROM "+d.sql.Table(table)).Scan(&n); err != nil {
		var de *duckdb.Error
		if errors.As(err, &de) && de.Type == duckdb.ErrorTypeCatalog && strings.Contains(de.Msg, "does not exist") {
			err = destination.ErrNoTable
		}
		return 0, d.sql.Errorf(table, "count", err)
	}
	return n, nil
}

// Read calls fn for each row of table in _dlt_id order (or by every column
// when the table has no _dlt_id). JSON and decimal values come back as
// strings, timestamps and dates as time.Time.
func (d *DuckDB) Read(ctx context.Context, table string, fn func(row map[string]any) error) error {
	rows, err := d.db.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? ORDER BY ordinal_position`,
		d.dataset, table)
	if err != nil {
		return d.sql.Errorf(table, "read", err)
	}
	var cols []sqlgen.ReadColumn
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			rows.Close()
			return d.sql.Errorf(table, "read", err)
		}
		cols = append(cols, sqlgen.ReadColumn{Name: name, AsText: typ == "JSON" || strings.HasPrefix(typ, "DECIMAL")})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d.sql.Errorf(table, "read", err)
	}
	if len(cols) == 0 {
		return d.sql.Errorf(table, "read", destination.ErrNoTable)
	}
	q := d.sql.Select(table, cols)
	data, err := d.db.QueryContext(ctx, q)
	if err != nil {
		return d.sql.Errorf(table, "read", err)
	}
	defer data.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for data.Next() {
		if err := data.Scan(ptrs...); err != nil {
			return d.sql.Errorf(table, "read", err)
		}
		row := make(map[string]any, len(cols))
		for i, c := range cols {
			row[c.Name] = vals[i]
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := data.Err(); err != nil {
		return d.sql.Errorf(table, "read", err)
	}
	return nil
}

// MergeStrategies reports true: Merge does every merge strategy and hint
// (see sqlgen.MergeStaged and sqlgen.Dataset.Winners).
func (d *DuckDB) MergeStrategies() bool { return true }
