package paginate

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"
)

// seedAPI answers the seed's API: limit records a page (from the request),
// "total" counting records, and the seed's hasMore.
func seedAPI(total int) api {
	return func(req *Request) (string, http.Header) {
		limit := pageNum(req, "limit")
		n := pageNum(req, "page")
		count := min(limit, max(0, total-(n-1)*limit))
		return fmt.Sprintf(`{"entries":%s,"total":%d,"n":%d,"hasMore":%v}`, records(count), total, n, n*limit < total), nil
	}
}

func seedRequest(limit int) *Request {
	r := getReq("http://api.test/v2/files")
	r.Params.Set("limit", fmt.Sprint(limit))
	return r
}

// TestPlanRecordTotal: a total that counts records plans its page count,
// the total over the page size sent, counted from the first page asked for;
// the plan is what a page-by-page walk sends after the first page.
func TestPlanRecordTotal(t *testing.T) {
	seedForm := &Config{Type: "page_number", PageParam: "page", LimitParam: "limit", StartFromPage: ip(1)}
	tests := []struct {
		name  string
		cfg   *Config
		total int
		want  int // pages planned after the first
	}{
		{"seed form: total read as records", seedForm, 400, 3},
		{"seed form: a last page part full", seedForm, 399, 3},
		{"seed form: one more record, one more page", seedForm, 401, 4},
		{"total_counts records", &Config{Type: "page_number", LimitParam: "limit", StartFromPage: ip(1), TotalCounts: "records"}, 350, 3},
		{"total_counts records, explicit total_path", &Config{Type: "page_number", LimitParam: "limit", Page: ip(1), TotalPath: sp("total"), TotalCounts: "records"}, 250, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			req := seedRequest(100)
			p.Init(req)
			body, _ := seedAPI(tt.total)(req)
			if err := p.Update(page(t, body, "entries", req.URL, nil)); err != nil {
				t.Fatal(err)
			}
			plan, ok := p.(Planner).Plan()
			if !ok || plan.Pages != tt.want || plan.Open {
				t.Fatalf("Plan() = %d pages (open %v), %v; want %d", plan.Pages, plan.Open, ok, tt.want)
			}
			if got, ok := RecordTotal(p); !ok || got != int64(tt.total) {
				t.Errorf("RecordTotal() = %d, %v; want %d", got, ok, tt.total)
			}
			var planned []string
			for k := 1; k <= plan.Pages; k++ {
				c := cloneReq(req)
				plan.Request(c, k)
				planned = append(planned, describe(c))
			}
			q, _ := New(tt.cfg)
			walked, err := run(t, q, seedRequest(100), seedAPI(tt.total), "entries")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(planned, walked[1:]) {
				t.Errorf("planned %q, but a walk sends %q after the first page", planned, walked[1:])
			}
		})
	}
}

// TestRecordTotalStops: with total_counts: records, the total ends
// pagination (no hasMore needed); in the seed's form it only plans, and a
// wrong "total" (say, a page count) neither stops early nor late.
func TestRecordTotalStops(t *testing.T) {
	plain := func(total int) api { // no hasMore, no nextPage: only the total tells
		return func(req *Request) (string, http.Header) {
			limit, n := pageNum(req, "limit"), pageNum(req, "page")
			count := min(limit, max(0, total-(n-1)*limit))
			return fmt.Sprintf(`{"entries":%s,"total":%d,"n":%d}`, records(count), total, n), nil
		}
	}
	pagesNotRecords := func(pages int) api { // "total" is a page count
		return func(req *Request) (string, http.Header) {
			n := pageNum(req, "page")
			count := 2
			if n > pages {
				count = 0
			}
			return fmt.Sprintf(`{"entries":%s,"total":%d,"n":%d}`, records(count), pages, n), nil
		}
	}
	req := func() *Request { return seedRequest(2) }
	runCases(t, []walkCase{
		{name: "records total ends on the last full page", selector: "entries", req: req(),
			cfg:  &Config{Type: "page_number", LimitParam: "limit", StartFromPage: ip(1), TotalCounts: "records"},
			api:  plain(4),
			want: []string{"/v2/files?limit=2&page=1", "/v2/files?limit=2&page=2"}},
		{name: "seed form: a total that counts pages stops nothing", selector: "entries", req: req(),
			cfg:  &Config{Type: "page_number", LimitParam: "limit", StartFromPage: ip(1)},
			api:  pagesNotRecords(3),
			want: []string{"/v2/files?limit=2&page=1", "/v2/files?limit=2&page=2", "/v2/files?limit=2&page=3", "/v2/files?limit=2&page=4"}},
		{name: "records total, no limit sent: counts records", selector: "entries", req: getReq("http://api.test/v2/files"),
			cfg: &Config{Type: "page_number", LimitParam: "limit", StartFromPage: ip(1), TotalCounts: "records"},
			api: func(req *Request) (string, http.Header) {
				return fmt.Sprintf(`{"entries":%s,"total":5,"n":%d}`, records(2), pageNum(req, "page")), nil
			},
			want: []string{"/v2/files?page=1", "/v2/files?page=2", "/v2/files?page=3"}},
		{name: "records total that is not a number", selector: "entries", req: req(),
			cfg:     &Config{Type: "page_number", LimitParam: "limit", TotalCounts: "records"},
			api:     func(*Request) (string, http.Header) { return `{"entries":[1],"total":"all"}`, nil },
			want:    []string{"/v2/files?limit=2&page=0"},
			wantErr: `page_number: total_path "total" holds all, not a record count`},
	})
}

func TestTotalCountsCheck(t *testing.T) {
	tests := []struct {
		cfg  *Config
		want string
	}{
		{&Config{Type: "page_number", TotalCounts: "records"}, "total_counts: records needs the page size: set limit_param or limit_body_path"},
		{&Config{Type: "page_number", TotalCounts: "items", LimitParam: "limit"}, `total_counts: "items" is neither pages nor records`},
		{&Config{Type: "page_number", TotalCounts: "records", LimitBodyPath: "paging.size"}, ""},
		{&Config{Type: "page_number", TotalCounts: "pages"}, ""},
	}
	for _, tt := range tests {
		var got string
		for _, p := range Check(tt.cfg, nil) {
			got += p.Key + ": " + p.Msg
		}
		if got != tt.want {
			t.Errorf("Check(%+v) = %q, want %q", tt.cfg, got, tt.want)
		}
	}
}

// TestSpeculate: page numbers and offsets plan open-ended; maximum_page
// closes the plan; next_page_path and a finished walk do not speculate.
func TestSpeculate(t *testing.T) {
	tests := []struct {
		name     string
		cfg      *Config
		body     string
		wantOK   bool
		wantOpen bool
		want     []string // the first three planned requests
	}{
		{"page_number without a total", &Config{Type: "page_number", BasePage: ip(1), TotalPath: sp("")}, `{"items":[1,2]}`,
			true, true, []string{"/items?page=2", "/items?page=3", "/items?page=4"}},
		{"maximum_page closes it", &Config{Type: "page_number", BasePage: ip(1), TotalPath: sp(""), MaximumPage: ip(3)}, `{"items":[1,2]}`,
			true, false, []string{"/items?page=2"}},
		{"offset without a total", &Config{Type: "offset", Limit: ip(2), TotalPath: sp("")}, `{"items":[1,2]}`,
			true, true, []string{"/items?limit=2&offset=2", "/items?limit=2&offset=4", "/items?limit=2&offset=6"}},
		{"next_page_path", &Config{Type: "page_number", NextPagePath: "next"}, `{"items":[1,2],"next":"x"}`, false, false, nil},
		{"the last page", &Config{Type: "page_number", TotalPath: sp("")}, `{"items":[]}`, false, false, nil},
		{"cursor", &Config{Type: "cursor", CursorPath: "next"}, `{"items":[1],"next":"c"}`, false, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			req := getReq("http://api.test/items")
			p.Init(req)
			if err := p.Update(page(t, tt.body, "items", req.URL, nil)); err != nil {
				t.Fatal(err)
			}
			pl, isPlanner := p.(Planner)
			var plan Plan
			var ok bool
			if isPlanner {
				plan, ok = pl.Speculate()
			}
			if ok != tt.wantOK || plan.Open != tt.wantOpen {
				t.Fatalf("Speculate() open %v, ok %v; want %v, %v", plan.Open, ok, tt.wantOpen, tt.wantOK)
			}
			var got []string
			for k := 1; ok && k <= 3 && (plan.Open || k <= plan.Pages); k++ {
				c := cloneReq(req)
				plan.Request(c, k)
				got = append(got, describe(c))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("planned %q, want %q", got, tt.want)
			}
		})
	}
}
