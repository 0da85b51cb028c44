package paginate

import (
	"fmt"

	"github.com/restload/restload/internal/kind"
	"github.com/restload/restload/internal/response"
)

func init() {
	register(Kind{
		Spec: kind.Spec{
			Name: "page_number", Rank: 1,
			Optional: []string{"base_page", "page", "start_from_page", "page_param", "page_body_path",
				"total_path", "maximum_page", "stop_after_empty_page", "has_more_path", "next_page_path",
				"limit_param", "limit_body_path", "total_counts"},
			Doc: "`base_page` (0), `page` (first page, default `base_page`), `start_from_page` **(restload alias of `page`)**, `page_param` (`page`) or `page_body_path`, `total_path` (`total`, total pages; `null` or `\"\"` turns it off), `total_counts` **(restload: `pages` (default) or `records`: total_path counts records, pages of the size sent in `limit_param`)**, `maximum_page`, `stop_after_empty_page` (true), `has_more_path`, `limit_param` / `limit_body_path` **(restload)**, `next_page_path` **(restload: send the opaque value at this response path as the next page)**",
		},
		Defaults: func(c *Config) {
			if c.Page == nil && c.StartFromPage != nil {
				n := *c.StartFromPage
				c.Page = &n
			}
		},
		Check: func(c *Config) []kind.Problem {
			out := neverStops(c)
			switch c.TotalCounts {
			case "", "pages":
			case "records":
				if c.LimitParam == "" && c.LimitBodyPath == "" {
					out = append(out, kind.Problem{Key: "total_counts", Msg: "records needs the page size: set limit_param or limit_body_path"})
				}
			default:
				out = append(out, kind.Problem{Key: "total_counts", Msg: fmt.Sprintf("%q is neither pages nor records", c.TotalCounts)})
			}
			return out
		},
		New: func(c *Config) (Paginator, error) { return newPageNumber(c) },
	})
}

// PageNumber asks for pages by number: page_param=base_page, base_page+1...
//
// It stops, whichever comes first, when: a page has no records
// (stop_after_empty_page, default true); the next page would be past
// total_path's page count (or, with total_counts: records, past the pages
// that hold total_path's record count, counted from the first page asked
// for); the next page number reaches maximum_page (as in
// dlt, maximum_page itself is not fetched); has_more_path reads false; a
// page holds fewer records than the limit sent in limit_param; or, with
// next_page_path, the value there is null or missing. Without
// has_more_path, a root "hasMore": false or a root "nextPage": null also
// stop it (the seed API's own signals); a root "hasMore": true or non-null
// "nextPage" overrides the short-page rule, for APIs that cap the limit.
// Nothing ever overrides maximum_page.
//
// In the seed's form (start_from_page or limit_param, no total_path and no
// next_page_path) a root "total" is read as a record count, but only to
// plan the pages fetched ahead (see Plan): it never stops pagination, so an
// API whose "total" means something else loses nothing by it.
type PageNumber struct {
	page           int
	first          int // the first page asked for
	totalRecords   bool
	hintPath       string // seed form: a record count that only plans
	base           int
	param          string
	bodyPath       string
	totalPath      string
	maxPage        *int
	stopAfterEmpty bool
	hasMorePath    string
	limitParam     string
	limitBodyPath  string
	nextPagePath   string

	limit    int // from the request's limit_param; 0: unknown
	token    any // next_page_path value to send next
	hasNext  bool
	seen     int  // records on the pages so far
	end      int  // the first page number not to fetch, from the last page's total
	haveEnd  bool // the last page gave one
	records  int  // the last page's record total (total_counts: records, or the seed form's)
	haveRecs bool // the last page had one
	g        guard
	reason
}

func newPageNumber(cfg *Config) (*PageNumber, error) {
	p := &PageNumber{
		base:           intOr(cfg.BasePage, 0),
		param:          orDefault(cfg.PageParam, "page"),
		bodyPath:       cfg.PageBodyPath,
		maxPage:        cfg.MaximumPage,
		stopAfterEmpty: boolOr(cfg.StopAfterEmptyPage, true),
		hasMorePath:    cfg.HasMorePath,
		limitParam:     cfg.LimitParam,
		limitBodyPath:  cfg.LimitBodyPath,
		nextPagePath:   cfg.NextPagePath,
	}
	p.page = p.base
	start := cfg.Page
	if start == nil {
		start = cfg.StartFromPage
	}
	if start != nil {
		p.page = *start
	}
	p.first = p.page
	p.totalRecords = cfg.TotalCounts == "records"
	seedForm := cfg.StartFromPage != nil || cfg.LimitParam != "" || cfg.LimitBodyPath != ""
	switch {
	case cfg.TotalPath != nil:
		p.totalPath = *cfg.TotalPath
	case p.totalRecords:
		p.totalPath = "total"
	case cfg.NextPagePath != "":
	case seedForm:
		// The seed's form (start_from_page, limit_param) comes from APIs
		// whose "total" counts records, not pages; reading it as dlt's
		// page count would stop too early or too late. There, total_path
		// is off unless written out, and "total" only plans pages ahead.
		p.hintPath = "total"
	default:
		p.totalPath = "total"
	}
	if p.maxPage != nil && *p.maxPage <= p.page {
		return nil, fmt.Errorf("page_number: maximum_page %d must be greater than the first page %d", *p.maxPage, p.page)
	}
	return p, nil
}

// Init sets the first page number, and reads the page size from the
// request's limit parameter.
func (p *PageNumber) Init(req *Request) {
	p.readLimit(req)
	if p.nextPagePath != "" {
		return // the first page is asked for without a page value
	}
	setParam(req, p.param, p.bodyPath, p.page)
}

func (p *PageNumber) readLimit(req *Request) {
	if v, ok := readParam(req, p.limitParam, p.limitBodyPath); ok {
		if n, err := toInt(v); err == nil && n > 0 {
			p.limit = n
		}
	}
}

// Update decides from the page whether to fetch another.
func (p *PageNumber) Update(resp *Response) error {
	p.g.begin()
	p.hasNext, p.haveEnd, p.haveRecs = false, false, false
	p.seen += resp.Records
	if p.stopAfterEmpty && resp.Records == 0 {
		p.stop("page had no records")
		return nil
	}
	p.page++

	stop, why := "", "" // the first reason to stop; why to go on
	stopIf := func(cond bool, format string, args ...any) {
		if cond && stop == "" {
			stop = fmt.Sprintf(format, args...)
		}
	}
	explicit := false // the response itself said whether more pages exist
	if p.totalPath != "" {
		v, ok := response.Lookup(resp.Body, p.totalPath)
		if ok && v != nil {
			total, err := toInt(v)
			switch {
			case err != nil && p.totalRecords:
				return fmt.Errorf("page_number: total_path %q holds %v, not a record count", p.totalPath, v)
			case err != nil:
				return fmt.Errorf("page_number: total_path %q holds %v, not a page count", p.totalPath, v)
			case p.totalRecords && p.limit == 0:
				// No page size to count pages with: count records.
				p.records, p.haveRecs = total, true
				stopIf(p.seen >= total, "%s says %d records, all read", p.totalPath, total)
				why = fmt.Sprintf("%s says %d records, %d read", p.totalPath, total, p.seen)
			case p.totalRecords:
				p.records, p.haveRecs = total, true
				pages := p.pagesOf(total)
				p.end, p.haveEnd = p.first+pages, true
				stopIf(p.page >= p.end, "%s says %d records, %d pages of %d, all read", p.totalPath, total, pages, p.limit)
				why = fmt.Sprintf("%s says %d records, %d pages of %d", p.totalPath, total, pages, p.limit)
			default:
				p.end, p.haveEnd = total+p.base, true
				stopIf(p.page >= p.end, "%s says %d pages, all read", p.totalPath, total)
				why = fmt.Sprintf("%s says %d pages", p.totalPath, total)
			}
			explicit = true
		} else if !p.stopAfterEmpty && p.maxPage == nil && p.hasMorePath == "" && p.limit == 0 {
			return fmt.Errorf("page_number: total_path %q not found in the response and nothing else can end pagination; set total_path to the page count's path, or has_more_path, maximum_page or stop_after_empty_page", p.totalPath)
		}
	}
	if p.hintPath != "" && p.limit > 0 {
		if v, ok := response.Lookup(resp.Body, p.hintPath); ok {
			if total, err := toInt(v); err == nil && total >= 0 {
				p.records, p.haveRecs = total, true
				p.end, p.haveEnd = p.first+p.pagesOf(total), true
			}
		}
	}
	if p.hasMorePath != "" {
		v, ok := response.Lookup(resp.Body, p.hasMorePath)
		more, isFlag := hasMore(v)
		if !ok || !isFlag {
			return fmt.Errorf("page_number: has_more_path %q holds %v, not true or false", p.hasMorePath, v)
		}
		explicit = true
		stopIf(!more, "%s is false", p.hasMorePath)
		why = p.hasMorePath + " is true"
	} else if root, ok := resp.Body.(map[string]any); ok {
		if v, ok := root["hasMore"]; ok {
			if more, isFlag := hasMore(v); isFlag {
				explicit = true
				stopIf(!more, "hasMore is false")
				why = "hasMore is true"
			}
		}
		if v, ok := root["nextPage"]; ok && p.nextPagePath == "" {
			explicit = true
			stopIf(empty(v), "nextPage is %s", emptyWord(v))
			if why == "" {
				why = "nextPage is set"
			}
		}
	}
	if p.nextPagePath != "" {
		v, _ := response.Lookup(resp.Body, p.nextPagePath)
		if empty(v) {
			stopIf(true, "%s is %s", p.nextPagePath, emptyWord(v))
		} else {
			explicit = true
			if err := p.g.token("next page", stringify(v)); err != nil {
				return err
			}
			p.token = v
			why = p.nextPagePath + " is set"
		}
	}
	if !explicit && p.limit > 0 {
		stopIf(resp.Records < p.limit, "page shorter than limit (%d < %d)", resp.Records, p.limit)
		why = fmt.Sprintf("page full (%d records, limit %d)", resp.Records, p.limit)
	}
	if p.maxPage != nil {
		stopIf(p.page >= *p.maxPage, "next page %d reaches maximum_page %d", p.page, *p.maxPage)
	}
	if stop != "" {
		p.stop("%s", stop)
		return nil
	}
	if err := p.g.body(resp); err != nil {
		return err
	}
	p.hasNext = true
	if why == "" {
		why = "page had records"
	}
	if p.nextPagePath != "" {
		p.more("%s (%s)", sent(p.param, p.bodyPath, p.token), why)
	} else {
		p.more("%s (%s)", sent(p.param, p.bodyPath, p.page), why)
	}
	return nil
}

// pagesOf returns how many pages of p.limit records hold total records.
func (p *PageNumber) pagesOf(total int) int {
	return int((int64(max(total, 0)) + int64(p.limit) - 1) / int64(p.limit))
}

// HasNext reports whether another page should be fetched.
func (p *PageNumber) HasNext() bool { return p.hasNext }

// Next asks for the next page number (or next_page_path's value).
func (p *PageNumber) Next(req *Request) {
	if p.nextPagePath != "" {
		setParam(req, p.param, p.bodyPath, p.token)
		return
	}
	setParam(req, p.param, p.bodyPath, p.page)
}
