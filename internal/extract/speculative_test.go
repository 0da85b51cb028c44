package extract_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/extract"
	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/paginate"
)

// seedPage answers the seed's API: 2 records a page (limit=2), "total"
// counting records, hasMore; pages past the end come back empty.
func seedPage(total int) func(r *http.Request, n int) (int, any) {
	return func(r *http.Request, n int) (int, any) {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		var recs []any
		for i := (n - 1) * limit; i < min(n*limit, total); i++ {
			recs = append(recs, map[string]any{"id": i})
		}
		return 200, map[string]any{"data": recs, "total": total, "hasMore": n*limit < total}
	}
}

// runSeed runs the seed's paginator (start_from_page, limit_param, no
// total_path) over a with limit=2.
func runSeed(t *testing.T, a *pagedAPI, prefetch int, speculative bool, pag paginate.Config) outcome {
	t.Helper()
	x := &extract.Extractor{Client: &httpclient.Client{HTTP: a.Client()}, Prefetch: prefetch, Speculative: speculative}
	return collect(x, extract.Resource{
		Name: "items", BaseURL: a.URL, Paginator: &config.Paginator{Config: pag},
		Endpoint: &config.Endpoint{Path: "items", Method: "GET", DataSelector: "data", Params: map[string]any{"limit": 2}},
	})
}

// aheadGate wraps reply so that page 2 is answered only once page 3 has been
// asked for, which happens only when pages are fetched ahead; a walk page
// by page gets a 500 for page 2 after 10 s instead of hanging. No timing
// is asserted.
func aheadGate(reply func(r *http.Request, n int) (int, any)) func(r *http.Request, n int) (int, any) {
	return aheadGateAt(2, 3, reply)
}

// aheadGateAt is aheadGate for pages (or offsets) second and third.
func aheadGateAt(second, third int, reply func(r *http.Request, n int) (int, any)) func(r *http.Request, n int) (int, any) {
	asked := make(chan struct{})
	var once sync.Once
	return func(r *http.Request, n int) (int, any) {
		switch n {
		case third:
			once.Do(func() { close(asked) })
		case second:
			select {
			case <-asked:
			case <-r.Context().Done():
				return 500, nil
			case <-time.After(10 * time.Second):
				return 500, map[string]any{"message": "page 3 was not asked for before page 2 was answered"}
			}
		}
		return reply(r, n)
	}
}

var seedPaginator = paginate.Config{Type: "page_number", PageParam: "page", LimitParam: "limit", StartFromPage: ip(1)}

// TestSeedTotalFetchesAhead: the seed's "total" counts records; with the
// page size sent it gives the page count, so the seed's pages are fetched
// ahead (more than one request in flight) and handed over in order, each
// page requested once and none past the end.
func TestSeedTotalFetchesAhead(t *testing.T) {
	a := newPagedAPI(t, "page", aheadGate(seedPage(39))) // 20 pages, the last one part full
	seq := newPagedAPI(t, "page", seedPage(39))
	want := runSeed(t, seq, 1, false, seedPaginator)
	got := runSeed(t, a, 4, false, seedPaginator)
	if got.err != "" || want.err != "" {
		t.Fatalf("errors %q, %q", got.err, want.err)
	}
	if len(want.pages) != 20 || !slices.Equal(got.pages, want.pages) {
		t.Fatalf("fetching ahead, fn saw\n %q\npage by page\n %q", got.pages, want.pages)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for n, times := range a.fetched {
		if times != 1 || n < 1 || n > 20 {
			t.Errorf("page %d requested %d times", n, times)
		}
	}
}

// TestSpeculativePrefetch: an API that gives no total is walked page by
// page, and with speculative prefetch ahead of the page being handled;
// both hand the same pages and records over, in order, with no duplicate
// and nothing from past the end, whatever the pages past the end answer.
func TestSpeculativePrefetch(t *testing.T) {
	noTotal := paginate.Config{Type: "page_number", BasePage: ip(1), TotalPath: sp("")}
	tests := []struct {
		name      string
		pag       paginate.Config
		reply     func(r *http.Request, n int) (int, any)
		wantPages int
		wantErr   string
		gate      bool // page 2 waits for page 3's request (see aheadGate)
	}{{
		name: "empty page ends it",
		pag:  noTotal,
		reply: func(_ *http.Request, n int) (int, any) {
			if n > 9 {
				return 200, map[string]any{"data": []any{}}
			}
			return 200, page(n, nil)
		},
		wantPages: 10,
		gate:      true,
	}, {
		name: "pages past the end fail, and that is not an error",
		pag:  paginate.Config{Type: "page_number", BasePage: ip(1), TotalPath: sp(""), HasMorePath: "more"},
		reply: func(_ *http.Request, n int) (int, any) {
			if n > 7 {
				return 404, map[string]any{"message": "no such page"}
			}
			return 200, page(n, map[string]any{"more": n < 7})
		},
		wantPages: 7,
		gate:      true,
	}, {
		name: "an error before the end still fails the run",
		pag:  noTotal,
		reply: func(_ *http.Request, n int) (int, any) {
			if n == 3 || n > 5 {
				return 403, map[string]any{"message": fmt.Sprintf("no access to page %d", n)}
			}
			return 200, page(n, nil)
		},
		wantPages: 2,
		wantErr:   `resource items: page 3: GET /items?limit=2&page=3: 403 Forbidden: {"message":"no access to page 3"}`,
	}, {
		name: "seed form without a total: a short page ends it",
		pag:  seedPaginator,
		reply: func(r *http.Request, n int) (int, any) {
			st, b := seedPage(11)(r, n)
			delete(b.(map[string]any), "total")
			return st, b
		},
		wantPages: 6,
		gate:      true,
	}, {
		name: "offset without a total",
		pag:  paginate.Config{Type: "offset", Limit: ip(2), TotalPath: sp("")},
		reply: func(_ *http.Request, o int) (int, any) {
			if o >= 14 {
				return 200, map[string]any{"data": []any{}}
			}
			return 200, map[string]any{"data": []any{map[string]any{"id": o}, map[string]any{"id": o + 1}}}
		},
		wantPages: 8,
		gate:      true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			param := "page"
			if tt.pag.Type == "offset" {
				param = "offset"
			}
			seq := newPagedAPI(t, param, tt.reply)
			want := runSeed(t, seq, 1, false, tt.pag)
			reply := tt.reply
			if tt.gate && param == "offset" {
				reply = aheadGateAt(2, 4, reply)
			} else if tt.gate {
				reply = aheadGate(reply)
			}
			ahead := newPagedAPI(t, param, reply)
			got := runSeed(t, ahead, 4, true, tt.pag)
			compareRuns(t, seq, ahead, want, got, tt.wantPages, tt.wantErr)
		})
	}
}
