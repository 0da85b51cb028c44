package duckdb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/destination/duckdb"
	"github.com/restload/restload/internal/schema"
)

func openFile(tb testing.TB, dataset string) destination.Destination {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "test.duckdb")
	d, err := destination.Open(context.Background(), "duckdb:"+path, dataset)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() {
		if err := d.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return d
}

func TestConformance(t *testing.T) {
	destinationtest.Run(t, func(t *testing.T, dataset string) destination.Destination {
		return openFile(t, dataset)
	}, destinationtest.Caps{Merge: true, IsolatedRead: true, MergeHints: true})
}

func TestConformanceInMemory(t *testing.T) {
	destinationtest.Run(t, func(t *testing.T, dataset string) destination.Destination {
		d, err := destination.Open(context.Background(), "duckdb::memory:", dataset)
		if err != nil {
			t.Fatalf("open in-memory: %v", err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}, destinationtest.Caps{Merge: true, IsolatedRead: true, MergeHints: true})
}

func BenchmarkWrite(b *testing.B) {
	destinationtest.BenchmarkWrite(b, func(b *testing.B, dataset string) destination.Destination {
		return openFile(b, dataset)
	})
}

// TestRowFilesCleanedUp checks that the CSV files rows pass through on
// their way into DuckDB do not outlive a load, and that files a killed
// load left beside the database go when it is next opened. (A
// duckdb_arrow build makes no row files, so there only the second half
// can fail; .ci/run runs this package without the tag too.)
func TestRowFilesCleanedUp(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "db.duckdb")
	stale := filepath.Join(dir, ".db.duckdb.load-123.csv")
	other := filepath.Join(dir, ".other.duckdb.load-123.csv") // another database's
	for _, f := range []string{stale, other} {
		if err := os.WriteFile(f, []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d, err := destination.Open(ctx, "duckdb:"+path, "ds")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale row file still there after Open: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another database's file was removed: %v", err)
	}
	tb := &schema.Table{Name: "t", Columns: []*schema.Column{{Name: "id", Type: schema.Text, PrimaryKey: true}, {Name: schema.ColID, Type: schema.Text}}}
	destinationtest.CommitRows(t, d, tb, []schema.Change{{Kind: schema.AddTable, Table: tb}}, destination.ModeStage, []any{"a", "1"}, []any{"a", "2"})
	left, _ := filepath.Glob(filepath.Join(dir, ".db.duckdb.load-*"))
	if len(left) != 0 {
		t.Errorf("row files left after a load: %v", left)
	}
	rows := destinationtest.ReadAll(t, d, "t")
	if len(rows) != 1 || rows[0][schema.ColID] != "2" {
		t.Errorf("rows = %v, want the one with _dlt_id 2", rows)
	}
}

// TestAwkwardDatabasePath loads into a database whose directory looks like
// a hive partition and holds glob characters: read_csv must read the row
// file as it is, adding no column and matching no other file.
func TestAwkwardDatabasePath(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "part=1", "[x]*")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := destination.Open(ctx, "duckdb:"+filepath.Join(dir, "db.duckdb"), "ds")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tb := &schema.Table{Name: "t", Columns: []*schema.Column{{Name: "v", Type: schema.Text}}}
	destinationtest.CommitRows(t, d, tb, []schema.Change{{Kind: schema.AddTable, Table: tb}}, destination.ModeAppend, []any{"a"}, []any{"b"})
	if rows := destinationtest.ReadAll(t, d, "t"); len(rows) != 2 || len(rows[0]) != 1 {
		t.Errorf("rows = %v, want two rows of one column", rows)
	}
}

// TestLongValues loads text values longer than read_csv's default line
// limit (2 MB) next to short rows: the limit follows the file's longest row.
func TestLongValues(t *testing.T) {
	d := openFile(t, "ds")
	tb := &schema.Table{Name: "t", Columns: []*schema.Column{{Name: "n", Type: schema.BigInt}, {Name: "v", Type: schema.Text}}}
	long := strings.Repeat("x\"y,\n", 1<<20) // 5 MB, quotes and line breaks
	destinationtest.CommitRows(t, d, tb, []schema.Change{{Kind: schema.AddTable, Table: tb}}, destination.ModeAppend, []any{int64(1), "short"}, []any{int64(2), long})
	got := map[int64]any{}
	for _, r := range destinationtest.ReadAll(t, d, "t") {
		n, _ := r["n"].(int64)
		got[n] = r["v"]
	}
	if len(got) != 2 || got[1] != "short" || got[2] != long {
		t.Errorf("read back %d rows; short %q; long value intact: %v", len(got), got[1], got[2] == long)
	}
}

// TestRowLongerThanReadCSVDefaults loads a 20 MB value: longer than
// read_csv's default line limit and its default 32 MB buffers' half.
func TestRowLongerThanReadCSVDefaults(t *testing.T) {
	d := openFile(t, "ds")
	tb := &schema.Table{Name: "t", Columns: []*schema.Column{{Name: "v", Type: schema.Text}}}
	huge := strings.Repeat("x", 20<<20)
	destinationtest.CommitRows(t, d, tb, []schema.Change{{Kind: schema.AddTable, Table: tb}}, destination.ModeAppend, []any{huge})
	rows := destinationtest.ReadAll(t, d, "t")
	if len(rows) != 1 || rows[0]["v"] != huge {
		t.Errorf("read back %d rows; value intact: %v", len(rows), len(rows) == 1 && rows[0]["v"] == huge)
	}
}

// TestChunkedWrite writes a table across many CSV chunks (DuckDB reads one
// while the next is encoded): every row arrives once, a merge across
// chunks keeps each key's last row, and no chunk file is left, whether
// the write succeeds or its rows fail midway.
func TestChunkedWrite(t *testing.T) {
	duckdb.SetChunkBytes(t, 4<<10) // ~120 rows a chunk
	ctx := context.Background()
	dir := t.TempDir()
	d, err := destination.Open(ctx, "duckdb:"+filepath.Join(dir, "db.duckdb"), "ds")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tb := &schema.Table{Name: "t", Columns: []*schema.Column{
		{Name: "id", Type: schema.BigInt, PrimaryKey: true}, {Name: "v", Type: schema.Text}, {Name: schema.ColID, Type: schema.Text}}}
	const n, keys = 20000, 1000
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(i % keys), fmt.Sprintf("value %06d of a row", i), fmt.Sprintf("%08d", i)}
	}
	destinationtest.CommitRows(t, d, tb, []schema.Change{{Kind: schema.AddTable, Table: tb}}, destination.ModeStage, rows...)
	got := destinationtest.ReadAll(t, d, "t")
	if len(got) != keys {
		t.Fatalf("%d rows after merging %d rows of %d keys, want %d", len(got), n, keys, keys)
	}
	for _, r := range got {
		id := r["id"].(int64)
		if want := fmt.Sprintf("%08d", n-keys+int(id)); r[schema.ColID] != want {
			t.Errorf("key %d kept _dlt_id %v, want its last row's %s", id, r[schema.ColID], want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".db.duckdb.load-*")); len(left) != 0 {
		t.Errorf("chunk files left after a load: %v", left)
	}

	// Rows that fail after some chunks went in: Write fails, the
	// transaction rolls back, no file stays.
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src := destinationtest.NewRows(rows...)
	src.Fail = errors.New("the API went away")
	wrote, err := tx.Write(ctx, tb, destination.ModeAppend, src)
	if err == nil || !strings.Contains(err.Error(), "the API went away") {
		t.Fatalf("Write = %d, %v; want the rows' error", wrote, err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := d.(destination.Counter).Count(ctx, "t"); err != nil || c != keys {
		t.Errorf("after the failed write: %d rows (%v), want %d", c, err, keys)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".db.duckdb.load-*")); len(left) != 0 {
		t.Errorf("chunk files left after a failed write: %v", left)
	}
}
