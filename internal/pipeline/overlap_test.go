package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/pipeline"
	"github.com/restload/restload/internal/schema"
)

// spy is a DuckDB destination that tells when a table's rows were written
// into the open transaction, and can fail a table's writes.
type spy struct {
	path      string
	watch     string        // table whose Write closes written
	written   chan struct{} // closed after watch's first successful Write
	once      sync.Once
	failTable string // table whose Write fails
}

// newSpy makes a spy over a fresh DuckDB file and returns it with the
// destination URL to run with (open it with open).
func newSpy(t *testing.T, watch, failTable string) (*spy, string) {
	t.Helper()
	s := &spy{path: filepath.Join(t.TempDir(), "spy.duckdb"), watch: watch, failTable: failTable, written: make(chan struct{})}
	return s, "duckdb:" + s.path
}

// open opens the spy's DuckDB file, spied on: a run's Options.OpenDestination.
func (s *spy) open(ctx context.Context, url, dataset string) (destination.Destination, error) {
	d, err := destination.Open(ctx, url, dataset)
	if err != nil {
		return nil, err
	}
	return &spyDest{Destination: d, s: s}, nil
}

type spyDest struct {
	destination.Destination
	s *spy
}

func (d *spyDest) Begin(ctx context.Context) (destination.Tx, error) {
	tx, err := d.Destination.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &spyTx{Tx: tx, s: d.s}, nil
}

type spyTx struct {
	destination.Tx
	s *spy
}

func (t *spyTx) Write(ctx context.Context, tb *schema.Table, mode destination.Mode, rows destination.RowSource) (int64, error) {
	if tb.Name == t.s.failTable {
		return 0, errors.New("spy: no space left on device")
	}
	n, err := t.Tx.Write(ctx, tb, mode, rows)
	if err == nil && tb.Name == t.s.watch {
		t.s.once.Do(func() { close(t.s.written) })
	}
	return n, err
}

// overlapAPI serves three lists: /fast (one page), /slow (one page, served
// only once release is closed or the request is cancelled), and /broken
// (page 1, then 403 on page 2).
type overlapAPI struct {
	*httptest.Server
	release <-chan struct{}
	mu      sync.Mutex
	// slowWaited is how the /slow request ended its wait: "released",
	// "cancelled" or "gave up".
	slowWaited string
}

func newOverlapAPI(t *testing.T, release <-chan struct{}) *overlapAPI {
	t.Helper()
	a := &overlapAPI{release: release}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

func (a *overlapAPI) serve(w http.ResponseWriter, r *http.Request) {
	items := func(prefix string, n int) []map[string]any {
		var out []map[string]any
		for i := 1; i <= n; i++ {
			out = append(out, map[string]any{"id": fmt.Sprintf("%s-%d", prefix, i), "tags": []string{"a", "b"}})
		}
		return out
	}
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	switch r.URL.Path {
	case "/fast":
		reply(map[string]any{"items": items("f", 3)})
	case "/slow":
		// Not a timing assertion: a guard so a broken overlap fails the
		// test instead of hanging it.
		how := "released"
		select {
		case <-a.release:
		case <-r.Context().Done():
			how = "cancelled"
		case <-time.After(30 * time.Second):
			how = "gave up"
		}
		a.mu.Lock()
		a.slowWaited = how
		a.mu.Unlock()
		if how == "cancelled" {
			return
		}
		reply(map[string]any{"items": items("s", 2)})
	case "/broken":
		if r.URL.Query().Get("page") == "2" {
			w.WriteHeader(http.StatusForbidden)
			reply(map[string]any{"message": "no access"})
			return
		}
		reply(map[string]any{"items": items("b", 4), "next": a.URL + "/broken?page=2"})
	default:
		http.NotFound(w, r)
	}
}

func (a *overlapAPI) waited() string {
	// The handler sees a cancelled request a moment after the client
	// gave up on it: wait (boundedly) for it to say how its wait ended.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		a.mu.Lock()
		how := a.slowWaited
		a.mu.Unlock()
		if how != "" || time.Now().After(deadline) {
			return how
		}
	}
}

const overlapPipeline = `
pipeline: {name: overlap, dataset: overlap}
retry: {max_retries: 0}
source:
  client:
    base_url: BASE
  resources:
    - name: fast
      primary_key: id
      write_disposition: merge
      endpoint: {path: fast, data_selector: items, paginator: single_page}
    - name: slow
      endpoint: {path: slow, data_selector: items, paginator: single_page}
    - name: broken
      endpoint: {path: broken, data_selector: items, paginator: {type: json_link, next_url_path: next}}
`

func overlapRun(t *testing.T, api *overlapAPI, s *spy, dest string) (*pipeline.Summary, string, error) {
	t.Helper()
	src := strings.ReplaceAll(overlapPipeline, "BASE", api.URL)
	p, err := config.Parse(filepath.Join(t.TempDir(), "overlap.yaml"), []byte(src), config.LoadOptions{})
	if err != nil {
		t.Fatalf("parse pipeline:\n%v", err)
	}
	work := filepath.Join(t.TempDir(), "work")
	sum, err := pipeline.Run(context.Background(), p, pipeline.Options{Destination: dest, OpenDestination: s.open, WorkDir: work})
	return sum, work, err
}

// TestLoadOverlapsExtraction: a resource is loaded into the open
// transaction while another still extracts (the slow resource's only
// request is answered once the fast one's rows were written), a resource
// that fails after writing rows leaves nothing, and the others commit
// together.
func TestLoadOverlapsExtraction(t *testing.T) {
	s, dest := newSpy(t, "fast", "")
	api := newOverlapAPI(t, s.written)
	sum, _, err := overlapRun(t, api, s, dest)
	if how := api.waited(); how != "released" {
		t.Fatalf("the slow resource's request %s before the fast resource was loaded: loading does not overlap extraction", how)
	}
	var perr *pipeline.Error
	if !errors.As(err, &perr) || len(perr.Failed) != 1 || !strings.Contains(err.Error(), "resource broken: page 2: ") {
		t.Fatalf("run error %v, want resource broken failing on page 2 alone", err)
	}
	status := map[string]string{}
	for _, r := range sum.Resources {
		status[r.Name] = string(r.Status)
	}
	if want := map[string]string{"fast": "loaded", "slow": "loaded", "broken": "failed"}; fmt.Sprint(status) != fmt.Sprint(want) {
		t.Errorf("resource statuses %v, want %v", status, want)
	}

	d, err := destination.Open(context.Background(), "duckdb:"+s.path, "overlap")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for table, want := range map[string]int{"fast": 3, "fast__tags": 6, "slow": 2, "slow__tags": 4} {
		if got := len(readKeys(t, d, table, schema.ColID)); got != want {
			t.Errorf("table %s holds %d rows, want %d", table, got, want)
		}
	}
	if err := d.Read(context.Background(), "broken", func(map[string]any) error { return nil }); !errors.Is(err, destination.ErrNoTable) {
		t.Errorf("reading table broken: %v, want no such table (a failed resource's first page was loaded)", err)
	}
	loads, err := load.Loads(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if len(loads) != 1 || loads[0].LoadID != sum.LoadID || loads[0].Rows["fast"] != 3 || loads[0].Rows["slow"] != 2 || loads[0].Rows["broken"] != 0 {
		t.Errorf("loads table %+v, want one load %s with 3 fast and 2 slow rows", loads, sum.LoadID)
	}
	vs, err := load.Versions(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].Schema.Table("fast") == nil || vs[0].Schema.Table("slow") == nil || vs[0].Schema.Table("broken") != nil {
		t.Errorf("schema versions %+v, want one with fast and slow and without broken", vs)
	}
}

// TestLoadErrorStopsExtraction: when loading a finished resource fails, the
// resources still extracting are cancelled, nothing is committed, and the
// unsealed package is removed.
func TestLoadErrorStopsExtraction(t *testing.T) {
	s, dest := newSpy(t, "", "fast")
	api := newOverlapAPI(t, nil)
	_, work, err := overlapRun(t, api, s, dest)
	if err == nil || !strings.Contains(err.Error(), "resource fast: ") || !strings.Contains(err.Error(), "spy: no space left on device") {
		t.Fatalf("run error %v, want the fast resource's load error", err)
	}
	var perr *pipeline.Error
	if errors.As(err, &perr) {
		t.Errorf("run error is a *pipeline.Error (some resources loaded), want a plain error: %v", err)
	}
	if how := api.waited(); how != "cancelled" {
		t.Errorf("the slow resource's request %s, want cancelled by the failed load", how)
	}
	d, err := destination.Open(context.Background(), "duckdb:"+s.path, "overlap")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, table := range []string{"fast", "slow", "broken", load.LoadsTable} {
		if err := d.Read(context.Background(), table, func(map[string]any) error { return nil }); !errors.Is(err, destination.ErrNoTable) {
			t.Errorf("reading table %s: %v, want no such table (nothing committed)", table, err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(work, "packages"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("packages left after a failed load: %v", entries)
	}
}
