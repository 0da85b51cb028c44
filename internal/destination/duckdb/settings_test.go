package duckdb

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
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
		{"file defaults", filepath.Join(dir, "a.duckdb"), "122.0 MiB", "false", ""},
		{"query overrides", filepath.Join(dir, "b.duckdb") + "?memory_limit=1GB&threads=1", "953.6 MiB", "false", "1"},
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
