package paginate

import (
	"net/http"
	"net/url"
	"testing"
)

// TestReasons: every paginator kind says in words why it asks for the next
// page or stops, naming the value it sends and the field that decided
// (issue 13, part 3).
func TestReasons(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1/items")
	cases := []struct {
		name     string
		cfg      Config
		body     string
		selector string
		hdr      http.Header
		want     []string // the reason after each body in turn
		bodies   []string
	}{
		{name: "page_number hasMore", cfg: Config{Type: "page_number", BasePage: ip(1), TotalPath: sp("")}, selector: "data",
			bodies: []string{`{"data":[1],"hasMore":true}`, `{"data":[2],"hasMore":false}`},
			want:   []string{"next: page=2 (hasMore is true)", "stop: hasMore is false"}},
		{name: "page_number short page", cfg: Config{Type: "page_number", BasePage: ip(1), LimitParam: "limit"}, selector: "data",
			bodies: []string{`{"data":[1,2]}`, `{"data":[3]}`},
			want:   []string{"next: page=2 (page full (2 records, limit 2))", "stop: page shorter than limit (1 < 2)"}},
		{name: "page_number total", cfg: Config{Type: "page_number", BasePage: ip(1)}, selector: "data",
			bodies: []string{`{"data":[1],"total":2}`, `{"data":[2],"total":2}`},
			want:   []string{"next: page=2 (total says 2 pages)", "stop: total says 2 pages, all read"}},
		{name: "page_number empty", cfg: Config{Type: "page_number", TotalPath: sp("")}, selector: "data",
			bodies: []string{`{"data":[1]}`, `{"data":[]}`},
			want:   []string{"next: page=1 (page had records)", "stop: page had no records"}},
		{name: "page_number maximum_page", cfg: Config{Type: "page_number", TotalPath: sp(""), MaximumPage: ip(1)}, selector: "data",
			bodies: []string{`{"data":[1]}`},
			want:   []string{"stop: next page 1 reaches maximum_page 1"}},
		{name: "offset total", cfg: Config{Type: "offset", Limit: ip(1)}, selector: "data",
			bodies: []string{`{"data":[1],"total":2}`, `{"data":[2],"total":2}`},
			want:   []string{"next: offset=1 (total is 2)", "stop: next offset 2 reaches total 2"}},
		{name: "cursor", cfg: Config{Type: "cursor", CursorPath: "next"}, selector: "data",
			bodies: []string{`{"data":[1],"next":"c\u001b2"}`, `{"data":[2],"next":null}`},
			want:   []string{`next: cursor=c\x1b2 (next is set)`, "stop: next is null or missing"}},
		{name: "json_link", cfg: Config{Type: "json_link", NextURLPath: "links.next"}, selector: "data",
			bodies: []string{`{"data":[1],"links":{"next":"/items?p=2"}}`, `{"data":[2],"links":{"next":""}}`},
			want:   []string{"next: follow the next URL", "stop: no next URL"}},
		{name: "single_page", cfg: Config{Type: "single_page"}, selector: "data",
			bodies: []string{`{"data":[1]}`}, want: []string{"stop: single_page reads one page"}},
		{name: "auto", cfg: Config{}, selector: "data",
			bodies: []string{`{"data":[1],"next":"/items?p=2"}`}, want: []string{"next: follow the next URL"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := New(&c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			req := &Request{URL: u, Method: "GET", Params: url.Values{}}
			if c.cfg.LimitParam != "" {
				req.Params.Set(c.cfg.LimitParam, "2")
			}
			p.Init(req)
			for i, b := range c.bodies {
				if err := p.Update(page(t, b, c.selector, u, c.hdr)); err != nil {
					t.Fatal(err)
				}
				if got := Reason(p); got != c.want[i] {
					t.Errorf("page %d: reason %q, want %q", i+1, got, c.want[i])
				}
				if p.HasNext() {
					p.Next(req)
				}
			}
		})
	}
}
