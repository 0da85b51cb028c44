package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/destination/destinationtest"
)

// TestQueryEveryDestination loads the three-row events table into each kind
// of destination and reads it back with `restload query`, as a table and as
// JSON, with the dataset as the default schema.
func TestQueryEveryDestination(t *testing.T) {
	for _, dt := range everyDestination() {
		t.Run(dt.name, func(t *testing.T) {
			ds := destinationtest.Dataset(t)
			url := dt.url(t, ds)
			loadOne(t, url, ds)
			code, out, errOut := run(t, "query", "--dest", url, "--dataset", ds, "SELECT _dlt_id AS id FROM events ORDER BY _dlt_id")
			if code != 0 {
				t.Fatalf("query: exit %d\n%s%s", code, out, errOut)
			}
			if want := "id\na\nb\nc\n(3 rows)\n"; out != want {
				t.Errorf("query printed\n%s\nwant\n%s", out, want)
			}
			code, out, errOut = run(t, "query", "--json", "--dest", url, "--dataset", ds, "SELECT count(*) AS n FROM events")
			if code != 0 {
				t.Fatalf("query --json: exit %d\n%s%s", code, out, errOut)
			}
			var got []map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 || got[0]["n"] != float64(3) {
				t.Errorf("query --json printed %s (%v), want [{\"n\":3}]", out, err)
			}
			code, out, _ = run(t, "query", "--max-rows", "2", "--dest", url, "--dataset", ds, "SELECT _dlt_id FROM events ORDER BY 1")
			if code != 0 || !strings.Contains(out, "(first 2 rows; add LIMIT or --max-rows for more)") || strings.Contains(out, "\nc\n") {
				t.Errorf("query --max-rows 2: exit %d, printed\n%s", code, out)
			}
		})
	}
}

// TestReadCommandsCreateNothing: info, schema and query on a database file,
// folder or dataset that does not exist fail, saying what exists, and
// create nothing.
func TestReadCommandsCreateNothing(t *testing.T) {
	dir := t.TempDir()
	loaded := "duckdb:" + filepath.Join(dir, "loaded.duckdb")
	loadOne(t, loaded, "shop")
	jsonlDir := filepath.Join(dir, "out")
	loadOne(t, "jsonl:"+jsonlDir, "shop")
	before := listTree(t, dir)
	for _, cmd := range []string{"info", "schema", "query"} {
		for _, tc := range []struct {
			dest, dataset string
			want          []string
		}{
			{"duckdb:" + filepath.Join(dir, "missing.duckdb"), "shop", []string{"missing.duckdb does not exist", "this command creates nothing", "DuckDB files in " + dir + ": " + filepath.Join(dir, "loaded.duckdb")}},
			{loaded, "shp", []string{`dataset "shp" is not in`, "its datasets: shop"}},
			{"parquet:" + filepath.Join(dir, "nothing"), "shop", []string{"nothing does not exist"}},
			{"jsonl:" + jsonlDir, "shp", []string{`dataset "shp" is not in`, "its datasets: shop"}},
		} {
			args := []string{cmd, "--dest", tc.dest, "--dataset", tc.dataset}
			if cmd == "query" {
				args = append(args, "SELECT 1")
			}
			code, _, errOut := run(t, args...)
			if code != 1 {
				t.Errorf("%v: exit %d, want 1\n%s", args, code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("%v: stderr lacks %q:\n%s", args, w, errOut)
				}
			}
		}
	}
	if after := listTree(t, dir); after != before {
		t.Errorf("reading commands changed the folder:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// listTree lists the paths under dir.
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		b.WriteString(p + "\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
