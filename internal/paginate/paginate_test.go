package paginate

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/restload/restload/internal/response"
)

func ip(i int) *int       { return &i }
func bp(b bool) *bool     { return &b }
func sp(s string) *string { return &s }

// page builds a Response from a JSON body, counting records at selector.
func page(t *testing.T, body string, selector string, u *url.URL, hdr http.Header) *Response {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("bad test body %s: %v", body, err)
	}
	recs, err := response.Select(v, selector)
	if err != nil {
		t.Fatal(err)
	}
	return &Response{StatusCode: 200, Header: hdr, Body: v, Raw: []byte(body), Records: len(recs), URL: u}
}

// describe renders what a request asks for: its query and JSON body.
func describe(req *Request) string {
	q := req.URL.Query()
	for k, vs := range req.Params {
		q[k] = vs
	}
	s := req.URL.Path
	if enc := q.Encode(); enc != "" {
		s += "?" + enc
	}
	if req.JSON != nil {
		b, _ := json.Marshal(req.JSON)
		s += " " + string(b)
	}
	return s
}

// api answers a request with a body (and optional headers).
type api func(req *Request) (body string, hdr http.Header)

// run walks p over api and returns the requests it made and its error.
func run(t *testing.T, p Paginator, req *Request, a api, selector string) ([]string, error) {
	t.Helper()
	p.Init(req)
	var seen []string
	for range 50 {
		seen = append(seen, describe(req))
		full := *req.URL
		q := full.Query()
		for k, vs := range req.Params {
			q[k] = vs
		}
		full.RawQuery = q.Encode()
		body, hdr := a(req)
		if err := p.Update(page(t, body, selector, &full, hdr)); err != nil {
			return seen, err
		}
		if !p.HasNext() {
			return seen, nil
		}
		p.Next(req)
	}
	t.Fatalf("paginator did not stop after 50 pages: %v", seen)
	return nil, nil
}

func getReq(raw string) *Request {
	u, _ := url.Parse(raw)
	return &Request{URL: u, Method: "GET", Params: url.Values{}}
}

// records renders n records as a JSON list.
func records(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"id":%d}`, i)
	}
	return "[" + strings.Join(items, ",") + "]"
}

// pageNum reads the page param (query or body) as an int; -1 if absent.
func pageNum(req *Request, name string) int {
	v, ok := readParam(req, name, "")
	if req.JSON != nil {
		v, ok = response.Lookup(req.JSON, name)
	}
	if !ok {
		return -1
	}
	n, err := toInt(v)
	if err != nil {
		return -1
	}
	return n
}

type walkCase struct {
	name     string
	cfg      *Config
	req      *Request
	api      api
	selector string
	want     []string
	wantErr  string
}

func runCases(t *testing.T, cases []walkCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			req := tt.req
			if req == nil {
				req = getReq("http://api.test/items")
			}
			sel := tt.selector
			if sel == "" {
				sel = "items"
			}
			got, err := run(t, p, req, tt.api, sel)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v\nwant %s", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("unexpected error %v after %v", err, got)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("requests\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestPageNumber(t *testing.T) {
	// totalPages answers page n of a list of `pages` pages.
	totalPages := func(pages, base int) api {
		return func(req *Request) (string, http.Header) {
			n := pageNum(req, "page")
			if n-base >= pages {
				return `{"items":[],"total":` + fmt.Sprint(pages) + `}`, nil
			}
			return fmt.Sprintf(`{"items":%s,"total":%d,"n":%d}`, records(2), pages, n), nil
		}
	}
	// endless returns full pages forever (each distinct).
	endless := func(extra string) api {
		return func(req *Request) (string, http.Header) {
			return fmt.Sprintf(`{"items":%s,"n":%d%s}`, records(2), pageNum(req, "page"), extra), nil
		}
	}
	// seed is the seed API: total counts records, limit from the request.
	seed := func(total int, extra func(n, pages int) string) api {
		return func(req *Request) (string, http.Header) {
			limit := pageNum(req, "limit")
			n := pageNum(req, "page")
			count := min(limit, max(0, total-(n-1)*limit))
			pages := (total + limit - 1) / limit
			return fmt.Sprintf(`{"entries":%s,"total":%d,"n":%d%s}`, records(count), total, n, extra(n, pages)), nil
		}
	}
	none := func(int, int) string { return "" }
	seedCfg := &Config{Type: "page_number", PageParam: "page", LimitParam: "limit", StartFromPage: ip(1)}
	seedReq := func() *Request {
		r := getReq("http://api.test/v2/files")
		r.Params.Set("limit", "2")
		return r
	}
	runCases(t, []walkCase{
		{name: "dlt defaults: base 0, total pages", cfg: &Config{Type: "page_number"},
			api: totalPages(3, 0), want: []string{"/items?page=0", "/items?page=1", "/items?page=2"}},
		{name: "base 1 with total pages", cfg: &Config{Type: "page_number", BasePage: ip(1)},
			api: totalPages(2, 1), want: []string{"/items?page=1", "/items?page=2"}},
		{name: "start page beyond base", cfg: &Config{Type: "page_number", BasePage: ip(1), Page: ip(2)},
			api: totalPages(3, 1), want: []string{"/items?page=2", "/items?page=3"}},
		{name: "stop after empty page", cfg: &Config{Type: "page_number", BasePage: ip(1), TotalPath: sp("")},
			api: totalPages(2, 1), want: []string{"/items?page=1", "/items?page=2", "/items?page=3"}},
		{name: "maximum_page is not fetched (dlt)", cfg: &Config{Type: "page_number", BasePage: ip(1), MaximumPage: ip(3), TotalPath: sp("")},
			api: endless(""), want: []string{"/items?page=1", "/items?page=2"}},
		{name: "has_more false stops", cfg: &Config{Type: "page_number", HasMorePath: "meta.more", TotalPath: sp("")},
			api: func(req *Request) (string, http.Header) {
				return fmt.Sprintf(`{"items":%s,"n":%d,"meta":{"more":%v}}`, records(1), pageNum(req, "page"), pageNum(req, "page") < 1), nil
			}, want: []string{"/items?page=0", "/items?page=1"}},
		{name: "has_more true does not override maximum_page", cfg: &Config{Type: "page_number", HasMorePath: "more", MaximumPage: ip(2)},
			api: endless(`,"more":true`), want: []string{"/items?page=0", "/items?page=1"}},
		{name: "custom param and body path", cfg: &Config{Type: "page_number", PageBodyPath: "paging.page", BasePage: ip(1)},
			req: &Request{URL: mustURL("http://api.test/search"), Method: "POST", JSON: map[string]any{"q": "x"}},
			api: func(req *Request) (string, http.Header) {
				n := pageNum(req, "paging.page")
				return fmt.Sprintf(`{"items":%s,"total":2,"n":%d}`, records(1), n), nil
			}, want: []string{`/search {"paging":{"page":1},"q":"x"}`, `/search {"paging":{"page":2},"q":"x"}`}},
		{name: "seed form: short page stops, total counts records", cfg: seedCfg, req: seedReq(), selector: "entries",
			api:  seed(5, none),
			want: []string{"/v2/files?limit=2&page=1", "/v2/files?limit=2&page=2", "/v2/files?limit=2&page=3"}},
		{name: "seed form: exact multiple ends on the empty page", cfg: seedCfg, req: seedReq(), selector: "entries",
			api:  seed(4, none),
			want: []string{"/v2/files?limit=2&page=1", "/v2/files?limit=2&page=2", "/v2/files?limit=2&page=3"}},
		{name: "seed form: hasMore false stops at once", cfg: seedCfg, req: seedReq(), selector: "entries",
			api:  seed(4, func(n, pages int) string { return fmt.Sprintf(`,"hasMore":%v`, n < pages) }),
			want: []string{"/v2/files?limit=2&page=1", "/v2/files?limit=2&page=2"}},
		{name: "seed form: null nextPage stops", cfg: seedCfg, req: seedReq(), selector: "entries",
			api: seed(4, func(n, pages int) string {
				if n < pages {
					return fmt.Sprintf(`,"nextPage":"%d"`, n+1)
				}
				return `,"nextPage":null`
			}),
			want: []string{"/v2/files?limit=2&page=1", "/v2/files?limit=2&page=2"}},
		{name: "seed form: hasMore true beats a capped limit", cfg: seedCfg, req: seedReq(), selector: "entries",
			api: func(req *Request) (string, http.Header) {
				n := pageNum(req, "page") // the API caps limit at 1
				return fmt.Sprintf(`{"entries":%s,"n":%d,"hasMore":%v}`, records(1), n, n < 3), nil
			},
			want: []string{"/v2/files?limit=2&page=1", "/v2/files?limit=2&page=2", "/v2/files?limit=2&page=3"}},
		{name: "next_page_path sends the opaque token", selector: "entries",
			cfg: &Config{Type: "page_number", NextPagePath: "nextPage"},
			api: func(req *Request) (string, http.Header) {
				next := map[string]string{"": `"tB"`, "tB": `"tC"`, "tC": `null`}[req.Params.Get("page")]
				return fmt.Sprintf(`{"entries":%s,"nextPage":%s}`, records(1), next), nil
			},
			want: []string{"/items", "/items?page=tB", "/items?page=tC"}},
		{name: "API ignoring the page param is a loop", cfg: &Config{Type: "page_number", TotalPath: sp("")},
			api:     func(*Request) (string, http.Header) { return `{"items":[{"id":1}]}`, nil },
			want:    []string{"/items?page=0", "/items?page=1"},
			wantErr: "paginator: page 2 is identical to page 1; the API is looping"},
		{name: "repeated next page token", selector: "entries",
			cfg: &Config{Type: "page_number", NextPagePath: "nextPage"},
			api: func(req *Request) (string, http.Header) {
				return `{"entries":[1],"nextPage":"abc","p":"` + req.Params.Get("page") + `"}`, nil
			},
			want:    []string{"/items", "/items?page=abc"},
			wantErr: `paginator: next page "abc" repeated at page 2 (first seen at page 1); the API is looping`},
		{name: "missing total with nothing else to stop", cfg: &Config{Type: "page_number", StopAfterEmptyPage: bp(false)},
			api:     endless(""),
			want:    []string{"/items?page=0"},
			wantErr: `page_number: total_path "total" not found in the response and nothing else can end pagination; set total_path to the page count's path, or has_more_path, maximum_page or stop_after_empty_page`},
		{name: "total that is not a number", cfg: &Config{Type: "page_number"},
			api:     func(*Request) (string, http.Header) { return `{"items":[1],"total":"many"}`, nil },
			want:    []string{"/items?page=0"},
			wantErr: `page_number: total_path "total" holds many, not a page count`},
	})
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestOffset(t *testing.T) {
	items := func(total int, extra string) api {
		return func(req *Request) (string, http.Header) {
			off, lim := pageNum(req, "offset"), pageNum(req, "limit")
			if req.JSON != nil {
				off, lim = pageNum(req, "range.from"), pageNum(req, "range.size")
			}
			n := min(lim, max(0, total-off))
			return fmt.Sprintf(`{"items":%s,"total":%d,"o":%d%s}`, records(n), total, off, extra), nil
		}
	}
	runCases(t, []walkCase{
		{name: "total items", cfg: &Config{Type: "offset", Limit: ip(10)},
			api: items(25, ""), want: []string{"/items?limit=10&offset=0", "/items?limit=10&offset=10", "/items?limit=10&offset=20"}},
		{name: "custom params and start", cfg: &Config{Type: "offset", Limit: ip(10), Offset: ip(10), OffsetParam: "skip", LimitParam: "take"},
			api: func(req *Request) (string, http.Header) {
				return fmt.Sprintf(`{"items":%s,"total":30,"s":%s}`, records(10), req.Params.Get("skip")), nil
			}, want: []string{"/items?skip=10&take=10", "/items?skip=20&take=10"}},
		{name: "body paths", cfg: &Config{Type: "offset", Limit: ip(10), OffsetBodyPath: "range.from", LimitBodyPath: "range.size"},
			req: &Request{URL: mustURL("http://api.test/q"), Method: "POST", JSON: map[string]any{}},
			api: items(15, ""), want: []string{`/q {"range":{"from":0,"size":10}}`, `/q {"range":{"from":10,"size":10}}`}},
		{name: "maximum_offset beats has_more", cfg: &Config{Type: "offset", Limit: ip(10), MaximumOffset: ip(20), HasMorePath: "more", TotalPath: sp("")},
			api: items(1000, `,"more":true`), want: []string{"/items?limit=10&offset=0", "/items?limit=10&offset=10"}},
		{name: "empty page stops without total", cfg: &Config{Type: "offset", Limit: ip(10), TotalPath: sp("")},
			api: items(20, ""), want: []string{"/items?limit=10&offset=0", "/items?limit=10&offset=10", "/items?limit=10&offset=20"}},
		{name: "repeating API", cfg: &Config{Type: "offset", Limit: ip(1), TotalPath: sp("")},
			api:     func(*Request) (string, http.Header) { return `{"items":[1]}`, nil },
			want:    []string{"/items?limit=1&offset=0", "/items?limit=1&offset=1"},
			wantErr: "paginator: page 2 is identical to page 1; the API is looping"},
	})
	if _, err := New(&Config{Type: "offset"}); err == nil || !strings.Contains(err.Error(), "limit is required") {
		t.Errorf("offset without limit: err = %v", err)
	}
}

func TestCursor(t *testing.T) {
	chain := map[string]string{"": `"c1"`, "c1": `"c2"`, "c2": `null`}
	runCases(t, []walkCase{
		{name: "cursors.next default", cfg: &Config{Type: "cursor"},
			api: func(req *Request) (string, http.Header) {
				return fmt.Sprintf(`{"items":[1],"cursors":{"next":%s}}`, chain[req.Params.Get("cursor")]), nil
			}, want: []string{"/items", "/items?cursor=c1", "/items?cursor=c2"}},
		{name: "missing cursor stops", cfg: &Config{Type: "cursor", CursorPath: "next_cursor", CursorParam: "after"},
			api: func(req *Request) (string, http.Header) {
				if req.Params.Get("after") == "" {
					return `{"items":[1],"next_cursor":42}`, nil
				}
				return `{"items":[2]}`, nil
			}, want: []string{"/items", "/items?after=42"}},
		{name: "empty cursor stops", cfg: &Config{Type: "cursor", CursorPath: "next"},
			api:  func(*Request) (string, http.Header) { return `{"items":[1],"next":""}`, nil },
			want: []string{"/items"}},
		{name: "body path", cfg: &Config{Type: "cursor", CursorPath: "meta.after", CursorBodyPath: "page.after"},
			req: &Request{URL: mustURL("http://api.test/q"), Method: "POST", JSON: map[string]any{"q": 1}},
			api: func(req *Request) (string, http.Header) {
				if req.JSON["page"] == nil {
					return `{"items":[1],"meta":{"after":"x"}}`, nil
				}
				return `{"items":[2],"meta":{"after":null}}`, nil
			}, want: []string{`/q {"q":1}`, `/q {"page":{"after":"x"},"q":1}`}},
		{name: "repeated cursor", cfg: &Config{Type: "cursor", CursorPath: "next"},
			api: func(req *Request) (string, http.Header) {
				next := map[string]string{"": "abc", "abc": "def", "def": "abc"}[req.Params.Get("cursor")]
				return fmt.Sprintf(`{"items":[1],"next":%q,"at":%q}`, next, req.Params.Get("cursor")), nil
			},
			want:    []string{"/items", "/items?cursor=abc", "/items?cursor=def"},
			wantErr: `paginator: cursor "abc" repeated at page 3 (first seen at page 1); the API is looping`},
	})
}

func TestJSONLink(t *testing.T) {
	runCases(t, []walkCase{
		{name: "relative and absolute links", cfg: &Config{Type: "json_link", NextURLPath: "links.next"},
			req: &Request{URL: mustURL("http://api.test/v1/items"), Method: "GET", Params: url.Values{"limit": {"2"}}},
			api: func(req *Request) (string, http.Header) {
				switch req.URL.RawQuery {
				case "":
					return `{"items":[1],"links":{"next":"items?limit=2&page=2"}}`, nil
				case "limit=2&page=2":
					return `{"items":[2],"links":{"next":"http://api.test/v1/items?limit=2&page=3"}}`, nil
				}
				return `{"items":[3],"links":{"next":null}}`, nil
			}, want: []string{"/v1/items?limit=2", "/v1/items?limit=2&page=2", "/v1/items?limit=2&page=3"}},
		{name: "repeated next URL", cfg: &Config{Type: "json_link"},
			api: func(req *Request) (string, http.Header) {
				return `{"items":[1],"next":"/items?p=1","q":"` + req.URL.RawQuery + `"}`, nil
			},
			want:    []string{"/items", "/items?p=1"},
			wantErr: `paginator: next URL "http://api.test/items?p=1" repeated at page 2 (first seen at page 1); the API is looping`},
	})
}

func TestHeaderLinkAndCursor(t *testing.T) {
	runCases(t, []walkCase{
		{name: "Link header", cfg: &Config{Type: "header_link"},
			api: func(req *Request) (string, http.Header) {
				if req.URL.Query().Get("page") == "2" {
					return `{"items":[2]}`, http.Header{"Link": {`<http://api.test/items?page=1>; rel="prev first"`}}
				}
				return `{"items":[1]}`, http.Header{"Link": {`<http://api.test/items?page=2>; rel="next", <http://api.test/items?page=9>; rel="last"`}}
			}, want: []string{"/items", "/items?page=2"}},
		{name: "header cursor", cfg: &Config{Type: "header_cursor", CursorKey: "X-Next", CursorParam: "from"},
			api: func(req *Request) (string, http.Header) {
				if req.Params.Get("from") == "" {
					return `{"items":[1]}`, http.Header{"X-Next": {"k9"}}
				}
				return `{"items":[2]}`, nil
			}, want: []string{"/items", "/items?from=k9"}},
		{name: "single page", cfg: &Config{Type: "single_page"},
			api:  func(*Request) (string, http.Header) { return `{"items":[1],"next":"/x"}`, nil },
			want: []string{"/items"}},
	})
}

func TestParseLinkHeader(t *testing.T) {
	got := ParseLinkHeader([]string{
		`<https://a.test/x?page=2>; rel="next"; title="a, b; c", <https://a.test/x?page=1>; rel=prev`,
		`<https://a.test/x?page=5>; REL="last next"`,
	})
	want := map[string]string{"next": "https://a.test/x?page=2", "prev": "https://a.test/x?page=1", "last": "https://a.test/x?page=5"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name, body string
		hdr        http.Header
		wantType   string
		wantWhy    string
	}{
		{"link header", `{"items":[1]}`, http.Header{"Link": {`<http://api.test/items?page=2>; rel="next"`}}, "*paginate.HeaderLink", "Link header"},
		{"next url", `{"items":[1],"links":{"next":"https://api.test/items?page=2"}}`, nil, "*paginate.JSONLink", `"links.next"`},
		{"relative next url", `{"items":[1],"next":"/items?page=2"}`, nil, "*paginate.JSONLink", `"next"`},
		{"total pages", `{"items":[1],"meta":{"total_pages":4}}`, nil, "*paginate.PageNumber", `"meta.total_pages"`},
		{"cursor", `{"entries":[1],"nextPage":"abc","total":9}`, nil, "*paginate.Cursor", `sent back as "page"`},
		{"next_cursor", `{"items":[1],"next_cursor":"abc"}`, nil, "*paginate.Cursor", `sent back as "cursor"`},
		{"null next", `{"entries":[1],"nextPage":null}`, nil, "*paginate.SinglePage", "only one page"},
		{"string pages is not a count", `{"items":[1],"pages":"4"}`, nil, "*paginate.SinglePage", "only one page"},
		{"plain list", `[1,2]`, nil, "*paginate.SinglePage", "only one page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, why := Detect(page(t, tt.body, "$", mustURL("http://api.test/items"), tt.hdr))
			if got := fmt.Sprintf("%T", p); got != tt.wantType || !strings.Contains(why, tt.wantWhy) {
				t.Errorf("Detect = %s (%s), want %s (...%s...)", got, why, tt.wantType, tt.wantWhy)
			}
		})
	}
}

func TestAutoWalksDetectedPaginators(t *testing.T) {
	runCases(t, []walkCase{
		{name: "seed API via nextPage cursor", selector: "entries",
			api: func(req *Request) (string, http.Header) {
				next := map[string]string{"": `"p2"`, "p2": `"p3"`, "p3": `null`}[req.Params.Get("page")]
				return fmt.Sprintf(`{"entries":[1],"nextPage":%s,"total":3}`, next), nil
			}, want: []string{"/items", "/items?page=p2", "/items?page=p3"}},
		{name: "total pages starts counting at 1", cfg: &Config{Type: "auto"},
			api: func(req *Request) (string, http.Header) {
				return fmt.Sprintf(`{"items":[1],"total_pages":3,"p":%q}`, req.Params.Get("page")), nil
			}, want: []string{"/items", "/items?page=2", "/items?page=3"}},
	})
	a := &Auto{}
	if err := a.Update(page(t, `{"x":1}`, "$", nil, nil)); err != nil {
		t.Fatal(err)
	}
	if p, why := a.Detected(); fmt.Sprintf("%T", p) != "*paginate.SinglePage" || why == "" || a.HasNext() {
		t.Errorf("Detected = %T %q", p, why)
	}
}

func TestNewRejects(t *testing.T) {
	for _, cfg := range []*Config{
		{Type: "pages"},
		{Type: "page_number", BasePage: ip(1), MaximumPage: ip(1)},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", *cfg)
		}
	}
}

// FuzzParseLinkHeader parses any Link header and follows its next link as
// header_link does: nothing may panic or hang, and every URL returned is a
// piece of the header.
func FuzzParseLinkHeader(f *testing.F) {
	for _, s := range []string{
		`<https://a.test/x?page=2>; rel="next"; title="a, b; c", <https://a.test/x?page=1>; rel=prev`,
		`<https://a.test/x?page=5>; REL="last next"`,
		`</items?page=2>; rel=next`,
		`<>; rel=next`,
		`<a>; rel="next, <b>; rel=prev`,
		`<<>>;;;,,,rel=;rel="";"`,
		`<http://[::1]:80/%zz>; rel=next`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		for rel, u := range ParseLinkHeader([]string{h, h}) {
			if !strings.Contains(h, u) || !strings.Contains(strings.ToLower(h), rel) {
				t.Fatalf("rel %q -> %q is not from the header %q", rel, u, h)
			}
		}
		p := newHeaderLink(&Config{Type: "header_link"})
		resp := &Response{StatusCode: 200, Header: http.Header{"Link": {h}}, URL: mustURL("http://api.test/items")}
		if err := p.Update(resp); err == nil && p.HasNext() {
			req := &Request{URL: mustURL("http://api.test/items")}
			p.Next(req)
		}
	})
}
