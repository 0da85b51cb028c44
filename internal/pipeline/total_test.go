package pipeline_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/pipeline"
)

// totalSpy is an Observer that also wants record totals.
type totalSpy struct {
	mu     sync.Mutex
	totals map[string]int64
}

func (s *totalSpy) Page(string, int, int) {}
func (s *totalSpy) Retry(string)          {}
func (s *totalSpy) Total(resource string, total int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.totals[resource] = total
}

// TestTotalReachesProgress: the record total an offset API gives
// (total_path) reaches an Observer that implements TotalObserver, for a
// root resource only (a child's total is per parent record).
func TestTotalReachesProgress(t *testing.T) {
	const total = 25
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/items" {
			fmt.Fprint(w, `{"total":`+strconv.Itoa(total)+`,"data":[`)
			for i := off; i < min(off+10, total); i++ {
				if i > off {
					fmt.Fprint(w, ",")
				}
				fmt.Fprintf(w, `{"id":%d}`, i)
			}
			fmt.Fprint(w, "]}")
			return
		}
		fmt.Fprint(w, `{"total":1,"data":[{"n":1}]}`)
	}))
	defer srv.Close()
	yml := `
pipeline: {name: totals, dataset: totals}
source:
  client: {base_url: ` + srv.URL + `}
  resources:
    - name: items
      endpoint: {path: /items, data_selector: data, paginator: {type: offset, limit: 10}}
    - name: details
      endpoint: {path: "/items/{resources.items.id}/details", data_selector: data, paginator: {type: offset, limit: 10}}
`
	p, err := config.Parse("totals.yaml", []byte(yml), config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	spy := &totalSpy{totals: map[string]int64{}}
	if _, err := pipeline.Run(context.Background(), p, pipeline.Options{Destination: "duckdb:" + filepath.Join(dir, "t.duckdb"), WorkDir: dir, Observer: spy}); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(spy.totals); got != "map[items:25]" {
		t.Errorf("totals %s, want map[items:25] (the child's per-parent total not passed)", got)
	}
}
