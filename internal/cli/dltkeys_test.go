package cli_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// pagedAPI serves /items with page_number pages of two records each, the
// cursor "updated" taking vals in the order given, and a "total" holding
// the record count (as many APIs do, which dlt would read as pages). It
// records the pages asked for.
func pagedAPI(t *testing.T, vals []int) (*httptest.Server, func() []int) {
	t.Helper()
	var mu sync.Mutex
	var asked []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/items" {
			http.NotFound(w, r)
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		mu.Lock()
		asked = append(asked, page)
		mu.Unlock()
		items := []map[string]any{}
		for i := (page - 1) * 2; i >= 0 && i < page*2 && i < len(vals); i++ {
			items = append(items, map[string]any{"id": vals[i], "updated": vals[i]})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"items": items, "total": len(vals)})
	}))
	t.Cleanup(srv.Close)
	return srv, func() []int {
		mu.Lock()
		defer mu.Unlock()
		s := slices.Clone(asked)
		slices.Sort(s)
		return s
	}
}

// TestTotalPathNullTurnsTotalOff: paginator.total_path: null, as in dlt,
// means no total: the record count under "total" is not read as a page
// count, and paging ends at the first empty page. The endpoint is given as
// a string (its path), as dlt's tests write it.
func TestTotalPathNullTurnsTotalOff(t *testing.T) {
	srv, asked := pagedAPI(t, []int{1, 2, 3, 4, 5, 6})
	file := writePipeline(t, `pipeline: {name: tp, dataset: tp}
source:
  client:
    base_url: {{API}}
    paginator: {type: page_number, base_page: 1, total_path: null}
  resources:
    - name: things
      endpoint: items
`, srv.URL)
	dest := "duckdb:" + filepath.Join(t.TempDir(), "tp.duckdb")
	code, out, errOut := run(t, "run", file, "--dest", dest, "--progress", "none", "--work-dir", filepath.Join(t.TempDir(), "w"))
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := asked(); !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Errorf("pages asked for: %v, want [1 2 3 4] (three full pages and the empty one that ends it)", got)
	}
	if n := countIn(t, dest, "tp", "things"); n != 6 {
		t.Errorf("things has %d rows, want 6", n)
	}
}

// TestRowOrderStopsPaging: incremental.row_order tells restload, as it
// tells dlt, the order the API returns records in; once a record is past
// the range in that order (past end_value ascending, before the start
// descending) no further page is requested.
func TestRowOrderStopsPaging(t *testing.T) {
	for _, tc := range []struct {
		name  string
		vals  []int
		inc   string
		pages []int
		rows  int
	}{
		{"asc", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, `{cursor_path: updated, initial_value: 0, end_value: 5, row_order: asc}`, []int{1, 2, 3}, 4},
		{"desc", []int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, `{cursor_path: updated, initial_value: 6, row_order: desc}`, []int{1, 2, 3}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, asked := pagedAPI(t, tc.vals)
			file := writePipeline(t, `pipeline: {name: ro, dataset: ro}
source:
  client: {base_url: "{{API}}"}
  resources:
    - name: things
      endpoint:
        path: items
        paginator: {type: page_number, base_page: 1, total_path: null}
        incremental: `+tc.inc+`
`, srv.URL)
			dest := "duckdb:" + filepath.Join(t.TempDir(), "ro.duckdb")
			code, out, errOut := run(t, "run", file, "--dest", dest, "--progress", "none", "--work-dir", filepath.Join(t.TempDir(), "w"))
			if code != 0 {
				t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
			}
			if got := asked(); !slices.Equal(got, tc.pages) {
				t.Errorf("pages asked for: %v, want %v", got, tc.pages)
			}
			if n := countIn(t, dest, "ro", "things"); n != tc.rows {
				t.Errorf("things has %d rows, want %d", n, tc.rows)
			}
		})
	}
}
