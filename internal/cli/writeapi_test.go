package cli_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// newAPIUnderTest serves /items (25 records, page_number pages of
// ?limit=, "hasMore" at the root, records under "entries"),
// /items/{id}/notes (two notes per item) and /empty (no records), the way a
// new user's API might; requests counts what it served.
func newAPIUnderTest(t *testing.T) (srv *httptest.Server, requests *atomic.Int64) {
	t.Helper()
	requests = &atomic.Int64{}
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/items":
			page, _ := strconv.Atoi(r.URL.Query().Get("page"))
			limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
			if page < 1 || limit < 1 {
				http.Error(w, `{"error":"page and limit"}`, http.StatusBadRequest)
				return
			}
			var recs []map[string]any
			for i := (page-1)*limit + 1; i <= min(page*limit, 25); i++ {
				recs = append(recs, map[string]any{"id": i, "name": fmt.Sprintf("item %d", i), "price": float64(i) + 0.5,
					"tags": []string{"a", "b"}})
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"entries": recs, "total": 25, "hasMore": page*limit < 25})
		case strings.HasPrefix(r.URL.Path, "/items/") && strings.HasSuffix(r.URL.Path, "/notes"):
			id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/items/"), "/notes")
			fmt.Fprintf(w, `[{"note":"%s-1"},{"note":"%s-2"}]`, id, id)
		case r.URL.Path == "/empty":
			fmt.Fprint(w, `{"entries":[],"total":0}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, requests
}

// writeShopPipeline writes a pipeline file for srv into dir: items (pages of
// 10, data_selector as given), its child notes, and empty.
func writeShopPipeline(t *testing.T, dir string, srv *httptest.Server, selector string) string {
	t.Helper()
	src := fmt.Sprintf(`pipeline: {name: shop, dataset: shop}
source:
  client: {base_url: %q}
  resources:
    - name: items
      primary_key: id
      endpoint:
        path: items
        data_selector: %s
        params: {limit: 10}
        paginator: {type: page_number, base_page: 1, page_param: page, total_path: ""}
    - name: notes
      endpoint:
        path: "items/{resources.items.id}/notes"
    - name: empty
      endpoint:
        path: empty
        paginator: single_page
`, srv.URL, selector)
	file := filepath.Join(dir, "shop.yaml")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestRunNeverSilent: a wrong data_selector fails the run naming what the
// response has, and a resource that loads nothing says so in the summary
// (issue 13, part 1).
func TestRunNeverSilent(t *testing.T) {
	srv, _ := newAPIUnderTest(t)
	dir := t.TempDir()
	dest := "duckdb:" + filepath.Join(dir, "shop.duckdb")

	file := writeShopPipeline(t, dir, srv, "data.items")
	code, out, errOut := run(t, "run", file, "--dest", dest, "--progress", "none", "--resource", "items")
	if code == 0 {
		t.Fatalf("a data_selector that matches nothing exited 0\n%s\n%s", out, errOut)
	}
	want := `data_selector "data.items" matched nothing; the response has entries (list of 10), hasMore, total`
	if !strings.Contains(out+errOut, want) {
		t.Fatalf("output lacks %q:\nstdout:\n%s\nstderr:\n%s", want, out, errOut)
	}

	file = writeShopPipeline(t, dir, srv, "entries")
	code, out, errOut = run(t, "run", file, "--dest", dest, "--progress", "none")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if want := "  empty: no records: 1 page was read and none held records (check data_selector and params)"; !strings.Contains(out, want) {
		t.Errorf("the summary lacks %q:\n%s", want, out)
	}
	if strings.Contains(out, "items: no records") || strings.Contains(out, "notes: no records") {
		t.Errorf("the summary says a resource with records has none:\n%s", out)
	}
}

// TestRunLimit: run --limit N loads at most N records per resource (a
// child's over all its parent records), --max-pages N reads at most N
// pages per resource, and both stop without error and without reading
// further pages (issue 13, part 2).
func TestRunLimit(t *testing.T) {
	cases := []struct {
		name         string
		args         []string
		items, notes int
		maxRequests  int64
	}{
		{"limit", []string{"--limit", "12"}, 12, 12, 2 + 6 + 1},
		{"limit inside a page", []string{"--limit", "3"}, 3, 3, 1 + 2 + 1},
		{"max-pages", []string{"--max-pages", "2"}, 20, 4, 2 + 2 + 1},
		{"both", []string{"--max-pages", "1", "--limit", "5"}, 5, 2, 1 + 1 + 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, requests := newAPIUnderTest(t)
			dir := t.TempDir()
			dest := "duckdb:" + filepath.Join(dir, "shop.duckdb")
			file := writeShopPipeline(t, dir, srv, "entries")
			args := append([]string{"run", file, "--dest", dest, "--progress", "none", "--workers", "1"}, c.args...)
			code, out, errOut := run(t, args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			if got := countIn(t, dest, "shop", "items"); got != c.items {
				t.Errorf("items holds %d rows, want %d", got, c.items)
			}
			if got := countIn(t, dest, "shop", "notes"); got != c.notes {
				t.Errorf("notes holds %d rows, want %d", got, c.notes)
			}
			if n := requests.Load(); n > c.maxRequests {
				t.Errorf("%d requests, want at most %d", n, c.maxRequests)
			}
		})
	}
	code, _, errOut := run(t, "run", "x.yaml", "--limit", "-1")
	if code != 2 || !strings.Contains(errOut, "--limit and --max-pages take a positive number") {
		t.Errorf("--limit -1: exit %d, %s", code, errOut)
	}
}
