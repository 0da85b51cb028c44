package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/restload/restload/internal/apitest"
	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	_ "github.com/restload/restload/internal/destination/duckdb"
	"github.com/restload/restload/internal/pipeline"
)

// seen is one request as the API received it.
type seen = apitest.Request

// api is an httptest server that records every request (apitest.Server).
type api = apitest.Server

// newAPI starts an API whose handler gets each request and its 1-based
// number among the requests to that path.
func newAPI(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *api {
	t.Helper()
	return apitest.New(t, handle)
}

// writeJSON writes v as a JSON 200 response.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// recs returns records {"id": from}..{"id": to} inclusive (none when to <
// from).
func recs(from, to int) []map[string]any {
	out := []map[string]any{}
	for i := from; i <= to; i++ {
		out = append(out, map[string]any{"id": i, "name": "r" + strconv.Itoa(i)})
	}
	return out
}

// result is what a pipeline run left.
type result struct {
	sum  *pipeline.Summary
	err  error
	logs string
	dest string
}

// run parses src (a pipeline file; "{{API}}" is replaced by base, and
// secrets come from env) and runs it into a fresh DuckDB file.
func run(t *testing.T, src, base string, env map[string]string) result {
	t.Helper()
	p := parse(t, src, base, env)
	dir := t.TempDir()
	dest := "duckdb:" + filepath.Join(dir, "out.duckdb")
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sum, err := pipeline.Run(context.Background(), p, pipeline.Options{
		Destination: dest, WorkDir: filepath.Join(dir, "work"), Logger: log, Workers: 2,
	})
	return result{sum: sum, err: err, logs: logs.String(), dest: dest}
}

// parse loads a pipeline file written as a string.
func parse(t *testing.T, src, base string, env map[string]string) *config.Pipeline {
	t.Helper()
	src = strings.ReplaceAll(src, "{{API}}", base)
	file := filepath.Join(t.TempDir(), "pipeline.yaml")
	p, err := config.Parse(file, []byte(src), config.LoadOptions{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if err != nil {
		t.Fatalf("pipeline file:\n%s\n%v", src, err)
	}
	return p
}

// mustRun is run that fails the test when the run fails.
func mustRun(t *testing.T, src, base string, env map[string]string) result {
	t.Helper()
	r := run(t, src, base, env)
	if r.err != nil {
		t.Fatalf("run failed: %v\nlogs:\n%s", r.err, r.logs)
	}
	return r
}

// rows reads every row of table in dataset "conformance".
func (r result) rows(t *testing.T, table string) []map[string]any {
	t.Helper()
	d, err := destination.Open(context.Background(), r.dest, "conformance")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var out []map[string]any
	if err := d.Read(context.Background(), table, func(row map[string]any) error {
		out = append(out, row)
		return nil
	}); err != nil {
		t.Fatalf("read table %s: %v", table, err)
	}
	return out
}

// hasTable reports whether table exists in the destination.
func (r result) hasTable(t *testing.T, table string) bool {
	t.Helper()
	d, err := destination.Open(context.Background(), r.dest, "conformance")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	return d.Read(context.Background(), table, func(map[string]any) error { return nil }) == nil
}

// ids returns the sorted values of column id in table.
func (r result) ids(t *testing.T, table string) []int {
	t.Helper()
	var out []int
	for _, row := range r.rows(t, table) {
		n, err := toInt(row["id"])
		if err != nil {
			t.Fatalf("table %s: id %v (%T): %v", table, row["id"], row["id"], err)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func toInt(v any) (int, error) {
	switch x := v.(type) {
	case int64:
		return int(x), nil
	case int32:
		return int(x), nil
	case int:
		return x, nil
	case float64:
		return int(x), nil
	case string:
		return strconv.Atoi(x)
	}
	return 0, fmt.Errorf("not an integer")
}

// seq returns from..to inclusive.
func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// qint reads an integer query parameter of r, def when absent.
func qint(r *http.Request, name string, def int) int {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

// bodyOf decodes r's JSON body (nil when empty).
func bodyOf(r *http.Request) map[string]any {
	var m map[string]any
	_ = json.NewDecoder(r.Body).Decode(&m)
	return m
}

// oneResource is a pipeline file with one resource, items, whose endpoint
// is the given YAML flow mapping.
func oneResource(endpoint string) string {
	return `pipeline: {name: conformance, dataset: conformance}
source:
  client: {base_url: "{{API}}"}
  resources:
    - name: items
      endpoint: ` + endpoint + "\n"
}
