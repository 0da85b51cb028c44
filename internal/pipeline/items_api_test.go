package pipeline_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/pipeline"
)

// pagesAPI serves one resource in pages; pages[phase][page-1] is the
// page's JSON list, past the last an empty one. Tests set the phase
// between runs.
type pagesAPI struct {
	phase atomic.Int32
	pages [][]string
}

func (a *pagesAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pages := a.pages[a.phase.Load()]
	body := "[]"
	if page >= 1 && page <= len(pages) {
		body = pages[page-1]
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, body)
}

// muxOf serves each API at its path prefix.
func muxOf(apis map[string]*pagesAPI) http.Handler {
	mux := http.NewServeMux()
	for prefix, api := range apis {
		mux.Handle(prefix, api)
	}
	return mux
}

// itemsPipeline loads /items, page by page, into the table items; extra
// adds keys to the resource (indented for it) or further resources.
const itemsPipeline = `pipeline: {name: items, dataset: %s}
source:
  client:
    base_url: %s
    paginator: {type: page_number, base_page: 1, total_path: null, stop_after_empty_page: true}
  resources:
    - name: items
      endpoint: {path: items}
%s`

// itemsRun is a pipeline of itemsPipeline and where it loads.
type itemsRun struct {
	p             *config.Pipeline
	dest, dataset string
	work          string
}

func newItemsRun(t *testing.T, dest, dataset, baseURL, extra string) *itemsRun {
	t.Helper()
	work := t.TempDir()
	p, err := config.Parse(filepath.Join(work, "items.yaml"), []byte(fmt.Sprintf(itemsPipeline, dataset, baseURL, extra)), config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &itemsRun{p: p, dest: dest, dataset: dataset, work: work}
}

// run runs the pipeline once.
func (r *itemsRun) run() error {
	_, err := pipeline.Run(context.Background(), r.p, pipeline.Options{Destination: r.dest, WorkDir: r.work})
	return err
}

// rows reads table's rows as tableRows does.
func (r *itemsRun) rows(t *testing.T, table string, cols ...string) []string {
	t.Helper()
	d, err := destination.Open(context.Background(), r.dest, r.dataset)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	return tableRows(t, d, table, cols...)
}

// wantRows fails t unless got is want.
func wantRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// allDestinations are driftDestinations and the file destinations, each
// opened fresh for a test: URL and dataset.
func allDestinations() map[string]func(t *testing.T) (string, string) {
	m := driftDestinations(nil)
	m["jsonl"] = func(t *testing.T) (string, string) { return "jsonl:" + t.TempDir(), "test" }
	m["parquet"] = func(t *testing.T) (string, string) { return "parquet:" + t.TempDir(), "test" }
	return m
}
