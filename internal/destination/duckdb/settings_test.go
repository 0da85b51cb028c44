package duckdb

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// TestSettings: a database file gets FileSettings unless its URL's query
// sets them; an in-memory database keeps DuckDB's defaults except what its
// query sets.
func TestSettings(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, path             string
		memoryLimit, insertion string
		threads                string // "" leaves it unchecked
	}{
		{"file defaults", filepath.Join(dir, "a.duckdb"), "122.0 MiB", "false", "1"},
		{"query overrides", filepath.Join(dir, "b.duckdb") + "?memory_limit=1GB&threads=2", "953.6 MiB", "false", "2"},
		{"query overrides insertion order", filepath.Join(dir, "c.duckdb") + "?preserve_insertion_order=true", "122.0 MiB", "true", ""},
		{"in-memory keeps defaults", ":memory:", "", "true", ""},
		{"in-memory with query", ":memory:?threads=1", "", "true", "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			d, err := Open(ctx, tc.path, "ds")
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			got := map[string]string{}
			rows, err := d.db.QueryContext(ctx, `SELECT name, value FROM duckdb_settings() WHERE name IN ('memory_limit', 'preserve_insertion_order', 'threads')`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var k, v string
				if err := rows.Scan(&k, &v); err != nil {
					t.Fatal(err)
				}
				got[k] = v
			}
			rows.Close()
			if tc.memoryLimit != "" && got["memory_limit"] != tc.memoryLimit {
				t.Errorf("memory_limit = %q, want %q", got["memory_limit"], tc.memoryLimit)
			}
			if tc.memoryLimit == "" && got["memory_limit"] == "122.0 MiB" {
				t.Errorf("in-memory database got the file default memory_limit")
			}
			if got["preserve_insertion_order"] != tc.insertion {
				t.Errorf("preserve_insertion_order = %q, want %q", got["preserve_insertion_order"], tc.insertion)
			}
			if tc.threads != "" && got["threads"] != tc.threads {
				t.Errorf("threads = %q, want %q", got["threads"], tc.threads)
			}
		})
	}
}

func TestSettingsBadQuery(t *testing.T) {
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "x.duckdb")+"?memory_limit=%zz", "ds")
	if err == nil {
		t.Fatal("open succeeded with a malformed query")
	}
	if want := `settings "memory_limit=%zz"`; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s", err, want)
	}
}

// manyRows yields n rows (id, text) without holding them.
type manyRows struct {
	i, n int
	row  []any
}

func (r *manyRows) Next() bool { r.i++; return r.i <= r.n }
func (r *manyRows) Values() []any {
	r.row[0], r.row[1] = int64(r.i), strings.Repeat("x", 100)
	return r.row
}
func (r *manyRows) Err() error { return nil }

// TestOutOfMemoryHint: when a load outgrows memory_limit, the error says
// where to raise it.
func TestOutOfMemoryHint(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "small.duckdb")+"?memory_limit=2MB", "ds")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	tb := &schema.Table{Name: "t", Columns: []*schema.Column{{Name: "n", Type: schema.BigInt}, {Name: "s", Type: schema.Text}}}
	if err := tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: tb}}); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Write(ctx, tb, destination.ModeStage, &manyRows{n: 200_000, row: make([]any, 2)})
	if err == nil {
		t.Fatal("staging 200,000 rows under memory_limit=2MB succeeded; the test needs an out-of-memory error")
	}
	for _, want := range []string{`table "ds"."t": write: `, "memory_limit defaults to 128MB", "duckdb:PATH?memory_limit=2GB"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
	// The failed insert's row files (rows and keys) are gone.
	if left, _ := filepath.Glob(filepath.Join(d.tmpDir, d.tmpPrefix+"*")); len(left) != 0 {
		t.Errorf("row files left after a failed insert: %v", left)
	}
}

// TestOpenKeepsRowFilesInUse: a second Open of a database in this process
// removes a killed run's row files but not those a load of this process is
// writing.
func TestOpenKeepsRowFilesInUse(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.duckdb")
	d, err := Open(ctx, path, "ds")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	busy, err := newCSVFile(d.tmpDir, d.tmpPrefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.remove()
	stale := filepath.Join(d.tmpDir, d.tmpPrefix+"killed.csv")
	if err := os.WriteFile(stale, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(ctx, path, "ds")
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if _, err := os.Stat(busy.Name()); err != nil {
		t.Errorf("row file in use was removed: %v", err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale row file kept: %v", err)
	}
}

// TestLimitMemory: a run's memory budget reaches DuckDB's memory_limit
// (the session a load uses sees it), unless the URL sets memory_limit.
func TestLimitMemory(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, path, want string }{
		{"file", filepath.Join(dir, "a.duckdb"), "190.7 MiB"},
		{"in-memory", ":memory:", "190.7 MiB"},
		{"url wins", filepath.Join(dir, "b.duckdb") + "?memory_limit=1GB", "953.6 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			d, err := Open(ctx, tc.path, "ds")
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var lim destination.Destination = d
			if err := lim.(destination.MemoryLimiter).LimitMemory(ctx, 200e6); err != nil {
				t.Fatal(err)
			}
			load, err := d.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer load.Rollback(ctx)
			var got string
			if err := load.(*tx).conn.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("memory_limit in a load = %q, want %q", got, tc.want)
			}
		})
	}
}
