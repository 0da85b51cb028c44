package pipeline_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/config"
)

// prefetchAPI serves /items?page=N: 6 pages (total_pages: 6) of records
// {id, src}; id "dup" is on page 2 and page 5. Page 5 answers only once
// page 2 has been asked for, and page 2 only once page 5 has been
// answered, so page 5 arrives first when pages are fetched ahead. Page
// failPage (if set) answers 403.
func prefetchAPI(t *testing.T, failPage int) *httptest.Server {
	page2, page5 := make(chan struct{}), make(chan struct{})
	wait := func(r *http.Request, ch chan struct{}) bool {
		select {
		case <-ch:
			return true
		case <-r.Context().Done():
		case <-time.After(10 * time.Second): // fails the test rather than hanging it
		}
		return false
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("page"))
		switch n {
		case 2:
			close(page2)
			if failPage == 0 && !wait(r, page5) {
				http.Error(w, `{"message": "page 5 was not asked for in parallel"}`, http.StatusBadRequest)
				return
			}
		case 5:
			defer close(page5)
			if !wait(r, page2) {
				http.Error(w, `{"message": "page 2 was not asked for in parallel"}`, http.StatusBadRequest)
				return
			}
		}
		if n == failPage {
			http.Error(w, `{"message": "no access"}`, http.StatusForbidden)
			return
		}
		recs := []map[string]any{
			{"id": fmt.Sprintf("p%d-a", n), "src": n},
			{"id": fmt.Sprintf("p%d-b", n), "src": n},
		}
		if n == 2 || n == 5 {
			recs = append(recs, map[string]any{"id": "dup", "src": n})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": recs, "total_pages": 6})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func prefetchPipeline(t *testing.T, base string) *config.Pipeline {
	t.Helper()
	src := `
pipeline: {name: paged, dataset: paged}
retry: {max_retries: 0}
source:
  client: {base_url: ` + base + `}
  resources:
    - name: items
      primary_key: id
      write_disposition: merge
      endpoint:
        path: items
        data_selector: data
        paginator: {type: page_number, base_page: 1, total_path: total_pages}
`
	p, err := config.Parse(filepath.Join(t.TempDir(), "paged.yaml"), []byte(src), config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPrefetchedPagesLoadInPageOrder: pages fetched ahead arrive out of
// order, yet the merge keeps the copy of "dup" from page 5, the later
// page, as a page-by-page run would.
func TestPrefetchedPagesLoadInPageOrder(t *testing.T) {
	srv := prefetchAPI(t, 0)
	dest := filepath.Join(t.TempDir(), "paged.duckdb")
	sum, err := runForge(t, prefetchPipeline(t, srv.URL), dest)
	if err != nil {
		t.Fatal(err)
	}
	got := rows(t, dest, "paged", "items", "id", "src")
	var want []string
	for n := 1; n <= 6; n++ {
		want = append(want, fmt.Sprintf("p%d-a %d", n, n), fmt.Sprintf("p%d-b %d", n, n))
	}
	want = append(want, "dup 5")
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("items rows\n %q\nwant\n %q", got, want)
	}
	if sum.Resources[0].Pages != 6 {
		t.Errorf("summary counts %d pages, want 6", sum.Resources[0].Pages)
	}
}

// TestPrefetchedPageErrorLoadsNothing: page 3 fails while later pages are
// fetched ahead: the run names the resource, page and URL, and nothing of
// the resource is loaded.
func TestPrefetchedPageErrorLoadsNothing(t *testing.T) {
	srv := prefetchAPI(t, 3)
	dest := filepath.Join(t.TempDir(), "paged.duckdb")
	_, err := runForge(t, prefetchPipeline(t, srv.URL), dest)
	if err == nil {
		t.Fatal("run succeeded; page 3 answers 403")
	}
	want := "resource items: page 3: GET " + srv.URL + "/items?page=3: 403 Forbidden"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error does not contain %q:\n%v", want, err)
	}
	if hasTable(t, dest, "paged", "items") {
		t.Error("items table exists: a failed resource was loaded")
	}
}
