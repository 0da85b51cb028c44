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
// which Planned counts the pages that total adds.
type Planner interface {
	Paginator
	// Planned reports how many pages remain after the last page Update
	// saw, counting the next one, as fixed by the last page's total and
	// capped by maximum_page or maximum_offset. ok is false when the count
	// is not known and the caller must go one page at a time. It is
	// meaningful after Update, when HasNext is true.
	Planned() (n int, ok bool)
	// Ahead sets req to ask for the k-th page after the last page Update
	// saw (k >= 1). Ahead(req, 1) asks for what Next(req) would; it does
	// not change the paginator's state.
	Ahead(req *Request, k int)
}

var (
	_ Planner = (*PageNumber)(nil)
	_ Planner = (*Offset)(nil)
	_ Planner = (*Auto)(nil)
)

// Planned reports how many pages remain, from total_path's page count.
func (p *PageNumber) Planned() (int, bool) {
	if !p.hasNext || !p.haveTotal || p.nextPagePath != "" {
		return 0, false
	}
	end := p.total + p.base // first page number not to fetch
	if p.maxPage != nil {
		end = min(end, *p.maxPage)
	}
	return max(end-p.page, 0), true
}

// Ahead asks for page number next+k-1.
func (p *PageNumber) Ahead(req *Request, k int) {
	setParam(req, p.param, p.bodyPath, p.page+k-1)
}

// Planned reports how many pages remain, from total_path's item count.
func (p *Offset) Planned() (int, bool) {
	if !p.hasNext || !p.haveTotal {
		return 0, false
	}
	end := p.total // first offset not to fetch
	if p.maxOffset != nil {
		end = min(end, *p.maxOffset)
	}
	if end <= p.offset {
		return 0, true
	}
	return (end - p.offset + p.limit - 1) / p.limit, true
}

// Ahead asks for offset next+(k-1)*limit.
func (p *Offset) Ahead(req *Request, k int) {
	setParam(req, p.offsetParam, p.offsetBodyPath, p.offset+(k-1)*p.limit)
}

// Planned forwards to the detected paginator when it plans.
func (a *Auto) Planned() (int, bool) {
	if pl, ok := a.p.(Planner); ok {
		return pl.Planned()
	}
	return 0, false
}

// Ahead forwards to the detected paginator; call it only when Planned
// reported ok.
func (a *Auto) Ahead(req *Request, k int) {
	if pl, ok := a.p.(Planner); ok {
		pl.Ahead(req, k)
	}
}
