package extract_test

import (
	"net/http"
	"testing"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/paginate"
)

// TestPageWithByteOrderMark: a page whose JSON follows a UTF-8 byte-order
// mark loads, as dlt loads it (issue 11, point 20).
func TestPageWithByteOrderMark(t *testing.T) {
	a := newPagedAPI(t, "page", nil)
	a.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write([]byte("\xef\xbb\xbf" + `{"data":[{"id":"1.1"},{"id":"1.2"}]}`))
	})
	o := runItems(t, a, &config.Paginator{Config: paginate.Config{Type: "single_page"}}, 1, 0, nil)
	if o.err != "" || len(o.pages) != 1 || o.pages[0] != "1:1.1,1.2" {
		t.Fatalf("pages %v, err %s", o.pages, o.err)
	}
}
