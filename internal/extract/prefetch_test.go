package extract_test

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/restload/restload/internal/extract"
	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/paginate"
)

func ip(i int) *int       { return &i }
func sp(s string) *string { return &s }

// pagedAPI serves GET /items?page=N (or ?offset=N&limit=L): reply decides
// each page's status and body; every request is counted by page.
type pagedAPI struct {
	*httptest.Server
	reply func(r *http.Request, page int) (int, any)

	mu       sync.Mutex
	fetched  map[int]int // page (or offset) -> requests
	inflight int
	peak     int
}

func newPagedAPI(t *testing.T, param string, reply func(r *http.Request, page int) (int, any)) *pagedAPI {
	a := &pagedAPI{reply: reply, fetched: map[int]int{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get(param))
		a.mu.Lock()
		a.fetched[n]++
		a.inflight++
		a.peak = max(a.peak, a.inflight)
		a.mu.Unlock()
		defer func() {
			a.mu.Lock()
			a.inflight--
			a.mu.Unlock()
		}()
		status, body := a.reply(r, n)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(a.Close)
	return a
}

// page renders a page of records "<page>.1" and "<page>.2" with totals.
func page(n int, extra map[string]any) map[string]any {
	b := map[string]any{"data": []any{
		map[string]any{"id": fmt.Sprintf("%d.1", n)},
		map[string]any{"id": fmt.Sprintf("%d.2", n)},
	}}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// outcome is what a run showed its caller: pages in the order fn saw
// them, their records, and the error.
type outcome struct {
	pages []string // "<number>:<id>,<id>"
	stats extract.Stats
	err   string
}

func runItems(t *testing.T, a *pagedAPI, pag *config.Paginator, prefetch, maxPages int, actions []config.ResponseAction) outcome {
	t.Helper()
	x := &extract.Extractor{Client: &httpclient.Client{HTTP: a.Client()}, Prefetch: prefetch, MaxPages: maxPages}
	return collect(x, extract.Resource{
		Name: "items", BaseURL: a.URL, Paginator: pag,
		Endpoint: &config.Endpoint{Path: "items", Method: "GET", DataSelector: "data", ResponseActions: actions},
	})
}

// collect runs r with x and returns what the run showed its caller.
func collect(x *extract.Extractor, r extract.Resource) outcome {
	var o outcome
	st, err := x.Run(context.Background(), r, func(ctx context.Context, p extract.Page) error {
		ids := make([]string, len(p.Records))
		for i, r := range p.Records {
			ids[i] = fmt.Sprint(r["id"])
		}
		o.pages = append(o.pages, fmt.Sprintf("%d:%s", p.Number, strings.Join(ids, ",")))
		return nil
	})
	o.stats = st
	if err != nil {
		o.err = err.Error()
	}
	return o
}

// compareRuns checks a run page by page (want, against seq) and one
// fetching ahead (got, against ahead): fn saw the same pages in the same
// order, wantPages of them, the runs ended with the same error, wantErr
// (its URLs written "GET /..."), and no page was requested twice.
func compareRuns(t *testing.T, seq, ahead *pagedAPI, want, got outcome, wantPages int, wantErr string) {
	t.Helper()
	if len(want.pages) != wantPages {
		t.Errorf("page by page: fn saw %d pages %q, want %d", len(want.pages), want.pages, wantPages)
	}
	if wantErr = strings.ReplaceAll(wantErr, "GET /", "GET "+seq.URL+"/"); want.err != wantErr {
		t.Errorf("page by page: error\n %q\nwant\n %q", want.err, wantErr)
	}
	if !slices.Equal(got.pages, want.pages) {
		t.Errorf("fetching ahead, fn saw\n %q\npage by page\n %q", got.pages, want.pages)
	}
	if gotErr := strings.ReplaceAll(got.err, ahead.URL, seq.URL); gotErr != want.err {
		t.Errorf("fetching ahead, error\n %q\npage by page\n %q", gotErr, want.err)
	}
	if got.stats != want.stats {
		t.Errorf("fetching ahead, stats %+v; page by page %+v", got.stats, want.stats)
	}
	ahead.mu.Lock()
	defer ahead.mu.Unlock()
	for n, times := range ahead.fetched {
		if times > 1 {
			t.Errorf("page %d requested %d times", n, times)
		}
	}
}

// TestPrefetchMatchesPageByPage runs each API once page by page and once
// fetching ahead: fn sees the same pages in the same order, the runs end
// with the same error, and no page is requested twice.
func TestPrefetchMatchesPageByPage(t *testing.T) {
	pageNumber := &config.Paginator{Config: paginate.Config{Type: "page_number", BasePage: ip(1), TotalPath: sp("total_pages")}}
	tests := []struct {
		name      string
		pag       *config.Paginator
		param     string
		reply     func(r *http.Request, n int) (int, any)
		maxPages  int
		actions   []config.ResponseAction
		wantPages int
		wantErr   string
	}{{
		name:      "every page of a known total",
		pag:       pageNumber,
		reply:     func(_ *http.Request, n int) (int, any) { return 200, page(n, map[string]any{"total_pages": 9}) },
		wantPages: 9,
	}, {
		name:  "offset with a known item count",
		pag:   &config.Paginator{Config: paginate.Config{Type: "offset", Limit: ip(2)}},
		param: "offset",
		reply: func(_ *http.Request, o int) (int, any) {
			return 200, map[string]any{"total": 13, "data": []any{map[string]any{"id": o}, map[string]any{"id": o + 1}}}
		},
		wantPages: 7,
	}, {
		name: "an empty page before the planned end stops",
		pag:  pageNumber,
		reply: func(_ *http.Request, n int) (int, any) {
			if n == 4 {
				return 200, map[string]any{"data": []any{}, "total_pages": 9}
			}
			return 200, page(n, map[string]any{"total_pages": 9})
		},
		wantPages: 4,
	}, {
		name: "has_more false before the planned end stops",
		pag:  &config.Paginator{Config: paginate.Config{Type: "page_number", BasePage: ip(1), TotalPath: sp("total_pages"), HasMorePath: "more"}},
		reply: func(_ *http.Request, n int) (int, any) {
			return 200, page(n, map[string]any{"total_pages": 9, "more": n < 3})
		},
		wantPages: 3,
	}, {
		name: "an error on page 3 fails the run there",
		pag:  pageNumber,
		reply: func(_ *http.Request, n int) (int, any) {
			if n == 3 || n == 5 {
				return 403, map[string]any{"message": fmt.Sprintf("no access to page %d", n)}
			}
			return 200, page(n, map[string]any{"total_pages": 9})
		},
		wantPages: 2,
		wantErr:   "resource items: page 3: GET /items?page=3: 403 Forbidden: {\"message\":\"no access to page 3\"}",
	}, {
		name: "a response action on page 4 ends the run without error",
		pag:  pageNumber,
		reply: func(_ *http.Request, n int) (int, any) {
			if n == 4 {
				return 404, map[string]any{"message": "gone"}
			}
			return 200, page(n, map[string]any{"total_pages": 9})
		},
		actions:   []config.ResponseAction{{StatusCode: ip(404), Action: "ignore"}},
		wantPages: 3,
	}, {
		name: "a total that grows is followed",
		pag:  pageNumber,
		reply: func(_ *http.Request, n int) (int, any) {
			total := 3
			if n >= 3 {
				total = 7
			}
			return 200, page(n, map[string]any{"total_pages": total})
		},
		wantPages: 7,
	}, {
		name: "a total that shrinks is followed",
		pag:  pageNumber,
		reply: func(_ *http.Request, n int) (int, any) {
			total := 9
			if n >= 2 {
				total = 3
			}
			return 200, page(n, map[string]any{"total_pages": total})
		},
		wantPages: 3,
	}, {
		name: "maximum_page caps a known total",
		pag:  &config.Paginator{Config: paginate.Config{Type: "page_number", BasePage: ip(1), TotalPath: sp("total_pages"), MaximumPage: ip(5)}},
		reply: func(_ *http.Request, n int) (int, any) {
			return 200, page(n, map[string]any{"total_pages": 50})
		},
		wantPages: 4,
	}, {
		name: "an API that ignores the page number is looping",
		pag:  pageNumber,
		reply: func(_ *http.Request, n int) (int, any) {
			return 200, page(1, map[string]any{"total_pages": 9})
		},
		wantPages: 1,
		wantErr:   "resource items: page 2: GET /items?page=2: paginator: page 2 is identical to page 1; the API is looping",
	}, {
		name: "max pages stops a long total",
		pag:  pageNumber,
		reply: func(_ *http.Request, n int) (int, any) {
			return 200, page(n, map[string]any{"total_pages": 100})
		},
		maxPages:  5,
		wantPages: 5,
		wantErr:   "resource items: page 5: GET /items?page=5: stopped after 5 pages (limits.max_pages); raise limits.max_pages if the API has more",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			param := tt.param
			if param == "" {
				param = "page"
			}
			seq := newPagedAPI(t, param, tt.reply)
			want := runItems(t, seq, tt.pag, 1, tt.maxPages, tt.actions)
			ahead := newPagedAPI(t, param, tt.reply)
			got := runItems(t, ahead, tt.pag, 4, tt.maxPages, tt.actions)

			compareRuns(t, seq, ahead, want, got, tt.wantPages, tt.wantErr)
		})
	}
}

// TestPrefetchFetchesInParallelAndHandsOverInOrder: page 5 is answered
// only once page 2 has been asked for, and page 2 only once page 5 has been
// answered, which can only happen when pages are fetched ahead; fn still
// sees pages 1 to 6 in order.
func TestPrefetchFetchesInParallelAndHandsOverInOrder(t *testing.T) {
	page2, page5 := make(chan struct{}), make(chan struct{})
	// wait gives up after a while so that a run without parallel fetches
	// fails instead of hanging; no timing is asserted.
	wait := func(r *http.Request, ch chan struct{}, what string) (int, any) {
		select {
		case <-ch:
			return 0, nil
		case <-r.Context().Done():
			return 500, nil
		case <-time.After(10 * time.Second):
			return 400, map[string]any{"message": what + " was not asked for in parallel"}
		}
	}
	a := newPagedAPI(t, "page", func(r *http.Request, n int) (int, any) {
		switch n {
		case 2:
			close(page2)
			if status, body := wait(r, page5, "page 5"); status != 0 {
				return status, body
			}
		case 5:
			defer close(page5)
			if status, body := wait(r, page2, "page 2"); status != 0 {
				return status, body
			}
		}
		return 200, page(n, map[string]any{"total_pages": 6})
	})
	got := runItems(t, a, &config.Paginator{Config: paginate.Config{Type: "page_number", BasePage: ip(1), TotalPath: sp("total_pages")}}, 4, 0, nil)
	if got.err != "" {
		t.Fatal(got.err)
	}
	want := []string{"1:1.1,1.2", "2:2.1,2.2", "3:3.1,3.2", "4:4.1,4.2", "5:5.1,5.2", "6:6.1,6.2"}
	if !slices.Equal(got.pages, want) {
		t.Errorf("fn saw %q, want %q", got.pages, want)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.peak < 2 {
		t.Errorf("at most %d request in flight, want pages fetched in parallel", a.peak)
	}
	if a.peak > 4 {
		t.Errorf("%d requests in flight, want at most prefetch (4)", a.peak)
	}
}

// TestPrefetchStopsInFlightFetches: when page 2 fails, the pages fetched
// ahead of it (which the API never answers) are cancelled and Run returns.
func TestPrefetchStopsInFlightFetches(t *testing.T) {
	stuck := make(chan struct{}, 8)
	a := newPagedAPI(t, "page", func(r *http.Request, n int) (int, any) {
		switch {
		case n == 2:
			// Fail only once the later pages are in flight.
			for range 2 {
				select {
				case <-stuck:
				case <-r.Context().Done():
				}
			}
			return 403, map[string]any{"message": "no"}
		case n > 2:
			stuck <- struct{}{}
			<-r.Context().Done() // never answers; the client must hang up
			return 500, nil
		}
		return 200, page(n, map[string]any{"total_pages": 20})
	})
	got := runItems(t, a, &config.Paginator{Config: paginate.Config{Type: "page_number", BasePage: ip(1), TotalPath: sp("total_pages")}}, 4, 0, nil)
	if !strings.HasPrefix(got.err, "resource items: page 2: GET "+a.URL+"/items?page=2: 403 Forbidden") {
		t.Errorf("error %q, want page 2's", got.err)
	}
	if !slices.Equal(got.pages, []string{"1:1.1,1.2"}) {
		t.Errorf("fn saw %q, want page 1 only", got.pages)
	}
	// That Run returned at all shows the fetches of pages 3 on were
	// cancelled: it waits for every fetch it started.
}

// TestPrefetchCancel: cancelling the context ends a run whose pages hang.
func TestPrefetchCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	a := newPagedAPI(t, "page", func(r *http.Request, n int) (int, any) {
		if n > 1 {
			<-r.Context().Done()
			return 500, nil
		}
		return 200, page(n, map[string]any{"total_pages": 20})
	})
	x := &extract.Extractor{Client: &httpclient.Client{HTTP: a.Client()}, Prefetch: 4}
	_, err := x.Run(ctx, extract.Resource{
		Name: "items", BaseURL: a.URL, Paginator: &config.Paginator{Config: paginate.Config{Type: "page_number", BasePage: ip(1), TotalPath: sp("total_pages")}},
		Endpoint: &config.Endpoint{Path: "items", Method: "GET", DataSelector: "data"},
	}, func(ctx context.Context, p extract.Page) error {
		cancel() // after page 1, while pages 2-5 are being fetched
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// TestPrefetchUnderHostLimit: the client's per-host concurrency bounds the
// pages fetched ahead.
func TestPrefetchUnderHostLimit(t *testing.T) {
	a := newPagedAPI(t, "page", func(_ *http.Request, n int) (int, any) {
		return 200, page(n, map[string]any{"total_pages": 12})
	})
	x := &extract.Extractor{Client: &httpclient.Client{HTTP: a.Client(), Limits: httpclient.HostLimits{Concurrency: 2}}, Prefetch: 8}
	var got []int
	_, err := x.Run(context.Background(), extract.Resource{
		Name: "items", BaseURL: a.URL, Paginator: &config.Paginator{Config: paginate.Config{Type: "page_number", BasePage: ip(1), TotalPath: sp("total_pages")}},
		Endpoint: &config.Endpoint{Path: "items", Method: "GET", DataSelector: "data"},
	}, func(ctx context.Context, p extract.Page) error {
		got = append(got, p.Number)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 12 || !slices.IsSorted(got) {
		t.Errorf("fn saw pages %v, want 1 to 12 in order", got)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.peak > 2 {
		t.Errorf("%d requests in flight at once, want at most limits.concurrency (2)", a.peak)
	}
}
