package paginate

// Planner is an optional capability of a Paginator, found by type
// assertion: once a response has said how many pages there are, it can
// build the request of any later page without seeing the ones before it,
// so a caller may fetch pages ahead, in parallel.
//
// This is the one place that knows how many pages remain. PageNumber plans
// when the last page gave a total (and next_page_path is not set): a page
// count at total_path (dlt's reading), a record count with total_counts:
// records, or, in the seed's form, a root "total" read as a record count
// (which plans but never stops pagination); the page count of a record
// count is the total over the page size sent in limit_param. Offset plans
// when total_path read an item count. Cursors and links do not: each of
// their requests depends on the previous response.
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
	// Speculate returns an open plan (Plan.Open) of the pages after the
	// last page Update saw, for a caller that fetches them before knowing
	// where they end (limits.prefetch speculative): page numbers and
	// offsets can be counted on, only the last page is unknown. ok is false
	// when the next request depends on the response (next_page_path, a
	// cursor, a link) or HasNext is false.
	Speculate() (plan Plan, ok bool)
}

// Plan is the pages a Planner expects to follow. It does not change with
// the paginator's later state, and is safe for concurrent use.
type Plan struct {
	// Pages is how many pages remain, the next one included.
	Pages int
	// Open is set when how many pages remain is not known (Pages is 0):
	// any k >= 1 may be asked for, and those past the end answer with an
	// empty page, or an error, that the caller discards.
	Open bool
	set  func(req *Request, k int)
}

// Request sets req to ask for the k-th planned page (1 <= k <= Pages, or
// any k >= 1 when Open); the first is what Next would ask for.
func (p Plan) Request(req *Request, k int) { p.set(req, k) }

var (
	_ Planner = (*PageNumber)(nil)
	_ Planner = (*Offset)(nil)
	_ Planner = (*Auto)(nil)
)

// Plan plans the page numbers up to the last page's total.
func (p *PageNumber) Plan() (Plan, bool) {
	if !p.hasNext || !p.haveEnd || p.nextPagePath != "" {
		return Plan{}, false
	}
	return p.plan(p.end), true
}

// Speculate plans page numbers without an end (but maximum_page).
func (p *PageNumber) Speculate() (Plan, bool) {
	if !p.hasNext || p.nextPagePath != "" {
		return Plan{}, false
	}
	if p.maxPage != nil {
		return p.plan(*p.maxPage), true
	}
	pl := p.plan(p.page)
	pl.Open = true
	return pl, true
}

// plan plans the page numbers from the next up to end (not included),
// capped by maximum_page.
func (p *PageNumber) plan(end int) Plan {
	if p.maxPage != nil {
		end = min(end, *p.maxPage)
	}
	next, param, bodyPath := p.page, p.param, p.bodyPath
	return Plan{Pages: max(end-next, 0), set: func(req *Request, k int) {
		setParam(req, param, bodyPath, next+k-1)
	}}
}

// Plan plans the offsets up to total_path's item count.
func (p *Offset) Plan() (Plan, bool) {
	if !p.hasNext || !p.haveTotal {
		return Plan{}, false
	}
	return p.plan(p.total), true
}

// Speculate plans offsets without an end (but maximum_offset).
func (p *Offset) Speculate() (Plan, bool) {
	if !p.hasNext {
		return Plan{}, false
	}
	if p.maxOffset != nil {
		return p.plan(*p.maxOffset), true
	}
	pl := p.plan(p.offset)
	pl.Open = true
	return pl, true
}

// plan plans the offsets from the next up to end (not included), capped by
// maximum_offset.
func (p *Offset) plan(end int) Plan {
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
	}}
}

// Plan forwards to the detected paginator when it plans.
func (a *Auto) Plan() (Plan, bool) {
	if pl, ok := a.p.(Planner); ok {
		return pl.Plan()
	}
	return Plan{}, false
}

// Speculate forwards to the detected paginator when it plans.
func (a *Auto) Speculate() (Plan, bool) {
	if pl, ok := a.p.(Planner); ok {
		return pl.Speculate()
	}
	return Plan{}, false
}
