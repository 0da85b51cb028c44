// Package postgres is the PostgreSQL destination: a dataset is a schema,
// rows go in with COPY (pgx CopyFrom) inside one transaction per load.
//
// URLs: postgres://... and postgresql://..., passed whole to pgx, so every
// libpq-style parameter pgx understands works (sslmode, search_path, ...).
//
// Rows staged for merge go to TEMP tables (pg_temp."<table>") created ON
// COMMIT DROP on the load's connection: they are invisible to other
// sessions, unlogged, and gone when the load commits or rolls back.
//
// Tables are made as dlt's postgres destination makes them: dlt's type
// names, NOT NULL on primary keys and the _dlt_ columns, and a UNIQUE
// constraint on _dlt_id (index <table>__dlt_id_key) and on columns with
// the unique hint. No PRIMARY KEY constraint: merge keys are enforced by
// Merge itself. Columns added to an existing table stay nullable.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/sqlgen"
	"github.com/restload/restload/internal/schema"
)

func init() {
	open := func(ctx context.Context, url, dataset string) (destination.Destination, error) {
		return Open(ctx, url, dataset)
	}
	destination.Register("postgres", open)
	destination.Register("postgresql", open)
}

// Postgres is a PostgreSQL database opened for one dataset. Read is safe to
// call while a Tx is open and sees only committed rows.
type Postgres struct {
	pool    *pgxpool.Pool
	name    string // "postgres <redacted url>", for errors
	dataset string
	sql     *sqlgen.Dataset
	lw      destination.LockWait // see SetLockWait
}

// dialect is where PostgreSQL's SQL differs from sqlgen's defaults.
var dialect = &sqlgen.Dialect{
	Quote:          func(id string) string { return pgx.Identifier{id}.Sanitize() },
	Types:          types,
	Decimal:        "numeric(%d,%d)",
	Hinted:         hintedType,
	NotNull:        true,
	Unique:         "UNIQUE",
	UniqueDeferred: "UNIQUE DEFERRABLE INITIALLY DEFERRED",
	TempSchema:     "pg_temp",
	OnCommitDrop:   true,
	IDCollation:    ` COLLATE "C"`,
	TextCast:       "%s::text",
}

var (
	_ destination.Destination     = (*Postgres)(nil)
	_ destination.Counter         = (*Postgres)(nil)
	_ destination.MergeStrategist = (*Postgres)(nil)
)

// Open connects to the server at url (checking it answers) for dataset. The
// dataset's schema is created by the first Tx.Apply, not here.
func Open(ctx context.Context, url, dataset string) (*Postgres, error) {
	name := "postgres " + destination.Redact(url)
	if dataset == "" {
		return nil, fmt.Errorf("%s: open: empty dataset name", name)
	}
	if err := checkIdent("dataset", dataset); err != nil {
		return nil, fmt.Errorf("%s: open: %w", name, err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can quote the URL; say only what went wrong.
		return nil, fmt.Errorf("%s: open: invalid connection URL", name)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w", name, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%s: connect: %w", name, err)
	}
	p := &Postgres{pool: pool, name: name, dataset: dataset}
	p.sql = &sqlgen.Dataset{Dialect: dialect, Schema: []string{dataset}, Name: name}
	return p, nil
}

// Close closes the connection pool. Any open Tx must be finished first.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

// Begin starts a transaction on one pooled connection.
func (p *Postgres) Begin(ctx context.Context) (destination.Tx, error) {
	t, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, p.sql.Errorf("", "begin", err)
	}
	// The transaction is idle while resources extract (loading overlaps
	// extraction); a server or role limit on idle transactions would end
	// the load. SET LOCAL lifts it for this transaction only.
	if _, err := t.Exec(ctx, "SET LOCAL idle_in_transaction_session_timeout = 0"); err != nil {
		t.Rollback(context.WithoutCancel(ctx))
		return nil, p.sql.Errorf("", "begin", err)
	}
	if err := p.setLockTimeout(ctx, t); err != nil {
		t.Rollback(context.WithoutCancel(ctx))
		return nil, p.sql.Errorf("", "begin", err)
	}
	return &tx{p: p, tx: t, staging: p.sql.NewStaging()}, nil
}

// Count returns table's number of committed rows (destination.Counter).
func (p *Postgres) Count(ctx context.Context, table string) (int64, error) {
	if err := checkIdent("table", table); err != nil {
		return 0, p.sql.Errorf(table, "count", err)
	}
	var n int64
	if err := p.pool.QueryRow(ctx, "SELECT count(*) FROM "+p.sql.Table(table)).Scan(&n); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "3F000") { // undefined table, schema
			err = destination.ErrNoTable
		}
		return 0, p.sql.Errorf(table, "count", err)
	}
	return n, nil
}

// Read calls fn for each row of table in _dlt_id order (byte-wise), or by
// every column when the table has no _dlt_id. JSON and numeric values come
// back as strings, timestamps as time.Time in UTC, dates as time.Time.
func (p *Postgres) Read(ctx context.Context, table string, fn func(row map[string]any) error) error {
	if err := checkIdent("table", table); err != nil {
		return p.sql.Errorf(table, "read", err)
	}
	rows, err := p.pool.Query(ctx, `SELECT column_name, udt_name FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, p.dataset, table)
	if err != nil {
		return p.sql.Errorf(table, "read", err)
	}
	var cols []sqlgen.ReadColumn
	for rows.Next() {
		var name, udt string
		if err := rows.Scan(&name, &udt); err != nil {
			rows.Close()
			return p.sql.Errorf(table, "read", err)
		}
		cols = append(cols, sqlgen.ReadColumn{Name: name, AsText: udt == "json" || udt == "jsonb" || udt == "numeric"})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return p.sql.Errorf(table, "read", err)
	}
	if len(cols) == 0 {
		return p.sql.Errorf(table, "read", destination.ErrNoTable)
	}
	q := p.sql.Select(table, cols)
	data, err := p.pool.Query(ctx, q)
	if err != nil {
		return p.sql.Errorf(table, "read", err)
	}
	defer data.Close()
	for data.Next() {
		vals, err := data.Values()
		if err != nil {
			return p.sql.Errorf(table, "read", err)
		}
		row := make(map[string]any, len(cols))
		for i, c := range cols {
			v := vals[i]
			switch t := v.(type) {
			case time.Time:
				v = t.UTC()
			case pgtype.Time:
				v = schema.FormatTimeOfDay(time.UnixMicro(t.Microseconds).UTC())
			}
			row[c.Name] = v
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := data.Err(); err != nil {
		return p.sql.Errorf(table, "read", err)
	}
	return nil
}

// maxIdent is PostgreSQL's identifier limit in bytes (NAMEDATALEN-1).
const maxIdent = 63

// checkIdent refuses a name PostgreSQL would silently truncate: two long
// names sharing their first 63 bytes would become one table or column.
// restload's own names are normalized to 63 bytes, so this catches names
// from elsewhere (a dataset given on the command line, a hand-made schema).
func checkIdent(what, id string) error {
	if len(id) > maxIdent {
		return fmt.Errorf("%s name %q is %d bytes; PostgreSQL keeps only the first %d, so it would be truncated silently: use a shorter name", what, id, len(id), maxIdent)
	}
	return nil
}

// checkTable checks the names of a table and its columns.
func checkTable(tb *schema.Table) error {
	if err := checkIdent("table", tb.Name); err != nil {
		return err
	}
	for _, c := range tb.Columns {
		if err := checkIdent("column", c.Name); err != nil {
			return err
		}
	}
	return nil
}

var errDone = errors.New("postgres: transaction already finished")

// MergeStrategies reports true: Merge does every merge strategy and hint
// (see sqlgen.MergeStaged and sqlgen.Dataset.Winners).
func (p *Postgres) MergeStrategies() bool { return true }
