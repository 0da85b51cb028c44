package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/pipeline"
)

// TestWideAndLongRecordsIntoDuckDB runs a pipeline whose API answers a
// record of 5,000 fields and a record holding a 50 MB string into a
// DuckDB file at the default settings (memory_limit 128MB): both load.
func TestWideAndLongRecordsIntoDuckDB(t *testing.T) {
	if testing.Short() {
		t.Skip("loads ~60 MB")
	}
	wide := map[string]any{"id": 1}
	for i := range 5000 {
		wide[fmt.Sprintf("f%04d", i)] = fmt.Sprintf("value %d", i)
	}
	wideBody, _ := json.Marshal([]any{wide})
	longBody, _ := json.Marshal([]any{map[string]any{"id": 1, "body": strings.Repeat("0123456789", 5<<20)}})
	p := servedPipeline(t, `
pipeline: {name: wide, dataset: wide}
source:
  client: {base_url: BASE}
  resources:
    - name: wide
      endpoint: {path: wide, paginator: single_page}
    - name: long
      endpoint: {path: long, paginator: single_page}
`, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/wide") {
			w.Write(wideBody)
		} else {
			w.Write(longBody)
		}
	})
	dir := t.TempDir()
	dest := "duckdb:" + filepath.Join(dir, "wide.duckdb")
	if _, err := pipeline.Run(context.Background(), p, pipeline.Options{Destination: dest, WorkDir: filepath.Join(dir, "work")}); err != nil {
		t.Fatal(err)
	}
	d, err := destination.Open(context.Background(), dest, "wide")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, table := range []string{"wide", "long"} {
		if n, err := destination.Count(context.Background(), d, table); err != nil || n != 1 {
			t.Errorf("%s: %d rows (%v), want 1", table, n, err)
		}
	}
}

// servedPipeline parses the pipeline file src, whose base_url is BASE,
// pointed at a test server answering with serve.
func servedPipeline(t *testing.T, src string, serve http.HandlerFunc) *config.Pipeline {
	t.Helper()
	ts := httptest.NewServer(serve)
	t.Cleanup(ts.Close)
	p, err := config.Parse(filepath.Join(t.TempDir(), "pipeline.yaml"), []byte(strings.ReplaceAll(src, "BASE", ts.URL)), config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
