package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/spf13/cobra"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/files"
	mysqldest "github.com/restload/restload/internal/destination/mysql"
	"github.com/restload/restload/internal/httpclient"
)

// DefaultQueryMaxRows is how many rows query prints unless --max-rows says
// otherwise.
const DefaultQueryMaxRows = 1000

func queryCmd(g *globals) *cobra.Command {
	var f destFlags
	var asJSON bool
	var maxRows int
	c := &cobra.Command{
		Use:   "query [PIPELINE] SQL",
		Short: "Run SQL on what landed in a destination and print the rows (no duckdb or psql needed)",
		Long: `query runs one SQL statement against a destination, read-only, with the
dataset as the default schema: FROM files reads the dataset's files table.
DuckDB, PostgreSQL and MySQL run it directly; for parquet:DIR and jsonl:DIR
an in-memory DuckDB reads the dataset's files as views named after the tables.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := args[len(args)-1]
			url, dataset, err := f.resolve(cmd, args[:len(args)-1])
			if err != nil {
				return err
			}
			ds, err := openSQL(cmd.Context(), url, dataset)
			if err != nil {
				return err
			}
			defer ds.close()
			return runQuery(cmd.Context(), ds.conn, q, g.stdout, asJSON, maxRows)
		},
	}
	f.register(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print the rows as a JSON array of objects")
	c.Flags().IntVar(&maxRows, "max-rows", DefaultQueryMaxRows, "print at most this many rows")
	return c
}

// sqlDataset is a destination's dataset opened for SQL: a read-only
// connection whose default schema is the dataset.
type sqlDataset struct {
	conn  *sql.Conn
	close func()
}

// openSQL opens dataset at url for queries. It creates nothing: a missing
// database file, folder or dataset is an error that says what exists.
func openSQL(ctx context.Context, url, dataset string) (*sqlDataset, error) {
	scheme, rest, _ := strings.Cut(url, ":")
	var db *sql.DB
	var setup []string
	switch scheme {
	case "duckdb":
		path, _, _ := strings.Cut(rest, "?")
		if path == "" || path == ":memory:" {
			return nil, usageError{fmt.Errorf("%s is an in-memory database: nothing outlives the run that loads it", url)}
		}
		if err := checkLocation(url); err != nil {
			return nil, err
		}
		c, err := duckdb.NewConnector(path+"?access_mode=read_only", nil)
		if err != nil {
			return nil, fmt.Errorf("duckdb %s: %w", path, err)
		}
		db = sql.OpenDB(c)
		setup = []string{"SET search_path = " + sqlString(dataset)}
	case "postgres", "postgresql":
		cfg, err := pgx.ParseConfig(url)
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", destination.Redact(url), destination.ErrBadURL)
		}
		db = stdlib.OpenDB(*cfg)
		setup = []string{"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "SET search_path TO " + pgx.Identifier{dataset}.Sanitize()}
	case "mysql", "mariadb":
		cfg, err := mysqldest.Config(url)
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w: %v", destination.Redact(url), destination.ErrBadURL, err)
		}
		cfg.DBName = ""
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", destination.Redact(url), err)
		}
		db = sql.OpenDB(conn)
		setup = []string{"SET SESSION TRANSACTION READ ONLY", "USE `" + strings.ReplaceAll(dataset, "`", "``") + "`"}
	case string(files.Parquet), string(files.JSONL):
		return openFilesSQL(ctx, url, files.Format(scheme), rest, dataset)
	default:
		_, err := destination.Open(ctx, url, dataset) // its error names the known schemes
		if err == nil {
			err = fmt.Errorf("destination %s: query does not support it", destination.Redact(url))
		}
		return nil, err
	}
	ds, err := connect(ctx, db, url, dataset, setup)
	if err != nil {
		db.Close()
		return nil, err
	}
	return ds, nil
}

// connect takes a connection of db, checks dataset exists and runs setup.
func connect(ctx context.Context, db *sql.DB, url, dataset string, setup []string) (*sqlDataset, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", destination.Redact(url), err)
	}
	if err := checkDataset(ctx, conn, url, dataset); err != nil {
		conn.Close()
		return nil, err
	}
	for _, s := range setup {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			conn.Close()
			return nil, fmt.Errorf("destination %s: %s: %w", destination.Redact(url), s, err)
		}
	}
	return &sqlDataset{conn: conn, close: func() { conn.Close(); db.Close() }}, nil
}

// systemSchemas are the schemas and databases of the servers themselves,
// never a dataset.
var systemSchemas = []string{"information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys", "main"}

// checkDataset errs, listing the datasets there are, when dataset is not
// one of url's.
func checkDataset(ctx context.Context, conn *sql.Conn, url, dataset string) error {
	q := "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = current_database()"
	switch {
	case strings.HasPrefix(url, "postgres"):
		q = "SELECT schema_name FROM information_schema.schemata"
	case strings.HasPrefix(url, "mysql"), strings.HasPrefix(url, "mariadb"):
		q = "SELECT schema_name FROM information_schema.schemata"
	}
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("destination %s: list datasets: %w", destination.Redact(url), err)
	}
	defer rows.Close()
	var names []string
	found := false
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return fmt.Errorf("destination %s: list datasets: %w", destination.Redact(url), err)
		}
		found = found || n == dataset
		if !slices.Contains(systemSchemas, n) && !strings.HasPrefix(n, "pg_") {
			names = append(names, n)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("destination %s: list datasets: %w", destination.Redact(url), err)
	}
	if found {
		return nil
	}
	return noDataset(url, dataset, names)
}

func noDataset(url, dataset string, names []string) error {
	slices.Sort(names)
	have := "it has no datasets yet"
	if len(names) > 0 {
		have = "its datasets: " + strings.Join(names, ", ")
	}
	return fmt.Errorf("dataset %q is not in %s (nothing was loaded into it); %s", dataset, destination.Redact(url), have)
}

// checkLocation errs when the database file or folder a duckdb:, parquet:
// or jsonl: URL names does not exist, listing what the folder holds
// instead. Other URLs name servers, checked when connecting.
func checkLocation(url string) error {
	scheme, rest, _ := strings.Cut(url, ":")
	path, _, _ := strings.Cut(rest, "?")
	switch scheme {
	case "duckdb":
		if path == "" || path == ":memory:" {
			return nil // see openSQL
		}
	case string(files.Parquet), string(files.JSONL):
	default:
		return nil
	}
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("destination %s: %w", url, err)
	}
	msg := fmt.Sprintf("%s: %s does not exist (nothing was loaded there; this command creates nothing)", url, path)
	if scheme == "duckdb" {
		if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.duckdb")); len(m) > 0 {
			msg += "; DuckDB files in " + filepath.Dir(path) + ": " + strings.Join(m[:min(len(m), 20)], ", ")
		}
	}
	return errors.New(msg)
}

// openFilesSQL opens an in-memory DuckDB with a view per table of a
// parquet:DIR or jsonl:DIR dataset, reading its committed files.
func openFilesSQL(ctx context.Context, url string, format files.Format, dir, dataset string) (*sqlDataset, error) {
	if err := checkLocation(url); err != nil {
		return nil, err
	}
	if err := checkFilesDataset(url, dir, dataset); err != nil {
		return nil, err
	}
	f, err := files.Open(ctx, format, dir, dataset)
	if err != nil {
		return nil, err
	}
	paths, tables, err := f.DataFiles()
	if err != nil {
		return nil, err
	}
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("in-memory duckdb: %w", err)
	}
	db := sql.OpenDB(c)
	var views []string
	for name, t := range tables {
		var src string
		switch {
		case len(paths[name]) == 0:
			cols := make([]string, len(t.Columns))
			for i, col := range t.Columns {
				cols[i] = "CAST(NULL AS VARCHAR) AS " + sqlIdent(col.Name)
			}
			if len(cols) == 0 {
				continue
			}
			src = "SELECT " + strings.Join(cols, ", ") + " WHERE false"
		case format == files.Parquet && !strings.HasSuffix(paths[name][0], ".jsonl"): // dlt's bookkeeping files are JSON
			src = "SELECT * FROM read_parquet(" + sqlList(paths[name]) + ", union_by_name = true)"
		default:
			src = "SELECT * FROM read_json(" + sqlList(paths[name]) + ", format = 'newline_delimited', union_by_name = true)"
		}
		views = append(views, "CREATE VIEW "+sqlIdent(name)+" AS "+src)
	}
	slices.Sort(views)
	ds, err := connect(ctx, db, "duckdb:", "main", views)
	if err != nil {
		db.Close()
		return nil, err
	}
	return ds, nil
}

// checkFilesDataset errs, listing the datasets DIR holds, when dataset is
// not one of them.
func checkFilesDataset(url, dir, dataset string) error {
	if _, err := os.Stat(filepath.Join(dir, dataset)); err == nil {
		return nil
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return noDataset(url, dataset, names)
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
func sqlIdent(s string) string  { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func sqlList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = sqlString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// runQuery runs q on conn and prints at most maxRows rows to w, as a table
// or as JSON. What the rows hold is escaped: no control character of the
// data reaches a terminal.
func runQuery(ctx context.Context, conn *sql.Conn, q string, w io.Writer, asJSON bool, maxRows int) error {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	var out [][]any
	more := false
	for rows.Next() {
		if len(out) >= maxRows {
			more = true
			break
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("query: %w", err)
		}
		for i, v := range vals {
			vals[i] = queryValue(v)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	ew := escapingWriter{w}
	if asJSON {
		objs := make([]map[string]any, len(out))
		for i, r := range out {
			objs[i] = make(map[string]any, len(cols))
			for j, c := range cols {
				objs[i][c] = r[j]
			}
		}
		return json.NewEncoder(ew).Encode(objs)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	cells := make([]string, len(cols))
	for i, c := range cols {
		cells[i] = httpclient.Escape(c)
	}
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
	for _, r := range out {
		for i, v := range r {
			cells[i] = cellText(v)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case more:
		fmt.Fprintf(w, "(first %d rows; add LIMIT or --max-rows for more)\n", maxRows)
	case len(out) == 1:
		fmt.Fprintln(w, "(1 row)")
	default:
		fmt.Fprintf(w, "(%d rows)\n", len(out))
	}
	return nil
}

// queryValue turns a scanned value into one JSON and the table print well.
func queryValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case duckdb.Decimal:
		return x.String()
	}
	return v
}

// cellText is a value as one line of a table cell.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return httpclient.Escape(strings.ReplaceAll(x, "\t", " "))
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return httpclient.Escape(string(b))
	}
	return httpclient.Escape(fmt.Sprint(v))
}
