package conformance

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// pageCase is one paginator configuration against an API written for it.
type pageCase struct {
	name     string
	endpoint string // YAML flow mapping of the endpoint
	handle   func(w http.ResponseWriter, r *http.Request, n int)
	wantIDs  []int
	// param and wantParams: the value of param in each request, in order.
	param      string
	wantParams []string
	// anyOrder: the pages are fetched ahead in parallel (a known total),
	// so wantParams may arrive in any order, each once.
	anyOrder bool
	// wantBodies: a substring each request body must hold, in order.
	wantBodies []string
	wantErr    string // substring of the run's error; "" means success
}

// pagesOf2 serves records two per page: page p (from base) holds ids
// 2(p-base)+1 and 2(p-base)+2, and pages >= base+last are empty.
func pagesOf2(p, base, last int) []map[string]any {
	if p < base || p >= base+last {
		return recs(1, 0)
	}
	i := p - base
	return recs(2*i+1, 2*i+2)
}

// offsetPage serves records 1..total by offset and limit.
func offsetPage(offset, limit, total int) []map[string]any {
	return recs(offset+1, min(offset+limit, total))
}

func TestPaginators(t *testing.T) {
	cases := []pageCase{
		{
			name:     "single_page ignores next links",
			endpoint: `{path: /items, paginator: single_page}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": recs(1, 3), "next": "http://" + r.Host + "/items?page=2", "total_pages": 9})
			},
			wantIDs: seq(1, 3), param: "page", wantParams: []string{""},
		},
		{
			name:     "page_number by name: base_page 0, total counts pages",
			endpoint: `{path: /items, paginator: page_number}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": pagesOf2(qint(r, "page", -1), 0, 3), "total": 3})
			},
			wantIDs: seq(1, 6), param: "page", wantParams: []string{"0", "1", "2"}, anyOrder: true,
		},
		{
			name:     "page_number base_page 1 and nested total_path",
			endpoint: `{path: /items, paginator: {type: page_number, base_page: 1, page_param: p, total_path: meta.pages}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": pagesOf2(qint(r, "p", -1), 1, 3), "meta": map[string]any{"pages": 3}})
			},
			wantIDs: seq(1, 6), param: "p", wantParams: []string{"1", "2", "3"}, anyOrder: true,
		},
		{
			name:     "page_number starting at page 2",
			endpoint: `{path: /items, paginator: {type: page_number, base_page: 1, page: 2}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": pagesOf2(qint(r, "page", -1), 1, 3), "total": 3})
			},
			wantIDs: seq(3, 6), param: "page", wantParams: []string{"2", "3"},
		},
		{
			name:     "page_number stops after an empty page when there is no total",
			endpoint: `{path: /items, paginator: {type: page_number, base_page: 1}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": pagesOf2(qint(r, "page", -1), 1, 3)})
			},
			wantIDs: seq(1, 6), param: "page", wantParams: []string{"1", "2", "3", "4"},
		},
		{
			name:     "page_number maximum_page is not fetched",
			endpoint: `{path: /items, paginator: {type: page_number, base_page: 1, maximum_page: 3}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": pagesOf2(qint(r, "page", -1), 1, 100)})
			},
			wantIDs: seq(1, 4), param: "page", wantParams: []string{"1", "2"},
		},
		{
			name:     "page_number has_more_path false stops",
			endpoint: `{path: /items, paginator: {type: page_number, base_page: 1, has_more_path: meta.more}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				p := qint(r, "page", -1)
				writeJSON(w, map[string]any{"data": pagesOf2(p, 1, 100), "meta": map[string]any{"more": p < 3}})
			},
			wantIDs: seq(1, 6), param: "page", wantParams: []string{"1", "2", "3"},
		},
		{
			name:     "page_number has_more true does not override maximum_page (dlt #4225)",
			endpoint: `{path: /items, paginator: {type: page_number, base_page: 1, maximum_page: 3, has_more_path: has_more}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": pagesOf2(qint(r, "page", -1), 1, 100), "has_more": true})
			},
			wantIDs: seq(1, 4), param: "page", wantParams: []string{"1", "2"},
		},
		{
			name:     "page_number in a POST body at page_body_path",
			endpoint: `{path: /items, method: POST, json: {filter: {kind: a}}, paginator: {type: page_number, base_page: 1, page_body_path: paging.page, total_path: pages}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				b := bodyOf(r)
				paging, _ := b["paging"].(map[string]any)
				p, _ := paging["page"].(float64)
				if r.Method != http.MethodPost || b["filter"] == nil {
					http.Error(w, "want POST with the filter", http.StatusBadRequest)
					return
				}
				writeJSON(w, map[string]any{"data": pagesOf2(int(p), 1, 2), "pages": 2})
			},
			wantIDs:    seq(1, 4),
			wantBodies: []string{`"paging":{"page":1}`, `"paging":{"page":2}`},
		},
		{
			name:     "page_number with nothing to end pagination is an error",
			endpoint: `{path: /items, paginator: {type: page_number, stop_after_empty_page: false}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": recs(1, 2)})
			},
			wantErr: `total_path "total" not found in the response and nothing else can end pagination`,
		},
		{
			name:     "page_number total that is not a number is an error",
			endpoint: `{path: /items, paginator: {type: page_number}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": recs(1, 2), "total": "many"})
			},
			wantErr: `total_path "total" holds many, not a page count`,
		},
		{
			name:     "offset: limit and total items",
			endpoint: `{path: /items, paginator: {type: offset, limit: 2}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				if qint(r, "limit", 0) != 2 {
					http.Error(w, "limit=2 missing", http.StatusBadRequest)
					return
				}
				writeJSON(w, map[string]any{"data": offsetPage(qint(r, "offset", -1), 2, 5), "total": 5})
			},
			wantIDs: seq(1, 5), param: "offset", wantParams: []string{"0", "2", "4"}, anyOrder: true,
		},
		{
			name:     "offset: start offset, offset_param, limit_param, nested total_path",
			endpoint: `{path: /items, paginator: {type: offset, limit: 2, offset: 1, offset_param: skip, limit_param: take, total_path: meta.count}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				if qint(r, "take", 0) != 2 || r.URL.Query().Has("offset") || r.URL.Query().Has("limit") {
					http.Error(w, "want take=2 and no offset or limit", http.StatusBadRequest)
					return
				}
				writeJSON(w, map[string]any{"data": offsetPage(qint(r, "skip", -1), 2, 5), "meta": map[string]any{"count": 5}})
			},
			wantIDs: seq(2, 5), param: "skip", wantParams: []string{"1", "3"},
		},
		{
			name:     "offset: maximum_offset is not fetched",
			endpoint: `{path: /items, paginator: {type: offset, limit: 2, maximum_offset: 4, total_path: ""}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": offsetPage(qint(r, "offset", -1), 2, 1000)})
			},
			wantIDs: seq(1, 4), param: "offset", wantParams: []string{"0", "2"},
		},
		{
			name:     "offset: has_more true does not override maximum_offset",
			endpoint: `{path: /items, paginator: {type: offset, limit: 2, maximum_offset: 4, has_more_path: more}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": offsetPage(qint(r, "offset", -1), 2, 1000), "more": true})
			},
			wantIDs: seq(1, 4), param: "offset", wantParams: []string{"0", "2"},
		},
		{
			name:     "offset: has_more false stops",
			endpoint: `{path: /items, paginator: {type: offset, limit: 2, has_more_path: more}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				o := qint(r, "offset", -1)
				writeJSON(w, map[string]any{"data": offsetPage(o, 2, 1000), "more": o < 4})
			},
			wantIDs: seq(1, 6), param: "offset", wantParams: []string{"0", "2", "4"},
		},
		{
			name:     "offset: stops after an empty page without total",
			endpoint: `{path: /items, paginator: {type: offset, limit: 2, total_path: ""}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": offsetPage(qint(r, "offset", -1), 2, 5)})
			},
			wantIDs: seq(1, 5), param: "offset", wantParams: []string{"0", "2", "4", "6"},
		},
		{
			name:     "offset: in a POST body at offset_body_path and limit_body_path",
			endpoint: `{path: /items, method: POST, json: {q: x}, paginator: {type: offset, limit: 2, offset_body_path: page.offset, limit_body_path: page.limit}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				b := bodyOf(r)
				pg, _ := b["page"].(map[string]any)
				o, _ := pg["offset"].(float64)
				l, _ := pg["limit"].(float64)
				if b["q"] != "x" || l != 2 || r.URL.RawQuery != "" {
					http.Error(w, "want q, page.limit=2 and no query", http.StatusBadRequest)
					return
				}
				writeJSON(w, map[string]any{"data": offsetPage(int(o), 2, 3), "total": 3})
			},
			wantIDs:    seq(1, 3),
			wantBodies: []string{`"page":{"limit":2,"offset":0}`, `"page":{"limit":2,"offset":2}`},
		},
		{
			name:     "cursor by name: cursors.next sent as cursor, null stops",
			endpoint: `{path: /items, paginator: cursor}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				next := map[string]any{"": "c2", "c2": "c3", "c3": nil}[r.URL.Query().Get("cursor")]
				writeJSON(w, map[string]any{"data": recs(2*n-1, 2*n), "cursors": map[string]any{"next": next}})
			},
			wantIDs: seq(1, 6), param: "cursor", wantParams: []string{"", "c2", "c3"},
		},
		{
			name:     "cursor: cursor_path and cursor_param, a missing cursor stops",
			endpoint: `{path: /items, paginator: {type: cursor, cursor_path: meta.next_cursor, cursor_param: after}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				body := map[string]any{"data": recs(2*n-1, 2*n), "meta": map[string]any{}}
				if n < 3 {
					body["meta"] = map[string]any{"next_cursor": fmt.Sprintf("k%d", n+1)}
				}
				writeJSON(w, body)
			},
			wantIDs: seq(1, 6), param: "after", wantParams: []string{"", "k2", "k3"},
		},
		{
			name:     "cursor: an empty string stops",
			endpoint: `{path: /items, paginator: {type: cursor, cursor_path: next}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				next := ""
				if n == 1 {
					next = "abc"
				}
				writeJSON(w, map[string]any{"data": recs(2*n-1, 2*n), "next": next})
			},
			wantIDs: seq(1, 4), param: "cursor", wantParams: []string{"", "abc"},
		},
		{
			name:     "cursor: in a POST body at cursor_body_path",
			endpoint: `{path: /items, method: POST, json: {q: x}, paginator: {type: cursor, cursor_path: next, cursor_body_path: page.cursor}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				if bodyOf(r)["q"] != "x" {
					http.Error(w, "want q", http.StatusBadRequest)
					return
				}
				var next any
				if n == 1 {
					next = "zz"
				}
				writeJSON(w, map[string]any{"data": recs(2*n-1, 2*n), "next": next})
			},
			wantIDs:    seq(1, 4),
			wantBodies: []string{`{"q":"x"}`, `"page":{"cursor":"zz"}`},
		},
		{
			name:     "json_link: absolute next URL, null stops",
			endpoint: `{path: /items, paginator: json_link}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				var next any
				if n < 3 {
					next = fmt.Sprintf("http://%s/items?page=%d", r.Host, n+1)
				}
				writeJSON(w, map[string]any{"data": recs(2*n-1, 2*n), "next": next})
			},
			wantIDs: seq(1, 6), param: "page", wantParams: []string{"", "2", "3"},
		},
		{
			name:     "json_link: relative URLs at next_url_path",
			endpoint: `{path: /items, paginator: {type: json_link, next_url_path: links.next}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				next := map[int]any{1: "/items?page=2", 2: "?page=3", 3: ""}[n]
				writeJSON(w, map[string]any{"data": recs(2*n-1, 2*n), "links": map[string]any{"next": next}})
			},
			wantIDs: seq(1, 6), param: "page", wantParams: []string{"", "2", "3"},
		},
		{
			name:     "header_link: rel=next among other rels",
			endpoint: `{path: /items, paginator: header_link}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				if n < 3 {
					w.Header().Set("Link", fmt.Sprintf(`<http://%s/items?page=1>; rel="first", <http://%s/items?page=%d>; rel="next", <http://%s/items?page=3>; rel="last"`, r.Host, r.Host, n+1, r.Host))
				}
				writeJSON(w, recs(2*n-1, 2*n))
			},
			wantIDs: seq(1, 6), param: "page", wantParams: []string{"", "2", "3"},
		},
		{
			name:     "header_link: links_next_key and a relative link",
			endpoint: `{path: /items, paginator: {type: header_link, links_next_key: forward}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Add("Link", `</items?page=99>; rel="next"`)
				if n < 2 {
					w.Header().Add("Link", `</items?page=2>; rel="forward"`)
				}
				writeJSON(w, recs(2*n-1, 2*n))
			},
			wantIDs: seq(1, 4), param: "page", wantParams: []string{"", "2"},
		},
		{
			name:     "header_cursor: cursor_key and cursor_param",
			endpoint: `{path: /items, paginator: {type: header_cursor, cursor_key: X-Next-Cursor, cursor_param: cur}}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				if n < 3 {
					w.Header().Set("X-Next-Cursor", fmt.Sprintf("h%d", n+1))
				}
				writeJSON(w, map[string]any{"items": recs(2*n-1, 2*n)})
			},
			wantIDs: seq(1, 6), param: "cur", wantParams: []string{"", "h2", "h3"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(t, tc.handle)
			res := run(t, oneResource(tc.endpoint), a.URL, nil)
			if tc.wantErr != "" {
				if res.err == nil || !strings.Contains(res.err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", res.err, tc.wantErr)
				}
				if !strings.Contains(res.err.Error(), "resource items") {
					t.Errorf("error %q does not name the resource", res.err)
				}
				return
			}
			if res.err != nil {
				t.Fatalf("run: %v\nrequests: %+v", res.err, a.Requests(""))
			}
			if got := res.ids(t, "items"); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("ids in table items: %v, want %v", got, tc.wantIDs)
			}
			if tc.param != "" {
				got := a.Params("/items", tc.param)
				if tc.anyOrder {
					slices.Sort(got)
				}
				if !slices.Equal(got, tc.wantParams) {
					t.Errorf("%s sent as %q, want %q", tc.param, got, tc.wantParams)
				}
			}
			if tc.wantBodies != nil {
				reqs := a.Requests("/items")
				if len(reqs) != len(tc.wantBodies) {
					t.Fatalf("%d requests, want %d: %+v", len(reqs), len(tc.wantBodies), reqs)
				}
				for i, want := range tc.wantBodies {
					if !strings.Contains(reqs[i].Body, want) {
						t.Errorf("request %d body %s, want it to hold %s", i+1, reqs[i].Body, want)
					}
				}
			}
		})
	}
}
