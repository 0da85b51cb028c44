package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the database/sql driver "duckdb"

	"github.com/restload/restload/internal/destination/duckdb"
	"github.com/restload/restload/internal/pipeline"
)

// duckdbAlone measures what DuckDB alone takes to store the rows a DuckDB
// run loaded: a process of its own ("bench -duckdb-copy", see
// duckdbCopyMain) copies every table of the run's dataset into a new
// database file, with the settings restload gives a database file, in one
// transaction (INSERT ... SELECT from the run's file, then COMMIT), as
// restload's load does. No HTTP, JSON, Go-side rows or CSV are involved,
// so no loader into DuckDB on this machine can store these rows faster, or
// in less memory, than this (reading the source file costs little beside
// it).
func duckdbAlone(ctx context.Context, run Result) Result {
	res := Result{Name: "duckdb-alone", Mode: run.Mode, Records: run.Records, Pages: run.Pages}
	dst := filepath.Join(filepath.Dir(run.db), "alone.duckdb")
	defer os.Remove(dst)
	self, err := os.Executable()
	if err != nil {
		res.Error = err.Error()
		return res
	}
	var out, stderr strings.Builder
	m, err := runMeasured(ctx, self, []string{duckdbCopyFlag, run.db, run.dataset, dst}, nil, &out, &stderr)
	res.PeakRSSMB, res.CPUSeconds = m.rssMB, m.cpu
	var c copyResult
	if err == nil {
		err = json.Unmarshal([]byte(out.String()), &c)
	}
	if err != nil {
		res.Error = fmt.Sprintf("duckdb alone: %v: %s", err, strings.TrimSpace(stderr.String()))
		return res
	}
	res.Seconds = c.Insert + c.Commit
	res.RecordsPS = float64(res.Records) / res.Seconds
	res.PagesPS = float64(res.Pages) / res.Seconds
	res.Phases = &pipeline.Phases{Load: c.Insert, Commit: c.Commit}
	fmt.Fprintf(os.Stderr, "duckdb alone: %d rows of the %s run's tables stored in %.2fs (insert %.2fs, commit %.2fs), peak RSS %.1f MB\n",
		c.Rows, run.Mode, res.Seconds, c.Insert, c.Commit, res.PeakRSSMB)
	return res
}

const duckdbCopyFlag = "-duckdb-copy"

// copyResult is what duckdbCopyMain prints.
type copyResult struct {
	Rows           int64
	Insert, Commit float64 // seconds
}

// duckdbCopyMain is "bench -duckdb-copy SRC DATASET DST": it copies
// DATASET's tables of the DuckDB file SRC into the new file DST (see
// duckdbAlone) and prints a copyResult as JSON. It returns the exit code.
func duckdbCopyMain(args []string) int {
	if len(args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: bench -duckdb-copy SRC DATASET DST")
		return 2
	}
	src, dataset, dst := args[0], args[1], args[2]
	q := url.Values{}
	for _, s := range duckdb.FileSettings {
		q.Set(s.Name, s.Value)
	}
	ctx := context.Background()
	db, err := sql.Open("duckdb", dst+"?"+q.Encode())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer conn.Close()
	var c copyResult
	if c.Rows, c.Insert, c.Commit, err = copyDataset(ctx, conn, src, dataset); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	b, _ := json.Marshal(c)
	fmt.Println(string(b))
	return 0
}

// copyDataset creates dataset's tables of the database file src in conn's
// database, then copies their rows in one transaction and commits. It
// returns how many rows it copied and the seconds the copy and the commit
// took.
func copyDataset(ctx context.Context, conn *sql.Conn, src, dataset string) (rows int64, insert, commit float64, err error) {
	lit := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	ident := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	if _, err := conn.ExecContext(ctx, "ATTACH "+lit(src)+" AS src (READ_ONLY)"); err != nil {
		return 0, 0, 0, err
	}
	r, err := conn.QueryContext(ctx, "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' AND schema_name = ?", dataset)
	if err != nil {
		return 0, 0, 0, err
	}
	var tables []string
	for r.Next() {
		var t string
		if err := r.Scan(&t); err != nil {
			r.Close()
			return 0, 0, 0, err
		}
		tables = append(tables, t)
	}
	r.Close()
	if len(tables) == 0 {
		return 0, 0, 0, fmt.Errorf("no tables in dataset %s of %s", dataset, src)
	}
	if _, err := conn.ExecContext(ctx, "CREATE SCHEMA "+ident(dataset)); err != nil {
		return 0, 0, 0, err
	}
	for _, t := range tables {
		stmt := fmt.Sprintf("CREATE TABLE %s.%s AS SELECT * FROM src.%s.%s LIMIT 0", ident(dataset), ident(t), ident(dataset), ident(t))
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return 0, 0, 0, err
		}
	}
	start := time.Now()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return 0, 0, 0, err
	}
	for _, t := range tables {
		stmt := fmt.Sprintf("INSERT INTO %s.%s SELECT * FROM src.%s.%s", ident(dataset), ident(t), ident(dataset), ident(t))
		res, err := conn.ExecContext(ctx, stmt)
		if err != nil {
			return 0, 0, 0, err
		}
		n, _ := res.RowsAffected()
		rows += n
	}
	mid := time.Now()
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, 0, 0, err
	}
	return rows, mid.Sub(start).Seconds(), time.Since(mid).Seconds(), nil
}
