// Package extract runs one resource against its API: it builds each page's
// request from the endpoint config, sends it through the HTTP client (which
// retries and authenticates), selects the records from the response and
// asks the paginator for the next page, until the paginator says stop.
//
// Requests follow dlt's endpoint keys: method (GET or POST), params, json or
// data (a form body), headers, and a path joined to base_url (an absolute
// path replaces it). Placeholders {resources.<parent>.<field>},
// {incremental.start_value} and {incremental.end_value} are filled from
// Resource.Bindings in the path, params (keys and values), json (keys and
// strings) and headers; values are text, as dlt formats them. A path's
// {name} is bound to params.name (a legacy {type: resolve} param or a plain
// value), which then leaves the query. {{ and }} are literal braces, and
// braces around anything that is not a placeholder name (a GraphQL query)
// stay as written. A response that a response action matches (by status
// and/or a substring of the body, error bodies included) ends the resource
// without error; an empty or 204 body is a page without records.
//
// When a page_number or offset paginator has read the total from a
// response, the pages it plans are fetched ahead, Extractor.Prefetch at a
// time, and still handed over in page order (see Extractor.Run); with
// Extractor.Speculative they are fetched ahead without a total too, pages
// past the end discarded. Pages fetched ahead are held as their bodies
// (Extractor.AheadBytes of them at most) and each is decoded while the page
// before it is handled, so a resource holds at most two decoded pages
// however far ahead it fetches. Every other paginator goes one page at a
// time, as each request depends on the previous response.
//
// Walk runs a parent/child tree of resources (Node): a parent's pages
// stream, and each page's records drive its children (bound to the parent
// record's fields, with include_from_parent) before the next page is
// fetched; each run of an incremental resource begins and ends a cursor of
// its incremental.Tracker. What becomes of the records (normalize, spool)
// is the caller's, through Node.Page.
package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/paginate"
	"github.com/restload/restload/internal/response"
)

// Doer sends one request and reads its body. *httpclient.Client
// implements it: it retries (a failed body read too), rate-limits,
// authenticates, bounds the body's size and time, and returns the final
// response with its body.
type Doer interface {
	DoRead(ctx context.Context, req *http.Request) (*http.Response, []byte, error)
}

// Redactor hides secrets in URLs and text put into errors and logs.
type Redactor interface {
	URL(u *url.URL) string
	String(s string) string
}

// Resource is what extract needs to know about one resource.
type Resource struct {
	Name     string
	BaseURL  string
	Endpoint *config.Endpoint
	// Paginator is the endpoint's paginator after precedence (endpoint,
	// resource defaults, client); nil means detect.
	Paginator *config.Paginator
	// Headers are the client's headers; the endpoint's override them.
	Headers map[string]string
	// Bindings fill the endpoint's placeholders (parent values, incremental
	// start and end); see newRequest.
	Bindings Bindings
}

// Page is one page of a resource's records, and how it was fetched.
type Page struct {
	Number  int
	URL     string // redacted, without the query
	Records []map[string]any
	// Method and Sent (the URL with its query, redacted) are the request;
	// Status, Bytes, Elapsed and Attempts its response; Decision the
	// paginator's decision in words (see paginate.Reason).
	Method   string
	Sent     string
	Status   int
	Bytes    int
	Elapsed  time.Duration
	Attempts int64
	Decision string
	// Total is how many records the API said the resource has in all
	// (paginate.RecordTotal; 0: it did not say).
	Total int64
}

// Stats counts what a resource's extraction did.
type Stats struct {
	Pages   int64
	Records int64
}

// Extractor runs resources. The zero value is not usable: set Client.
type Extractor struct {
	Client   Doer
	Redactor Redactor
	Logger   *slog.Logger
	// MaxPages stops a resource after this many pages (0: no limit); a
	// safety net on top of every paginator's own loop detection.
	MaxPages int
	// OnPage, when set, sees each page (its request, response and the
	// paginator's decision) before the page's records are handed over.
	OnPage func(p Page)
	// Prefetch is how many pages of a resource are fetched ahead at once
	// when the paginator knows how many remain (see Run); 0 or 1 fetches
	// one page at a time. The HTTP client's per-host limits still bound
	// the requests in flight across resources.
	Prefetch int
	// AheadBytes bounds the response bodies a resource holds fetched
	// ahead, counting each page in flight as the largest body seen so
	// far: with large pages fewer than Prefetch are fetched ahead (at
	// least one). 0 means no bound but Prefetch.
	AheadBytes int64
	// Speculative, with Prefetch above 1, fetches pages ahead also when
	// nothing tells how many remain, as long as the paginator can number
	// them (page_number, offset): pages past the end are discarded.
	Speculative bool
}

// Error is an extraction failure: which resource, which page, which URL.
type Error struct {
	Resource string
	Page     int
	Method   string
	URL      string // redacted
	Err      error
}

func (e *Error) Error() string {
	var se *httpclient.StatusError
	var re *httpclient.RequestError
	if errors.As(e.Err, &se) || errors.As(e.Err, &re) {
		// The HTTP client's errors already name the method and URL.
		return fmt.Sprintf("resource %s: page %d: %v", e.Resource, e.Page, e.Err)
	}
	return fmt.Sprintf("resource %s: page %d: %s %s: %v", e.Resource, e.Page, e.Method, e.URL, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// StatusError is a non-2xx response that no response action ignored.
type StatusError struct {
	StatusCode int
	Status     string
	Body       string // the first bytes, redacted
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return e.Status
	}
	return e.Status + ": " + e.Body
}

// Run fetches every page of r and calls fn with each, in page order, from
// the calling goroutine. It stops at the first error from the API, the
// paginator or fn.
//
// When the paginator knows how many pages remain (paginate.Planner: a page
// count or item count read from total_path) and x.Prefetch is above 1, Run
// fetches up to Prefetch of them at once; it still hands them to the
// paginator and to fn one by one in page order, so where pagination stops,
// which errors are reported and the order of records are those of a page
// by page walk. Pages fetched past a stop (an empty page, has_more false)
// are discarded, errors included, and the fetches still in flight are
// cancelled. With x.Speculative, a paginator that numbers its pages but
// does not know how many remain (paginate.Planner's Speculate) has the next
// Prefetch-1 pages fetched while each page is handled, in the same way.
func (x *Extractor) Run(ctx context.Context, r Resource, fn func(ctx context.Context, p Page) error) (Stats, error) {
	var st Stats
	req, err := newRequest(r)
	if err != nil {
		return st, fmt.Errorf("resource %s: %w", r.Name, err)
	}
	pg, err := paginate.New(r.Paginator.Spec())
	if err != nil {
		return st, fmt.Errorf("resource %s: %w", r.Name, err)
	}
	pg.Init(req.Request)
	w := &walk{x: x, r: r, pg: pg, fn: fn, st: &st, selector: r.Endpoint.DataSelector}
	w.auto, _ = pg.(*paginate.Auto)
	pl, _ := pg.(paginate.Planner)
	for page := 1; ; {
		plan := x.plan(pl, page)
		var more bool
		if plan.Pages > 1 || plan.Open {
			x.logger().Debug("fetching pages ahead", "resource", r.Name, "from_page", page, "pages", plan.Pages, "speculative", plan.Open, "prefetch", x.Prefetch)
			var done int
			done, more, err = w.ahead(ctx, req, plan, page)
			page += done
		} else {
			more, err = w.one(ctx, req, page)
			page++
		}
		if err != nil || !more {
			return st, err
		}
		pg.Next(req.Request)
	}
}

// plan returns the pages from page on to fetch ahead: those the paginator
// has planned (or, with Speculative and no count known, an open plan), up
// to MaxPages. Fewer than 2, and not open, means one page at a time.
func (x *Extractor) plan(pl paginate.Planner, page int) paginate.Plan {
	if pl == nil || x.Prefetch < 2 {
		return paginate.Plan{}
	}
	plan, ok := pl.Plan()
	if !ok && x.Speculative {
		plan, ok = pl.Speculate()
	}
	if !ok {
		return paginate.Plan{}
	}
	if left := x.MaxPages - page + 1; x.MaxPages > 0 && (plan.Open || plan.Pages > left) {
		plan.Pages, plan.Open = left, false
	}
	return plan
}

// walk is one run of a resource through its pages.
type walk struct {
	x        *Extractor
	r        Resource
	pg       paginate.Paginator
	auto     *paginate.Auto
	fn       func(ctx context.Context, p Page) error
	st       *Stats
	selector string
	// body is the largest response body the walk has handled.
	body int64
}

// one fetches page with req and handles it.
func (w *walk) one(ctx context.Context, req *request, page int) (more bool, err error) {
	resp, ignored, err := w.x.fetch(ctx, w.r, req, page)
	if err != nil || ignored {
		return false, err
	}
	return w.handle(ctx, req, page, resp)
}

// fetched is the outcome of one page fetched ahead.
type fetched struct {
	req     *request
	resp    *paginate.Response
	ignored bool
	err     error
	bytes   int64 // the body's size
}

// aheadBudget bounds what ahead holds: at most pages (Extractor.Prefetch)
// fetched or in flight that were not handed over, and at most limit bytes
// of their bodies (Extractor.AheadBytes, 0: no bound), each page in flight
// counted at the largest body seen. The first page out is always let
// through, so that the page the handler waits for is fetched.
type aheadBudget struct {
	pages, limit int64
	mu           sync.Mutex
	out          int64 // pages fetched or in flight, not handed over
	busy         int64 // of those, in flight
	held         int64 // bytes of the fetched ones
	est          int64 // the largest body seen
	// changed is closed, and replaced, when a page is fetched or handed over.
	changed chan struct{}
}

func newAheadBudget(pages int, limit, est int64) *aheadBudget {
	return &aheadBudget{pages: int64(pages), limit: limit, est: est, changed: make(chan struct{})}
}

// reserve waits until one more page may be fetched, and counts it in
// flight.
func (b *aheadBudget) reserve(ctx context.Context) error {
	for {
		b.mu.Lock()
		if b.out == 0 || (b.out < b.pages && (b.limit <= 0 || b.held+(b.busy+1)*b.est <= b.limit)) {
			b.out++
			b.busy++
			b.mu.Unlock()
			return nil
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// fetched moves a fetch of n bytes from in flight to held.
func (b *aheadBudget) fetched(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.busy--
	b.held += n
	b.est = max(b.est, n)
	b.signal()
}

// release hands a fetched page of n bytes over to the handler.
func (b *aheadBudget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.out--
	b.held -= n
	b.signal()
}

func (b *aheadBudget) signal() { broadcast(&b.changed) }

// broadcast wakes whoever waits on *ch (closing it) and puts a new channel
// in its place for the next wait: a sync.Cond that a context can end.
func broadcast(ch *chan struct{}) {
	close(*ch)
	*ch = make(chan struct{})
}

// ahead fetches the planned pages, numbered from first, at most
// x.Prefetch at once, each with a copy of base set up by the plan, and
// handles them in page order. It returns how many pages it handled and whether the paginator
// wants another page after the last of them. Before returning it cancels
// and waits for the fetches still in flight.
func (w *walk) ahead(ctx context.Context, base *request, plan paginate.Plan, first int) (done int, more bool, err error) {
	fctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	// A page is counted in the budget before its fetch starts and until
	// its result is handed over, so at most Prefetch pages (and
	// AheadBytes of bodies) are fetched or held that have not been
	// handled.
	budget := newAheadBudget(w.x.Prefetch, w.x.AheadBytes, w.body)
	turn := newGate()
	queue := make(chan chan fetched, w.x.Prefetch) // results, in page order
	wg.Go(func() {
		defer close(queue)
		for k := 1; plan.Open || k <= plan.Pages; k++ {
			if budget.reserve(fctx) != nil {
				return
			}
			req := base.clone()
			plan.Request(req.Request, k)
			res := make(chan fetched, 1)
			select {
			case queue <- res:
			case <-fctx.Done():
				return
			}
			wg.Go(func() {
				page := first + k - 1
				resp, ignored, err := w.x.fetchRaw(fctx, w.r, req, page)
				var n int64
				if resp != nil {
					n = int64(len(resp.Raw))
				}
				budget.fetched(n)
				if err == nil && !ignored {
					// Held undecoded until the page is next but one:
					// a decoded page takes several times its body's
					// memory, and only the next page's decoding
					// needs to overlap the handling of this one.
					if err = turn.wait(fctx, k); err == nil {
						err = w.x.decode(w.r, req, page, resp)
					} else {
						err = w.x.pageErr(w.r, req, page, err)
					}
				}
				res <- fetched{req: req, resp: resp, ignored: ignored, err: err, bytes: n}
			})
		}
	})
	for res := range queue {
		turn.open(done + 2) // this page and the next one decode
		f := <-res
		budget.release(f.bytes)
		page := first + done
		done++
		if f.err != nil || f.ignored {
			return done, false, f.err
		}
		more, err := w.handle(ctx, f.req, page, f.resp)
		if err != nil || !more {
			return done, false, err
		}
	}
	if err := ctx.Err(); err != nil {
		return done, false, w.x.pageErr(w.r, base, first+done, err)
	}
	return done, true, nil
}

// gate lets the fetches of ahead decode their pages in page order: page k
// (counted from 1) waits until open(n) with n >= k.
type gate struct {
	mu   sync.Mutex
	upTo int
	ch   chan struct{} // closed, and replaced, when upTo grows
}

func newGate() *gate { return &gate{ch: make(chan struct{})} }

func (g *gate) open(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n > g.upTo {
		g.upTo = n
		broadcast(&g.ch)
	}
}

func (g *gate) wait(ctx context.Context, k int) error {
	for {
		g.mu.Lock()
		open, ch := k <= g.upTo, g.ch
		g.mu.Unlock()
		if open {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// handle selects page's records, shows the page to the paginator and
// passes the records to fn. more says whether the paginator wants another
// page.
func (w *walk) handle(ctx context.Context, req *request, page int, resp *paginate.Response) (more bool, err error) {
	x, r := w.x, w.r
	if w.selector == "" {
		if s, ok := response.DetectSelector(resp.Body); ok {
			w.selector = s
		} else {
			w.selector = "$"
		}
		x.logger().Debug("data selector detected", "resource", r.Name, "selector", w.selector)
	}
	// A selector that finds nothing on the first page is a mistake to
	// report, not zero records to load; later pages (a last page without
	// the key) select nothing.
	sel := response.Select
	if page == 1 {
		sel = response.SelectStrict
	}
	items, err := sel(resp.Body, w.selector)
	var nm *response.NoMatchError
	if errors.As(err, &nm) {
		nm.Has = response.DescribeInOrder(resp.Body, resp.Raw) // the keys as the API sent them
		return false, x.pageErr(r, req, page, err)
	}
	if err != nil {
		return false, x.pageErr(r, req, page, fmt.Errorf("data_selector %q: %w", w.selector, err))
	}
	records := make([]map[string]any, 0, len(items))
	for _, it := range items {
		switch v := it.(type) {
		case map[string]any:
			records = append(records, v)
		case nil:
		default:
			records = append(records, map[string]any{"value": v})
		}
	}
	resp.Records = len(records)
	if err := w.pg.Update(resp); err != nil {
		return false, x.pageErr(r, req, page, err)
	}
	if w.auto != nil && page == 1 {
		detected, why := w.auto.Detected()
		if _, single := detected.(*paginate.SinglePage); single {
			x.logger().Warn("no paginator configured and none detected: reading one page only", "resource", r.Name, "why", why)
		} else {
			x.logger().Info("paginator detected", "resource", r.Name, "why", why)
		}
	}
	w.st.Pages++
	w.st.Records += int64(len(records))
	w.body = max(w.body, int64(len(resp.Raw)))
	decision := paginate.Reason(w.pg)
	x.logger().Debug("pagination", "resource", r.Name, "page", page, "records", len(records), "decision", decision)
	p := Page{Number: page, URL: x.redactURL(req.URL), Records: records, Method: req.Method, Sent: req.sent,
		Status: resp.StatusCode, Bytes: len(resp.Raw), Elapsed: req.elapsed, Attempts: req.attempts, Decision: decision}
	if total, ok := paginate.RecordTotal(w.pg); ok {
		p.Total = total
	}
	if x.OnPage != nil {
		x.OnPage(p)
	}
	if err := w.fn(ctx, p); err != nil {
		return false, err
	}
	if !w.pg.HasNext() {
		return false, nil
	}
	if x.MaxPages > 0 && page >= x.MaxPages {
		return false, x.pageErr(r, req, page, fmt.Errorf("stopped after %d pages (limits.max_pages); raise limits.max_pages if the API has more", x.MaxPages))
	}
	return true, nil
}

// onRetryKey holds the walk's retry hook in a context, so fetch can both
// count a request's attempts and call it (see withOnRetry).
type onRetryKey struct{}

// withOnRetry returns a context whose requests call fn before each retry.
func withOnRetry(ctx context.Context, fn func()) context.Context {
	return context.WithValue(ctx, onRetryKey{}, fn)
}

func (x *Extractor) logger() *slog.Logger {
	if x.Logger != nil {
		return x.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (x *Extractor) redactURL(u *url.URL) string {
	if x.Redactor != nil {
		return x.Redactor.URL(u)
	}
	return u.Redacted()
}

func (x *Extractor) pageErr(r Resource, req *request, page int, err error) error {
	u := req.URL
	if len(req.Params) > 0 {
		cu := *u
		cu.RawQuery = req.Params.Encode()
		u = &cu
	}
	return &Error{Resource: r.Name, Page: page, Method: req.Method, URL: x.redactURL(u), Err: err}
}

// fetch sends the page request and decodes the response. ignored is true
// when a response action said to ignore the response.
func (x *Extractor) fetch(ctx context.Context, r Resource, req *request, page int) (*paginate.Response, bool, error) {
	resp, ignored, err := x.fetchRaw(ctx, r, req, page)
	if err != nil || ignored {
		return nil, ignored, err
	}
	return resp, false, x.decode(r, req, page, resp)
}

// fetchRaw sends the page request and returns the response with its body
// read (Raw) but not decoded; see fetch.
func (x *Extractor) fetchRaw(ctx context.Context, r Resource, req *request, page int) (*paginate.Response, bool, error) {
	hreq, err := toHTTP(ctx, req)
	if err != nil {
		return nil, false, x.pageErr(r, req, page, err)
	}
	log := x.logger()
	req.sent = x.redactURL(hreq.URL)
	log.Debug("request", "resource", r.Name, "page", page, "method", hreq.Method, "url", req.sent)
	var retries atomic.Int64
	hook, _ := ctx.Value(onRetryKey{}).(func())
	start := time.Now()
	hresp, body, err := x.Client.DoRead(httpclient.WithOnRetry(ctx, func() {
		retries.Add(1)
		if hook != nil {
			hook()
		}
	}), hreq)
	req.elapsed, req.attempts = time.Since(start), retries.Load()+1
	if log.Enabled(ctx, slog.LevelDebug) {
		status := 0
		if hresp != nil {
			status = hresp.StatusCode
		}
		var se *httpclient.StatusError
		if errors.As(err, &se) {
			status = se.StatusCode
		}
		log.Debug("response", "resource", r.Name, "page", page, "method", hreq.Method, "url", req.sent,
			"status", status, "bytes", len(body), "duration", req.elapsed.Round(time.Millisecond).String(),
			"attempt", req.attempts)
	}
	var se *httpclient.StatusError
	if errors.As(err, &se) {
		if act := matchAction(r.Endpoint.ResponseActions, se.StatusCode, se.Content); act != "" {
			x.logger().Info("response ignored by response_actions", "resource", r.Name, "page", page, "status", se.StatusCode)
			return nil, true, nil
		}
	}
	if err != nil {
		return nil, false, x.pageErr(r, req, page, err)
	}
	if act := matchAction(r.Endpoint.ResponseActions, hresp.StatusCode, body); act != "" {
		x.logger().Info("response ignored by response_actions", "resource", r.Name, "page", page, "status", hresp.StatusCode)
		return nil, true, nil
	}
	if hresp.StatusCode < 200 || hresp.StatusCode > 299 {
		return nil, false, x.pageErr(r, req, page, &StatusError{StatusCode: hresp.StatusCode, Status: hresp.Status, Body: x.snippet(body)})
	}
	return &paginate.Response{StatusCode: hresp.StatusCode, Header: hresp.Header, URL: hreq.URL, Raw: body}, false, nil
}

// testHookDecode, when a test sets it, is called with each page's number
// before the page is decoded.
var testHookDecode func(page int)

// decode decodes resp.Raw into resp.Body; an empty body stays a page
// without a document.
func (x *Extractor) decode(r Resource, req *request, page int, resp *paginate.Response) error {
	if len(bytes.TrimSpace(resp.Raw)) == 0 {
		return nil
	}
	if testHookDecode != nil {
		testHookDecode(page)
	}
	var err error
	if resp.Body, err = response.DecodeOwned(resp.Raw); err != nil {
		ct := resp.Header.Get("Content-Type")
		return x.pageErr(r, req, page, fmt.Errorf("response is not JSON (Content-Type %q): %w; body starts: %s", ct, err, x.snippet(resp.Raw)))
	}
	return nil
}

func (x *Extractor) snippet(body []byte) string {
	const max = 200
	s := string(body)
	if len(s) > max {
		s = s[:max] + "..."
	}
	s = strings.TrimSpace(s)
	if x.Redactor != nil {
		s = x.Redactor.String(s)
	}
	return s
}

// matchAction returns the action of the first response action matching the
// status and body, or "".
func matchAction(actions []config.ResponseAction, status int, body []byte) string {
	for _, a := range actions {
		if a.StatusCode != nil && *a.StatusCode != status {
			continue
		}
		if a.Content != "" && !bytes.Contains(body, []byte(a.Content)) {
			continue
		}
		if a.StatusCode == nil && a.Content == "" {
			continue
		}
		return a.Action
	}
	return ""
}
