package examples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/restload/restload/internal/apitest"
	"github.com/restload/restload/internal/cli"
	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	_ "github.com/restload/restload/internal/destination/duckdb"
	"github.com/restload/restload/internal/pipeline"
)

// example is one pipeline file of this directory and the API it is run
// against. serve starts the API and returns the environment the file reads
// (base URLs and secrets) and the assertions on the run.
type example struct {
	file  string
	serve func(t *testing.T) (env map[string]string, verify func(t *testing.T, r *result))
}

// examples lists every example run here, by file.
var examples = []example{
	{"pokeapi/pipeline.yaml", servePokeAPI},
	{"github/pipeline.yaml", serveGitHub},
	{"stripe/stripe.json", serveStripe},
	{"zendesk/pipeline.yaml", serveZendesk},
	{"pipedrive/pipeline.yaml", servePipedrive},
	{"zoom/pipeline.yaml", serveZoom},
	{"post-search/pipeline.yaml", servePostSearch},
	{"header-cursor/pipeline.yaml", serveHeaderCursor},
	{"auto/pipeline.yaml", serveAuto},
}

// runElsewhere are examples that other packages' tests run end to end
// against restload's own mock APIs; here they only pass check.
var runElsewhere = map[string]map[string]string{
	// internal/pipeline TestSeedPipelineEndToEnd and internal/cli (demo).
	"analytics/pipeline.yaml": {"CLIENT_ID": "id", "CLIENT_SECRET": "secret", "CLIENT_REFRESH_TOKEN": "rt"},
	// internal/conformance TestSigmaExample.
	"sigma/pipeline.yaml": {"SIGMA_CLIENT_ID": "id", "SIGMA_CLIENT_SECRET": "secret"},
	// internal/pipeline TestForgeExample.
	"forge/pipeline.yaml": {},
}

// TestExamples runs each example, unchanged, against an API shaped like the
// real one, into a fresh DuckDB file: check must pass first, every resource
// must load, and the rows and the requests the API saw must be the ones
// the example's comments promise.
func TestExamples(t *testing.T) {
	for _, ex := range examples {
		t.Run(filepath.Dir(ex.file), func(t *testing.T) {
			env, verify := ex.serve(t)
			r := runExample(t, ex.file, env)
			verify(t, r)
		})
	}
}

// TestEveryExampleChecks runs restload check on every pipeline file in
// this directory, and fails for a file that no test runs.
func TestEveryExampleChecks(t *testing.T) {
	var files []string
	for _, pat := range []string{"*/*.yaml", "*/*.yml", "*/*.json"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < len(examples)+len(runElsewhere) {
		t.Fatalf("found %d example files (%v), want at least %d", len(files), files, len(examples)+len(runElsewhere))
	}
	for _, file := range files {
		file = filepath.ToSlash(file)
		t.Run(file, func(t *testing.T) {
			env, ok := runElsewhere[file]
			if !ok {
				i := slices.IndexFunc(examples, func(e example) bool { return e.file == file })
				if i < 0 {
					t.Fatalf("%s is not run by any test: add it to examples in examples_test.go", file)
				}
				env, _ = examples[i].serve(t)
			}
			for k, v := range env {
				t.Setenv(k, v)
			}
			mustCheck(t, file)
		})
	}
}

// mustCheck runs restload check on file with the process environment.
func mustCheck(t *testing.T, file string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := cli.Run(context.Background(), []string{"check", file}, &out, &errOut); code != 0 {
		t.Fatalf("restload check %s: exit %d\n%s%s", file, code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), file+": ok") {
		t.Fatalf("restload check %s does not say ok:\n%s", file, out.String())
	}
	return out.String()
}

// result is what one run of an example left.
type result struct {
	sum     *pipeline.Summary
	dest    string
	dataset string
	logs    string
}

// runExample sets env, checks file, and runs it into a new DuckDB file; it
// fails the test when a resource did not load.
func runExample(t *testing.T, file string, env map[string]string) *result {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	out := mustCheck(t, file)
	for _, v := range env {
		if strings.Contains(v, "secret") && strings.Contains(out, v) {
			t.Errorf("check printed the secret %q", v)
		}
	}
	p, err := config.Load(file, config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var logs syncBuffer
	r := &result{dest: "duckdb:" + filepath.Join(dir, "out.duckdb"), dataset: p.Pipeline.Dataset}
	r.sum, err = pipeline.Run(context.Background(), p, pipeline.Options{
		Destination: r.dest,
		WorkDir:     filepath.Join(dir, "work"),
		Logger:      slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	r.logs = logs.String()
	if err != nil {
		t.Fatalf("run %s: %v\nlogs:\n%s", file, err, r.logs)
	}
	for _, rs := range r.sum.Resources {
		if rs.Status != "loaded" {
			t.Errorf("resource %s: %s %s", rs.Name, rs.Status, rs.Error)
		}
	}
	return r
}

// rows reads every row of table.
func (r *result) rows(t *testing.T, table string) []map[string]any {
	t.Helper()
	d, err := destination.Open(context.Background(), r.dest, r.dataset)
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

// hasTable reports whether table exists.
func (r *result) hasTable(t *testing.T, table string) bool {
	t.Helper()
	d, err := destination.Open(context.Background(), r.dest, r.dataset)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	return d.Read(context.Background(), table, func(map[string]any) error { return nil }) == nil
}

// column returns the sorted values of col in table, as text.
func (r *result) column(t *testing.T, table, col string) []string {
	t.Helper()
	var out []string
	for _, row := range r.rows(t, table) {
		v, ok := row[col]
		if !ok {
			t.Fatalf("table %s has no column %s (row: %v)", table, col, row)
		}
		out = append(out, fmt.Sprint(v))
	}
	slices.Sort(out)
	return out
}

// wantColumn fails unless col of table holds exactly want (in any order).
func (r *result) wantColumn(t *testing.T, table, col string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := r.column(t, table, col); !slices.Equal(got, want) {
		t.Errorf("%s.%s = %v, want %v", table, col, got, want)
	}
}

// wantRows fails unless table has n rows.
func (r *result) wantRows(t *testing.T, table string, n int) {
	t.Helper()
	if got := len(r.rows(t, table)); got != n {
		t.Errorf("table %s has %d rows, want %d", table, got, n)
	}
}

// hit is one request as the API received it.
type hit = apitest.Request

// api is a recording test API (apitest.Server) with the examples' own
// assertions.
type api struct {
	*apitest.Server
}

func newAPI(t *testing.T, h http.HandlerFunc) *api {
	t.Helper()
	return &api{apitest.New(t, func(w http.ResponseWriter, r *http.Request, _ int) { h(w, r) })}
}

// wantEach fails unless fn holds for every request the API received.
func (a *api) wantEach(t *testing.T, what string, fn func(h hit) bool) {
	t.Helper()
	reqs := a.Requests("")
	if len(reqs) == 0 {
		t.Fatal("the API received no request")
	}
	for _, h := range reqs {
		if !fn(h) {
			t.Errorf("%s %s?%s: want %s (headers %v)", h.Method, h.Path, h.RawQuery, what, h.Header)
		}
	}
}

func wantStrings(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// window returns items[from:from+n], clamped.
func window[T any](items []T, from, n int) []T {
	from = min(max(from, 0), len(items))
	return items[from:min(from+n, len(items))]
}

// syncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
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
