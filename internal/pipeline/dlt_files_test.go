package pipeline_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/restload/restload/internal/dltstate"
	"github.com/restload/restload/internal/pipeline"
)

// TestFilesBookkeepingLayout: into files (a folder, and object storage
// through file://), the bookkeeping is laid out as dlt's filesystem
// destination lays it out (one JSON file per row, named as dlt names
// them, with dlt's keys), and restload reads it back: a second run
// resumes the cursor and loads nothing again.
func TestFilesBookkeepingLayout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"items": [{"id": "a", "updated_at": "2024-01-01T00:00:00Z"}, {"id": "b", "updated_at": "2024-01-02T00:00:00Z"}]}`))
	}))
	defer srv.Close()
	p := cursorPipeline(t, "layout", srv.URL)
	for _, scheme := range []string{"parquet:", "parquet:file://"} {
		t.Run(scheme, func(t *testing.T) {
			dir := t.TempDir()
			for run := 1; run <= 2; run++ {
				sum, err := pipeline.Run(context.Background(), p, pipeline.Options{Destination: scheme + dir, WorkDir: t.TempDir()})
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				want := int64(2)
				if run == 2 {
					want = 0
				}
				if n := sum.Resources[0].Rows["items"]; n != want {
					t.Errorf("run %d: %d rows loaded, want %d", run, n, want)
				}
			}
			ds := filepath.Join(dir, "layout")
			docs := func(table string) map[string]map[string]any {
				t.Helper()
				ents, err := os.ReadDir(filepath.Join(ds, table))
				if err != nil {
					t.Fatal(err)
				}
				out := map[string]map[string]any{}
				for _, e := range ents {
					if !strings.HasSuffix(e.Name(), ".jsonl") {
						continue
					}
					b, err := os.ReadFile(filepath.Join(ds, table, e.Name()))
					if err != nil {
						t.Fatal(err)
					}
					var m map[string]any
					if err := json.Unmarshal(b, &m); err != nil {
						t.Fatalf("%s/%s: %v", table, e.Name(), err)
					}
					out[e.Name()] = m
				}
				return out
			}
			keys := func(m map[string]any) []string {
				var ks []string
				for k := range m {
					ks = append(ks, k)
				}
				slices.Sort(ks)
				return ks
			}
			loads := docs("_dlt_loads")
			if len(loads) != 2 {
				t.Fatalf("_dlt_loads files: %v, want one per load", loads)
			}
			for name, m := range loads {
				if name != "rest_api__"+m["load_id"].(string)+".jsonl" || m["status"] != 0.0 {
					t.Errorf("_dlt_loads/%s = %v", name, m)
				}
				if got := keys(m); !slices.Equal(got, []string{"inserted_at", "load_id", "schema_name", "schema_version_hash", "status"}) {
					t.Errorf("_dlt_loads/%s keys %v", name, got)
				}
			}
			versions := docs("_dlt_version")
			if len(versions) != 1 {
				t.Fatalf("_dlt_version files: %v, want one (the schema did not change)", len(versions))
			}
			for name, m := range versions {
				doc, err := dltstate.ParseSchema([]byte(m["schema"].(string)))
				if err != nil {
					t.Fatal(err)
				}
				h, _ := dltstate.SchemaVersionHash(doc)
				if h != m["version_hash"] || !strings.HasPrefix(name, "rest_api__") {
					t.Errorf("_dlt_version/%s: hash %v, recomputed %s", name, m["version_hash"], h)
				}
				if got := keys(m); !slices.Equal(got, []string{"engine_version", "inserted_at", "schema", "schema_name", "version", "version_hash"}) {
					t.Errorf("_dlt_version/%s keys %v", name, got)
				}
			}
			states := docs("_dlt_pipeline_state")
			if len(states) != 1 {
				t.Fatalf("_dlt_pipeline_state files: %d, want one (as dlt, a state only when it changed: on the first load)", len(states))
			}
			for name, m := range states {
				// dlt builds its StateInfo from exactly these keys.
				if got := keys(m); !slices.Equal(got, []string{"_dlt_load_id", "created_at", "engine_version", "pipeline_name", "state", "version", "version_hash"}) {
					t.Errorf("_dlt_pipeline_state/%s keys %v", name, got)
				}
				if !strings.HasPrefix(name, "layout__"+m["_dlt_load_id"].(string)+"__") { // the pipeline's name, as dlt names state files
					t.Errorf("_dlt_pipeline_state file %s for load %v", name, m["_dlt_load_id"])
				}
				st := decodeLikeDLT(t, m["state"].(string))
				inc := dig(t, st, "sources", "rest_api", "resources", "items", "incremental", "updated_at").(map[string]any)
				if inc["last_value"] != "2024-01-02T00:00:00Z" {
					t.Errorf("cursor %v", inc)
				}
			}
		})
	}
}
