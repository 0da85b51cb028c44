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
				"limit_param", "limit_body_path"},
			Doc: "`base_page` (0), `page` (first page, default `base_page`), `start_from_page` **(restload alias of `page`)**, `page_param` (`page`) or `page_body_path`, `total_path` (`total`, total pages; `null` or `\"\"` turns it off), `maximum_page`, `stop_after_empty_page` (true), `has_more_path`, `limit_param` / `limit_body_path` **(restload)**, `next_page_path` **(restload: send the opaque value at this response path as the next page)**",
		},
		Defaults: func(c *Config) {
			if c.Page == nil && c.StartFromPage != nil {
				n := *c.StartFromPage
				c.Page = &n
			}
		},
		Check: neverStops,
		New:   func(c *Config) (Paginator, error) { return newPageNumber(c) },
	})
}

// PageNumber asks for pages by number: page_param=base_page, base_page+1...
//
// It stops, whichever comes first, when: a page has no records
// (stop_after_empty_page, default true); the next page would be past
// total_path's page count; the next page number reaches maximum_page (as in
// dlt, maximum_page itself is not fetched); has_more_path reads false; a
// page holds fewer records than the limit sent in limit_param; or, with
// next_page_path, the value there is null or missing. Without
// has_more_path, a root "hasMore": false or a root "nextPage": null also
// stop it (the seed API's own signals); a root "hasMore": true or non-null
// "nextPage" overrides the short-page rule, for APIs that cap the limit.
// Nothing ever overrides maximum_page.
type PageNumber struct {
	page           int
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

	limit     int // from the request's limit_param; 0: unknown
	token     any // next_page_path value to send next
	hasNext   bool
	total     int  // total_path's page count on the last page
	haveTotal bool // the last page had one
	g         guard
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
	seedForm := cfg.StartFromPage != nil || cfg.LimitParam != "" || cfg.LimitBodyPath != ""
	switch {
	case cfg.TotalPath != nil:
		p.totalPath = *cfg.TotalPath
	case seedForm || cfg.NextPagePath != "":
		// The seed's form (start_from_page, limit_param) comes from APIs
		// whose "total" counts records, not pages; reading it as dlt's
		// page count would stop too early or too late. There, total_path
		// is off unless written out.
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
	p.hasNext, p.haveTotal = false, false
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
			if err != nil {
				return fmt.Errorf("page_number: total_path %q holds %v, not a page count", p.totalPath, v)
			}
			p.total, p.haveTotal = total, true
			explicit = true
			stopIf(p.page >= total+p.base, "%s says %d pages, all read", p.totalPath, total)
			why = fmt.Sprintf("%s says %d pages", p.totalPath, total)
		} else if !p.stopAfterEmpty && p.maxPage == nil && p.hasMorePath == "" && p.limit == 0 {
			return fmt.Errorf("page_number: total_path %q not found in the response and nothing else can end pagination; set total_path to the page count's path, or has_more_path, maximum_page or stop_after_empty_page", p.totalPath)
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
