package extract

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/paginate"
)

// TestAheadDecodesNextPageOnly: pages fetched ahead are held as they
// came (their bodies) and decoded only when they are next but one, so a
// slow consumer holds at most two decoded pages however far ahead pages
// are fetched; and a page fetched ahead that is not JSON fails the run at
// that page, naming it.
func TestAheadDecodesNextPageOnly(t *testing.T) {
	const pages, prefetch = 12, 8
	var mu sync.Mutex
	requested := map[int]bool{}
	decoded := map[int]bool{}
	notJSON := 0 // a page whose body is not JSON
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("page"))
		mu.Lock()
		requested[n] = true
		bad := n == notJSON
		mu.Unlock()
		if bad {
			fmt.Fprint(w, "<html>maintenance</html>")
			return
		}
		fmt.Fprintf(w, `{"total_pages": %d, "data": [{"id": "%d.1"}, {"id": "%d.2"}]}`, pages, n, n)
	}))
	defer srv.Close()
	testHookDecode = func(page int) {
		mu.Lock()
		decoded[page] = true
		mu.Unlock()
	}
	defer func() { testHookDecode = nil }()

	run := func() ([]string, error) {
		x := &Extractor{Client: &httpclient.Client{HTTP: srv.Client()}, Prefetch: prefetch}
		r := Resource{Name: "items", BaseURL: srv.URL,
			Paginator: &config.Paginator{Config: paginate.Config{Type: "page_number", BasePage: new(1), TotalPath: new("total_pages")}},
			Endpoint:  &config.Endpoint{Path: "items", Method: "GET", DataSelector: "data"}}
		var seen []string
		_, err := x.Run(context.Background(), r, func(ctx context.Context, p Page) error {
			if p.Number == 2 {
				// Page 1 told the total; pages 2-9 are fetched ahead.
				// Hold page 2 until they all were requested, then look
				// at what was decoded.
				deadline := time.Now().Add(10 * time.Second)
				for {
					mu.Lock()
					all := true
					for k := 2; k < 2+prefetch; k++ {
						all = all && requested[k]
					}
					mu.Unlock()
					if all {
						break
					}
					if time.Now().After(deadline) {
						return fmt.Errorf("pages 2-%d were not all requested ahead", 1+prefetch)
					}
					time.Sleep(5 * time.Millisecond)
				}
				time.Sleep(50 * time.Millisecond) // time for a wrong decode to happen
				mu.Lock()
				var got []int
				for k := range decoded {
					got = append(got, k)
				}
				mu.Unlock()
				slices.Sort(got)
				if want := []int{1, 2, 3}; !slices.Equal(got, want) {
					t.Errorf("while page 2 is handled, pages %v were decoded, want %v (the next page only)", got, want)
				}
			}
			ids := make([]string, len(p.Records))
			for i, rec := range p.Records {
				ids[i] = fmt.Sprint(rec["id"])
			}
			seen = append(seen, fmt.Sprintf("%d:%s", p.Number, strings.Join(ids, ",")))
			return nil
		})
		return seen, err
	}

	seen, err := run()
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != pages || seen[0] != "1:1.1,1.2" || seen[pages-1] != fmt.Sprintf("%d:%d.1,%d.2", pages, pages, pages) {
		t.Errorf("fn saw %q, want pages 1-%d in order", seen, pages)
	}

	mu.Lock()
	clear(requested)
	clear(decoded)
	notJSON = 5
	mu.Unlock()
	seen, err = run()
	want := "resource items: page 5: GET " + srv.URL + `/items?page=5: response is not JSON (Content-Type "text/html; charset=utf-8"): invalid character '<' looking for beginning of value (at byte 0); body starts: <html>maintenance</html>`
	if err == nil || err.Error() != want {
		t.Errorf("error\n %v\nwant\n %s", err, want)
	}
	if len(seen) != 4 {
		t.Errorf("fn saw %q, want pages 1-4 before the failing page", seen)
	}
}
