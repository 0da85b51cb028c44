package files_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/schema"
)

// TestParquetLayout checks what a user finds on disk: one folder per table,
// _table.json, one file per load and no leftovers, and that another tool
// (DuckDB) reads the parquet files with the right types.
func TestParquetLayout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := destination.Open(ctx, "parquet:"+dir, "shop")
	if err != nil {
		t.Fatal(err)
	}
	tb := &schema.Table{Name: "orders", Columns: []*schema.Column{
		{Name: "_dlt_id", Type: schema.Text}, {Name: "n", Type: schema.BigInt},
		{Name: "at", Type: schema.Timestamp}, {Name: "day", Type: schema.Date}, {Name: "meta", Type: schema.JSON},
	}}
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for i := range 2 {
		tx, err := d.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: tb}}); err != nil {
			t.Fatal(err)
		}
		rows := destinationtest.NewRows([]any{"id" + string(rune('a'+i)), int64(i), at, at, `{"k":1}`})
		if _, err := tx.Write(ctx, tb, destination.ModeAppend, rows); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, "shop", "orders"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 3 || names[2] != "_table.json" || !strings.HasSuffix(names[0], ".parquet") || !strings.HasSuffix(names[1], ".parquet") {
		t.Fatalf("orders folder holds %v, want two .parquet files and _table.json", names)
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	glob := filepath.Join(dir, "shop", "orders", "*.parquet")
	var n int64
	var gotAt time.Time
	var day time.Time
	var typ string
	err = db.QueryRowContext(ctx, `SELECT sum(n), max("at"), max("day"), typeof(max("at")) FROM read_parquet(?)`, glob).Scan(&n, &gotAt, &day, &typ)
	if err != nil {
		t.Fatalf("duckdb reading %s: %v", glob, err)
	}
	if n != 1 || !gotAt.Equal(at) || day.Format(time.DateOnly) != "2024-05-06" || !strings.HasPrefix(typ, "TIMESTAMP") {
		t.Errorf("duckdb read sum(n)=%d at=%v day=%v type=%s", n, gotAt, day, typ)
	}
}

// countingRows yields n rows (id, n) without holding them.
type countingRows struct {
	i, n int
	row  []any
}

func (r *countingRows) Next() bool { r.i++; return r.i <= r.n }
func (r *countingRows) Values() []any {
	r.row[0], r.row[1] = "id"+strconv.Itoa(r.i), int64(r.i)
	return r.row
}
func (r *countingRows) Err() error { return nil }

// TestParquetRowGroups: a large Write streams its rows out in row groups of
// 32,768 rows rather than holding the whole table for one row group, and
// every row reads back.
func TestParquetRowGroups(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := destination.Open(ctx, "parquet:"+dir, "big")
	if err != nil {
		t.Fatal(err)
	}
	tb := &schema.Table{Name: "events", Columns: []*schema.Column{{Name: "_dlt_id", Type: schema.Text}, {Name: "n", Type: schema.BigInt}}}
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: tb}}); err != nil {
		t.Fatal(err)
	}
	const rows = 300_000
	if n, err := tx.Write(ctx, tb, destination.ModeAppend, &countingRows{n: rows, row: make([]any, 2)}); err != nil || n != rows {
		t.Fatalf("write: %d rows, %v; want %d", n, err, rows)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	glob := filepath.Join(dir, "big", "events", "*.parquet")
	var groups, maxRows int64
	if err := db.QueryRowContext(ctx, `SELECT count(DISTINCT row_group_id), max(row_group_num_rows) FROM parquet_metadata(?)`, glob).Scan(&groups, &maxRows); err != nil {
		t.Fatal(err)
	}
	if groups != 10 || maxRows != 32_768 {
		t.Errorf("%d rows went into %d row groups of at most %d rows, want 10 of at most 32768", rows, groups, maxRows)
	}
	// Compressed as dlt's files are (pyarrow's default codec).
	var codecs string
	if err := db.QueryRowContext(ctx, `SELECT string_agg(DISTINCT compression, ',') FROM parquet_metadata(?)`, glob).Scan(&codecs); err != nil {
		t.Fatal(err)
	}
	if codecs != "SNAPPY" {
		t.Errorf("column chunks compressed with %s, want SNAPPY (as dlt writes)", codecs)
	}
	var count, sum int64
	if err := db.QueryRowContext(ctx, `SELECT count(*), sum(n) FROM read_parquet(?)`, glob).Scan(&count, &sum); err != nil {
		t.Fatal(err)
	}
	if count != rows || sum != rows*(rows+1)/2 {
		t.Errorf("read back %d rows summing to %d, want %d summing to %d", count, sum, rows, rows*(rows+1)/2)
	}
}
