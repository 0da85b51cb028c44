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

// TestColumnLimit: records whose keys are data (an object keyed by ids)
// add a column per key; past limits.max_columns the resource fails with an
// error naming the page, the record, the table and the way out, before
// its rows grow as wide as the table, and nothing of it is loaded; the
// other resource loads. The same records load whole with the object's
// field hinted data_type json.
func TestColumnLimit(t *testing.T) {
	var recs []any
	for i := range 40 {
		recs = append(recs, map[string]any{"id": i, "scores": map[string]any{fmt.Sprintf("user_%d", i): i, fmt.Sprintf("user_%d", i+1000): i}})
	}
	body, _ := json.Marshal(recs)
	src := `
pipeline: {name: cols, dataset: cols}
limits: {max_columns: 50}
source:
  client: {base_url: BASE}
  resources:
    - name: keyed
      endpoint: {path: keyed, paginator: single_page}
      HINT
    - name: plain
      endpoint: {path: plain, paginator: single_page}
`
	serve := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/keyed") {
			w.Write(body)
		} else {
			w.Write([]byte(`[{"id": 1, "name": "a"}]`))
		}
	}
	dir := t.TempDir()
	dest := "duckdb:" + filepath.Join(dir, "cols.duckdb")
	p := servedPipeline(t, strings.Replace(src, "HINT", "", 1), serve)
	_, err := pipeline.Run(context.Background(), p, pipeline.Options{Destination: dest, WorkDir: filepath.Join(dir, "work")})
	want := `resource keyed: page 1: record 24: table "keyed" would get more than 50 columns (the next: "scores__user_23"), the limit (limits.max_columns)`
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "data_type: json") {
		t.Fatalf("run error = %v, want it to contain %q", err, want)
	}
	d, err := destination.Open(context.Background(), dest, "cols")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := destination.Count(context.Background(), d, "plain"); err != nil || n != 1 {
		t.Errorf("plain: %d rows (%v), want 1", n, err)
	}
	if n, _ := destination.Count(context.Background(), d, "keyed"); n != 0 {
		t.Errorf("keyed: %d rows loaded from a failed resource, want 0", n)
	}
	d.Close()

	p = servedPipeline(t, strings.Replace(src, "HINT", "columns: {scores: {data_type: json}}", 1), serve)
	if _, err := pipeline.Run(context.Background(), p, pipeline.Options{Destination: dest, WorkDir: filepath.Join(dir, "work")}); err != nil {
		t.Fatalf("with the json hint: %v", err)
	}
	d, err = destination.Open(context.Background(), dest, "cols")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n, err := destination.Count(context.Background(), d, "keyed"); err != nil || n != 40 {
		t.Errorf("keyed with the json hint: %d rows (%v), want 40", n, err)
	}
}

// TestTableLimit: lists under keys that are data make a child table per
// key; past limits.max_tables the resource fails, naming the page, the
// record and the table, and nothing of it is loaded.
func TestTableLimit(t *testing.T) {
	var recs []any
	for i := range 30 {
		recs = append(recs, map[string]any{"id": i, "by_user": map[string]any{fmt.Sprintf("u%02d", i): []any{i, i + 1}}})
	}
	body, _ := json.Marshal(recs)
	p := servedPipeline(t, `
pipeline: {name: tabs, dataset: tabs}
limits: {max_tables: 10}
source:
  client: {base_url: BASE}
  resources:
    - name: keyed
      endpoint: {path: keyed, paginator: single_page}
`, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	dir := t.TempDir()
	dest := "duckdb:" + filepath.Join(dir, "tabs.duckdb")
	_, err := pipeline.Run(context.Background(), p, pipeline.Options{Destination: dest, WorkDir: filepath.Join(dir, "work")})
	want := `resource keyed: page 1: record 10: the resource would write more than 10 tables (the next: "keyed__by_user__u09"), the limit (limits.max_tables)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("run error = %v, want it to contain %q", err, want)
	}
	d, err := destination.Open(context.Background(), dest, "tabs")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n, _ := destination.Count(context.Background(), d, "keyed"); n != 0 {
		t.Errorf("keyed: %d rows loaded from a failed resource, want 0", n)
	}
}
