package conformance

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/pipeline"
)

// TestLoopProtection serves APIs that never stop paging: every paginator
// must stop the resource with an error that says the API is looping, load
// nothing of it, and still load the pipeline's other resource.
func TestLoopProtection(t *testing.T) {
	cases := []struct {
		name      string
		paginator string
		handle    func(w http.ResponseWriter, r *http.Request, n int)
		wantErr   []string
	}{
		{
			name:      "cursor repeated",
			paginator: `{type: cursor, cursor_path: next}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				next := map[string]string{"": "c2", "c2": "c3", "c3": "c2"}[r.URL.Query().Get("cursor")]
				writeJSON(w, map[string]any{"data": recs(2*n-1, 2*n), "next": next})
			},
			wantErr: []string{`cursor "c2" repeated at page 3 (first seen at page 1)`, "looping"},
		},
		{
			name:      "next URL repeated",
			paginator: `json_link`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				next := map[string]string{"": "2", "2": "3", "3": "2"}[r.URL.Query().Get("page")]
				writeJSON(w, map[string]any{"data": recs(2*n-1, 2*n), "next": fmt.Sprintf("http://%s/items?page=%s", r.Host, next)})
			},
			wantErr: []string{`next URL "http://`, `/items?page=2" repeated at page 3`, "looping"},
		},
		{
			name:      "Link header repeated",
			paginator: `header_link`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Link", `</items?page=2>; rel="next"`)
				writeJSON(w, map[string]any{"data": recs(2*n-1, 2*n)})
			},
			wantErr: []string{`repeated at page 2`, "looping"},
		},
		{
			name:      "header cursor repeated",
			paginator: `{type: header_cursor, cursor_key: X-Cursor}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("X-Cursor", "same")
				writeJSON(w, map[string]any{"data": recs(2*n-1, 2*n)})
			},
			wantErr: []string{`cursor "same" repeated at page 2`, "looping"},
		},
		{
			name:      "page_number: the API ignores the page parameter",
			paginator: `{type: page_number, base_page: 1}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": recs(1, 2), "total": 1000})
			},
			wantErr: []string{"page 2 is identical to page 1", "looping"},
		},
		{
			name:      "offset: the API ignores the offset parameter",
			paginator: `{type: offset, limit: 2}`,
			handle: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": recs(1, 2), "total": 1000})
			},
			wantErr: []string{"page 2 is identical to page 1", "looping"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if r.URL.Path == "/good" {
					writeJSON(w, recs(1, 3))
					return
				}
				if n > 50 {
					http.Error(w, "the client did not stop", http.StatusTeapot)
					return
				}
				tc.handle(w, r, n)
			})
			src := `pipeline: {name: conformance, dataset: conformance}
source:
  client: {base_url: "{{API}}"}
  resources:
    - {name: good, endpoint: {path: /good, paginator: single_page}}
    - {name: items, endpoint: {path: /items, paginator: ` + tc.paginator + `}}
`
			res := run(t, src, a.URL, nil)
			var perr *pipeline.Error
			if !errors.As(res.err, &perr) {
				t.Fatalf("error %v (%T), want a *pipeline.Error (other resources loaded)", res.err, res.err)
			}
			msg := res.err.Error()
			for _, w := range append([]string{"resource items"}, tc.wantErr...) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			// The first page, the pages fetched ahead, and at most one
			// more: a page's fetch slot is given back when its result is
			// handed over, so the next page's request may start while the
			// repeated page is being checked (CI saw 10).
			if n := len(a.Requests("/items")); n > 2+config.DefaultPrefetch {
				t.Errorf("%d requests to /items before stopping", n)
			}
			if res.hasTable(t, "items") {
				t.Errorf("table items exists: rows of a failed resource were loaded")
			}
			if got := res.ids(t, "good"); !slices.Equal(got, seq(1, 3)) {
				t.Errorf("table good holds ids %v, want 1..3", got)
			}
		})
	}
}
