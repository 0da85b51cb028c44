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

// TestAheadBytesBoundsPagesAhead: with large pages, AheadBytes bounds how
// many are fetched ahead (held or in flight, each counted at the largest
// body seen), down to one page ahead however small the bound; every page
// still arrives, in order.
func TestAheadBytesBoundsPagesAhead(t *testing.T) {
	const pages = 10
	pad := strings.Repeat("x", 1<<20) // each body a little over 1 MiB
	tests := []struct {
		name       string
		aheadBytes int64
		wantMax    int // the highest page requested while page 2 is handled
	}{
		{"room for two pages", 3 << 20, 4},
		{"less than one page", 100 << 10, 3},
		{"no bound: the prefetch", 0, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			highest := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n, _ := strconv.Atoi(r.URL.Query().Get("page"))
				mu.Lock()
				highest = max(highest, n)
				mu.Unlock()
				fmt.Fprintf(w, `{"total_pages": %d, "data": [{"id": %d, "pad": %q}]}`, pages, n, pad)
			}))
			defer srv.Close()
			x := &Extractor{Client: &httpclient.Client{HTTP: srv.Client()}, Prefetch: 8, AheadBytes: tt.aheadBytes}
			r := Resource{Name: "items", BaseURL: srv.URL,
				Paginator: &config.Paginator{Config: paginate.Config{Type: "page_number", BasePage: new(1), TotalPath: new("total_pages")}},
				Endpoint:  &config.Endpoint{Path: "items", Method: "GET", DataSelector: "data"}}
			var seen []string
			var during int
			_, err := x.Run(context.Background(), r, func(ctx context.Context, p Page) error {
				if p.Number == 2 {
					// Wait for the pages that may be fetched, then a
					// little longer for any that should not be.
					for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
						mu.Lock()
						reached := highest >= tt.wantMax
						mu.Unlock()
						if reached {
							break
						}
					}
					time.Sleep(200 * time.Millisecond)
					mu.Lock()
					during = highest
					mu.Unlock()
				}
				seen = append(seen, fmt.Sprint(p.Records[0]["id"]))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}; !slices.Equal(seen, want) {
				t.Errorf("fn saw pages %q, want %q", seen, want)
			}
			if during != tt.wantMax {
				t.Errorf("while page 2 was handled, pages up to %d were requested, want up to %d", during, tt.wantMax)
			}
		})
	}
}
