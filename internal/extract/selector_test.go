package extract_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/extract"
	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/paginate"
)

// TestDataSelectorNeverSilent: a data_selector that finds no path in a
// non-empty first page is an error naming what the response holds; an
// empty list (or null) at an existing path, and an empty body object,
// are pages without records (issue 13, part 1).
func TestDataSelectorNeverSilent(t *testing.T) {
	entries := make([]string, 100)
	for i := range entries {
		entries[i] = fmt.Sprintf(`{"id":%d}`, i)
	}
	big := `{"entries":[` + strings.Join(entries, ",") + `],"total":100,"hasMore":false,"nextPage":null}`
	cases := []struct {
		name, body, selector string
		records              int
		err                  string
	}{
		{"wrong path", big, "data.items", 0,
			`data_selector "data.items" matched nothing; the response has entries (list of 100), total, hasMore, nextPage`},
		{"wrong jsonpath", big, "$.data[*]", 0, `data_selector "$.data[*]" matched nothing; the response has entries (list of 100)`},
		{"nested list named", `{"meta":{"n":1},"result":{"rows":[{"id":1}]}}`, "items", 0,
			`the response has meta, result; the first list is at result.rows (list of 1)`},
		{"root list", `[{"id":1},{"id":2}]`, "data", 0, `data_selector "data" matched nothing; the response is a list of 2`},
		{"no list", `{"id":1,"name":"x"}`, "data", 0, `the response has id, name; no list found`},
		{"control chars in keys", `{"a\u001b[31m":[1]}`, "data", 0, `the response has "a\x1b[31m" (list of 1)`},
		{"empty list at path", `{"data":{"items":[]},"total":0}`, "data.items", 0, ""},
		{"null at path", `{"data":null}`, "data", 0, ""},
		{"empty object", `{}`, "data", 0, ""},
		{"found", `{"data":{"items":[{"id":1}]}}`, "data.items", 1, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, c.body)
			}))
			defer srv.Close()
			x := &extract.Extractor{Client: &httpclient.Client{HTTP: srv.Client()}}
			r := extract.Resource{Name: "things", BaseURL: srv.URL, Endpoint: &config.Endpoint{Path: "things", DataSelector: c.selector},
				Paginator: &config.Paginator{Config: paginate.Config{Type: "single_page"}}}
			st, err := x.Run(context.Background(), r, func(context.Context, extract.Page) error { return nil })
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("error %v, want it to contain %q", err, c.err)
			case c.err != "" && !strings.Contains(err.Error(), "resource things: page 1"):
				t.Fatalf("error %v does not name the resource and page", err)
			}
			if err == nil && st.Records != int64(c.records) {
				t.Fatalf("records %d, want %d", st.Records, c.records)
			}
		})
	}
}
