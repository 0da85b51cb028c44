package conformance

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// signals answers every request with one record and every pagination signal
// the precedence test's paginators read: a page count of 2, an item count
// of 2 and a cursor on the first request of each path.
func signals(w http.ResponseWriter, r *http.Request, n int) {
	body := map[string]any{"data": recs(n, n), "total": 2}
	if n == 1 {
		body["next_c"] = "x1"
	}
	writeJSON(w, body)
}

// TestPaginatorPrecedence checks that the endpoint's paginator wins over
// resource_defaults', which wins over the client's, by the parameters each
// resource sends.
func TestPaginatorPrecedence(t *testing.T) {
	a := newAPI(t, signals)
	src := `pipeline: {name: conformance, dataset: conformance}
source:
  client:
    base_url: "{{API}}"
    paginator: {type: cursor, cursor_path: next_c, cursor_param: c}
  resource_defaults:
    endpoint:
      paginator: {type: offset, limit: 1}
  resources:
    - {name: by_endpoint, endpoint: {path: /a, paginator: {type: page_number, base_page: 1}}}
    - {name: by_defaults, endpoint: {path: /b}}
`
	res := mustRun(t, src, a.URL, nil)
	if got := a.Params("/a", "page"); !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("endpoint paginator: page sent as %q, want [1 2] (requests %+v)", got, a.Requests("/a"))
	}
	if got := a.Params("/b", "offset"); !slices.Equal(got, []string{"0", "1"}) {
		t.Errorf("resource_defaults paginator: offset sent as %q, want [0 1] (requests %+v)", got, a.Requests("/b"))
	}
	for _, table := range []string{"by_endpoint", "by_defaults"} {
		if got := res.ids(t, table); !slices.Equal(got, []int{1, 2}) {
			t.Errorf("table %s holds ids %v, want [1 2]", table, got)
		}
	}

	// Without resource_defaults, the client's paginator applies.
	b := newAPI(t, signals)
	src = `pipeline: {name: conformance, dataset: conformance}
source:
  client:
    base_url: "{{API}}"
    paginator: {type: cursor, cursor_path: next_c, cursor_param: c}
  resources:
    - {name: by_client, endpoint: {path: /c}}
`
	res = mustRun(t, src, b.URL, nil)
	if got := b.Params("/c", "c"); !slices.Equal(got, []string{"", "x1"}) {
		t.Errorf("client paginator: c sent as %q, want [\"\" x1] (requests %+v)", got, b.Requests("/c"))
	}
	if got := res.ids(t, "by_client"); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("table by_client holds ids %v, want [1 2]", got)
	}
}

// TestAutoDetection leaves the paginator out and checks that each kind of
// API is paged the way its first response asks, or read as one page with a
// warning.
func TestAutoDetection(t *testing.T) {
	cases := []struct {
		name       string
		handle     func(w http.ResponseWriter, r *http.Request, n int)
		param      string
		wantParams []string
		anyOrder   bool // pages fetched ahead in parallel (a known total)
		wantIDs    []int
		wantLog    string
	}{
		{
			name: "Link header",
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				if n < 3 {
					w.Header().Set("Link", fmt.Sprintf(`<http://%s/items?page=%d>; rel="next"`, r.Host, n+1))
				}
				writeJSON(w, recs(2*n-1, 2*n))
			},
			param: "page", wantParams: []string{"", "2", "3"}, wantIDs: seq(1, 6),
			wantLog: "Link header",
		},
		{
			name: "next URL in the body",
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				var next any
				if n < 3 {
					next = fmt.Sprintf("http://%s/items?page=%d", r.Host, n+1)
				}
				writeJSON(w, map[string]any{"results": recs(2*n-1, 2*n), "next": next})
			},
			param: "page", wantParams: []string{"", "2", "3"}, wantIDs: seq(1, 6),
			wantLog: "next URL",
		},
		{
			name: "total pages",
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": pagesOf2(qint(r, "page", 1), 1, 3), "total_pages": 3})
			},
			param: "page", wantParams: []string{"", "2", "3"}, anyOrder: true, wantIDs: seq(1, 6),
			wantLog: "page count",
		},
		{
			name: "next cursor",
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				body := map[string]any{"items": recs(2*n-1, 2*n)}
				if n < 3 {
					body["next_cursor"] = fmt.Sprint("q", n+1)
				}
				writeJSON(w, body)
			},
			param: "cursor", wantParams: []string{"", "q2", "q3"}, wantIDs: seq(1, 6),
			wantLog: "cursor",
		},
		{
			name: "nothing: one page and a warning",
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": recs(1, 3), "count": 3})
			},
			param: "page", wantParams: []string{""}, wantIDs: seq(1, 3),
			wantLog: "level=WARN msg=\"no paginator configured and none detected: reading one page only\"",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(t, tc.handle)
			res := mustRun(t, oneResource(`{path: /items}`), a.URL, nil)
			if got := res.ids(t, "items"); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("ids %v, want %v", got, tc.wantIDs)
			}
			got := a.Params("/items", tc.param)
			if tc.anyOrder {
				slices.Sort(got)
			}
			if !slices.Equal(got, tc.wantParams) {
				t.Errorf("%s sent as %q, want %q", tc.param, got, tc.wantParams)
			}
			if !strings.Contains(res.logs, tc.wantLog) {
				t.Errorf("log does not mention %q:\n%s", tc.wantLog, res.logs)
			}
		})
	}
}

// TestDataSelectorDetection serves the same three records in each common
// envelope, with no data_selector configured.
func TestDataSelectorDetection(t *testing.T) {
	three := recs(1, 3)
	cases := []struct {
		name     string
		body     any
		selector string // configured data_selector, "" to detect
		wantIDs  []int
	}{
		{name: "list at the root", body: three, wantIDs: seq(1, 3)},
		{name: "data", body: map[string]any{"data": three, "count": 3, "tags": []any{"x"}}, wantIDs: seq(1, 3)},
		{name: "items", body: map[string]any{"items": three, "aaa": []any{map[string]any{"id": 99}}}, wantIDs: seq(1, 3)},
		{name: "results", body: map[string]any{"results": three, "next": nil}, wantIDs: seq(1, 3)},
		{name: "entries", body: map[string]any{"entries": three, "total": 3}, wantIDs: seq(1, 3)},
		{name: "records", body: map[string]any{"records": three}, wantIDs: seq(1, 3)},
		{name: "conventional key holding an object", body: map[string]any{"data": map[string]any{"items": three}}, wantIDs: seq(1, 3)},
		{name: "nested list", body: map[string]any{"meta": map[string]any{"n": 3}, "response": map[string]any{"body": map[string]any{"users": three}}}, wantIDs: seq(1, 3)},
		{name: "no list: one record", body: map[string]any{"id": 7, "name": "only"}, wantIDs: []int{7}},
		{name: "configured selector wins", body: map[string]any{"data": recs(90, 91), "result": map[string]any{"rows": three}}, selector: "result.rows", wantIDs: seq(1, 3)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, tc.body) })
			ep := `{path: /items, paginator: single_page}`
			if tc.selector != "" {
				ep = `{path: /items, paginator: single_page, data_selector: ` + tc.selector + `}`
			}
			res := mustRun(t, oneResource(ep), a.URL, nil)
			if got := res.ids(t, "items"); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("ids %v, want %v", got, tc.wantIDs)
			}
		})
	}
}

// TestSingleEntityPath: a child endpoint whose path ends in a placeholder
// names one entity. Its whole response is the record, even when it holds a
// list (which would otherwise be taken for the records), and one page is
// read even though the client names a paginator.
func TestSingleEntityPath(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/users" {
			writeJSON(w, map[string]any{"data": recs(1, 3), "next": nil})
			return
		}
		var id int
		if _, err := fmt.Sscanf(r.URL.Path, "/users/%d", &id); err != nil {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, map[string]any{"id": id, "email": fmt.Sprintf("u%d@example.com", id),
			"roles": []any{map[string]any{"id": 100 + id}, map[string]any{"id": 200 + id}},
			"next":  fmt.Sprintf("http://%s/users/%d?again=1", r.Host, id)})
	})
	src := `pipeline: {name: conformance, dataset: conformance}
source:
  client:
    base_url: "{{API}}"
    paginator: json_link
  resources:
    - {name: users, endpoint: {path: /users}}
    - {name: user_details, endpoint: {path: "/users/{resources.users.id}"}}
`
	res := mustRun(t, src, a.URL, nil)
	if got := res.ids(t, "user_details"); !slices.Equal(got, seq(1, 3)) {
		t.Errorf("user_details ids %v, want [1 2 3] (one row per user)", got)
	}
	if got := len(res.rows(t, "user_details__roles")); got != 6 {
		t.Errorf("user_details__roles has %d rows, want 6", got)
	}
	for _, s := range a.Requests("") {
		if s.RawQuery != "" {
			t.Errorf("request %s?%s: a single entity was paged", s.Path, s.RawQuery)
		}
	}
}
