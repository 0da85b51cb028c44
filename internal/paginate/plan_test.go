package paginate

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

// TestPlan checks, after the first page, whether a paginator plans the
// rest and which requests it plans; where it plans, the plan must be the
// requests a page-by-page walk of the same API sends after the first.
func TestPlan(t *testing.T) {
	// pagesAt answers page_number requests, the page read at param,
	// counting from base: 2 records a page, total pages in all, the count
	// at "total" and "meta.pages".
	pagesAt := func(param string, base, total int) api {
		return func(req *Request) (string, http.Header) {
			n := pageNum(req, param)
			recs := 2
			if n-base >= total {
				recs = 0
			}
			return fmt.Sprintf(`{"items":%s,"total":%d,"meta":{"pages":%d},"n":%d}`, records(recs), total, total, n), nil
		}
	}
	pages := func(total int) api { return pagesAt("page", 1, total) }
	items := func(total int) api {
		return func(req *Request) (string, http.Header) {
			o := pageNum(req, "offset")
			recs := min(max(total-o, 0), 3)
			return fmt.Sprintf(`{"items":%s,"total":%d,"o":%d}`, records(recs), total, o), nil
		}
	}
	tests := []struct {
		name   string
		cfg    *Config
		api    api
		wantOK bool
		want   []string // Plan.Request(req, 1..Pages), described
	}{{
		name:   "page_number: total counts pages",
		cfg:    &Config{Type: "page_number", BasePage: ip(1)},
		api:    pages(4),
		wantOK: true,
		want:   []string{"/items?page=2", "/items?page=3", "/items?page=4"},
	}, {
		name:   "page_number: base 0, nested total_path",
		cfg:    &Config{Type: "page_number", TotalPath: sp("meta.pages")},
		api:    pagesAt("page", 0, 4),
		wantOK: true,
		want:   []string{"/items?page=1", "/items?page=2", "/items?page=3"},
	}, {
		name:   "page_number: maximum_page caps the plan",
		cfg:    &Config{Type: "page_number", BasePage: ip(1), MaximumPage: ip(3)},
		api:    pages(10),
		wantOK: true,
		want:   []string{"/items?page=2"},
	}, {
		name:   "page_number: in the JSON body",
		cfg:    &Config{Type: "page_number", BasePage: ip(1), PageBodyPath: "paging.page"},
		api:    pagesAt("paging.page", 1, 3),
		wantOK: true,
		want:   []string{`/items {"paging":{"page":2}}`, `/items {"paging":{"page":3}}`},
	}, {
		name:   "page_number: one page in all plans nothing",
		cfg:    &Config{Type: "page_number", BasePage: ip(1)},
		api:    pages(1),
		wantOK: false, // HasNext is false: nothing to plan
	}, {
		name:   "page_number: seed form without total_path",
		cfg:    &Config{Type: "page_number", StartFromPage: ip(1), LimitParam: "limit"},
		api:    pages(4),
		wantOK: false,
	}, {
		name:   "page_number: next_page_path",
		cfg:    &Config{Type: "page_number", NextPagePath: "n", TotalPath: sp("total")},
		api:    pages(4),
		wantOK: false,
	}, {
		name:   "page_number: no total in the response",
		cfg:    &Config{Type: "page_number", BasePage: ip(1), TotalPath: sp("missing")},
		api:    pages(4),
		wantOK: false,
	}, {
		name:   "offset: total counts items",
		cfg:    &Config{Type: "offset", Limit: ip(3)},
		api:    items(10),
		wantOK: true,
		want:   []string{"/items?limit=3&offset=3", "/items?limit=3&offset=6", "/items?limit=3&offset=9"},
	}, {
		name:   "offset: maximum_offset caps the plan",
		cfg:    &Config{Type: "offset", Limit: ip(3), MaximumOffset: ip(7)},
		api:    items(100),
		wantOK: true,
		want:   []string{"/items?limit=3&offset=3", "/items?limit=3&offset=6"},
	}, {
		name:   "offset: total_path off",
		cfg:    &Config{Type: "offset", Limit: ip(3), TotalPath: sp("")},
		api:    items(10),
		wantOK: false,
	}, {
		name: "auto: detected page count",
		cfg:  nil,
		api: func(req *Request) (string, http.Header) {
			return fmt.Sprintf(`{"items":[{"id":%d}],"total_pages":3}`, pageNum(req, "page")), nil
		},
		wantOK: true,
		want:   []string{"/items?page=2", "/items?page=3"},
	}, {
		name:   "cursor never plans",
		cfg:    &Config{Type: "cursor", CursorPath: "next"},
		api:    func(*Request) (string, http.Header) { return `{"items":[{"id":1}],"next":"c2","total":5}`, nil },
		wantOK: false,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			req := getReq("http://api.test/items")
			p.Init(req)
			body, hdr := tt.api(req)
			if err := p.Update(page(t, body, "items", req.URL, hdr)); err != nil {
				t.Fatal(err)
			}
			pl, isPlanner := p.(Planner)
			var plan Plan
			var ok bool
			if isPlanner {
				plan, ok = pl.Plan()
			}
			if ok != tt.wantOK {
				t.Fatalf("Plan() ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			var got []string
			for k := 1; k <= plan.Pages; k++ {
				c := cloneReq(req)
				plan.Request(c, k)
				got = append(got, describe(c))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("planned\n got %q\nwant %q", got, tt.want)
			}
			// The plan is what a page-by-page walk sends after page 1.
			q, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			walked, err := run(t, q, getReq("http://api.test/items"), tt.api, "items")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, walked[1:]) {
				t.Errorf("planned %q, but a walk sends %q after the first page", got, walked[1:])
			}
		})
	}
}

// TestPlanFollowsTheLastTotal: a later page's total replaces the first
// one's, and an empty page ends the plan.
func TestPlanFollowsTheLastTotal(t *testing.T) {
	p, _ := New(&Config{Type: "page_number", BasePage: ip(1)})
	pl := p.(Planner)
	req := getReq("http://api.test/items")
	p.Init(req)
	steps := []struct {
		body   string
		wantN  int
		wantOK bool
	}{
		{`{"items":[{"id":1}],"total":3}`, 2, true},
		{`{"items":[{"id":2}],"total":6}`, 4, true},
		{`{"items":[{"id":3}]}`, 0, false}, // no total on this page
		{`{"items":[{"id":4}],"total":6}`, 2, true},
		{`{"items":[],"total":6}`, 0, false}, // empty: stops
	}
	var first Plan
	for i, s := range steps {
		if err := p.Update(page(t, s.body, "items", req.URL, nil)); err != nil {
			t.Fatal(err)
		}
		plan, ok := pl.Plan()
		if plan.Pages != s.wantN || ok != s.wantOK {
			t.Errorf("after page %d: Plan() = %d pages, %v; want %d, %v", i+1, plan.Pages, ok, s.wantN, s.wantOK)
		}
		if i == 0 {
			first = plan
		}
		p.Next(req)
	}
	// A plan does not move with the paginator.
	c := cloneReq(req)
	first.Request(c, 1)
	if got := describe(c); got != "/items?page=2" {
		t.Errorf("the first plan's first page, after more pages were seen: %s, want /items?page=2", got)
	}
}

func cloneReq(r *Request) *Request {
	c := *r
	c.Params = url.Values{}
	for k, v := range r.Params {
		c.Params[k] = append([]string(nil), v...)
	}
	if r.JSON != nil {
		c.JSON = map[string]any{}
		for k, v := range r.JSON {
			if m, ok := v.(map[string]any); ok {
				mm := map[string]any{}
				for kk, vv := range m {
					mm[kk] = vv
				}
				v = mm
			}
			c.JSON[k] = v
		}
	}
	return &c
}
