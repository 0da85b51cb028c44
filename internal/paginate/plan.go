package paginate

// Planner is an optional capability of a Paginator, found by type
// assertion: once a response has said how many pages there are, it can
// build the request of any later page without seeing the ones before it,
// so a caller may fetch pages ahead, in parallel.
//
// PageNumber plans when total_path read a page count from the last page
// (and next_page_path is not set); Offset plans when total_path read an
// item count. Cursors, links and page numbers without a total do not: each
// of their requests depends on the previous response.
//
// Planning never replaces Update: a caller fetching ahead still passes
// every page to Update, in page order, and stops where HasNext says so. An
// empty page, has_more false or a looping API before the planned end stop
// pagination as they would page by page; pages fetched beyond that point
// are to be discarded. A later page may also report a larger total, after
// which Plan covers the pages that total adds.
type Planner interface {
	Paginator
	// Plan returns the pages that remain after the last page Update saw,
	// counting the next one, as fixed by that page's total and capped by
	// maximum_page or maximum_offset. ok is false when the count is not
	// known and the caller must go one page at a time. It is meaningful
	// after Update, when HasNext is true.
	Plan() (plan Plan, ok bool)
}

// Plan is the pages a Planner expects to follow. It does not change with
// the paginator's later state, and is safe for concurrent use.
type Plan struct {
	// Pages is how many pages remain, the next one included.
	Pages int
	set   func(req *Request, k int)
}

// Request sets req to ask for the k-th planned page (1 <= k <= Pages); the
// first is what Next would ask for.
func (p Plan) Request(req *Request, k int) { p.set(req, k) }

var (
	_ Planner = (*PageNumber)(nil)
	_ Planner = (*Offset)(nil)
	_ Planner = (*Auto)(nil)
)

// Plan plans the page numbers up to total_path's page count.
func (p *PageNumber) Plan() (Plan, bool) {
	if !p.hasNext || !p.haveTotal || p.nextPagePath != "" {
		return Plan{}, false
	}
	end := p.total + p.base // first page number not to fetch
	if p.maxPage != nil {
		end = min(end, *p.maxPage)
	}
	next, param, bodyPath := p.page, p.param, p.bodyPath
	return Plan{Pages: max(end-next, 0), set: func(req *Request, k int) {
		setParam(req, param, bodyPath, next+k-1)
	}}, true
}

// Plan plans the offsets up to total_path's item count.
func (p *Offset) Plan() (Plan, bool) {
	if !p.hasNext || !p.haveTotal {
		return Plan{}, false
	}
	end := p.total // first offset not to fetch
	if p.maxOffset != nil {
		end = min(end, *p.maxOffset)
	}
	next, limit, param, bodyPath := p.offset, p.limit, p.offsetParam, p.offsetBodyPath
	n := 0
	if end > next {
		n = (end - next + limit - 1) / limit
	}
	return Plan{Pages: n, set: func(req *Request, k int) {
		setParam(req, param, bodyPath, next+(k-1)*limit)
	}}, true
}

// Plan forwards to the detected paginator when it plans.
func (a *Auto) Plan() (Plan, bool) {
	if pl, ok := a.p.(Planner); ok {
		return pl.Plan()
	}
	return Plan{}, false
}
