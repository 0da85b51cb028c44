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
package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/paginate"
	"github.com/restload/restload/internal/response"
)

// Doer sends one request. *httpclient.Client implements it: it retries,
// rate-limits and authenticates, and returns the final response.
type Doer interface {
	Do(ctx context.Context, req *http.Request) (*http.Response, error)
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

// Page is one page of a resource's records.
type Page struct {
	Number  int
	URL     string // redacted
	Records []map[string]any
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

// Run fetches every page of r and calls fn with each, in order. It stops at
// the first error from the API, the paginator or fn.
func (x *Extractor) Run(ctx context.Context, r Resource, fn func(ctx context.Context, p Page) error) (Stats, error) {
	var st Stats
	req, err := newRequest(r)
	if err != nil {
		return st, fmt.Errorf("resource %s: %w", r.Name, err)
	}
	pg, err := paginate.New(r.Paginator)
	if err != nil {
		return st, fmt.Errorf("resource %s: %w", r.Name, err)
	}
	pg.Init(req.Request)
	auto, _ := pg.(*paginate.Auto)
	selector := r.Endpoint.DataSelector
	for page := 1; ; page++ {
		resp, ignored, err := x.fetch(ctx, r, req, page)
		if err != nil {
			return st, err
		}
		if ignored {
			return st, nil
		}
		if selector == "" {
			if s, ok := response.DetectSelector(resp.Body); ok {
				selector = s
			} else {
				selector = "$"
			}
			x.logger().Debug("data selector detected", "resource", r.Name, "selector", selector)
		}
		items, err := response.Select(resp.Body, selector)
		if err != nil {
			return st, x.pageErr(r, req, page, fmt.Errorf("data_selector %q: %w", selector, err))
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
		if err := pg.Update(resp); err != nil {
			return st, x.pageErr(r, req, page, err)
		}
		if auto != nil && page == 1 {
			detected, why := auto.Detected()
			if _, single := detected.(*paginate.SinglePage); single {
				x.logger().Warn("no paginator configured and none detected: reading one page only", "resource", r.Name, "why", why)
			} else {
				x.logger().Info("paginator detected", "resource", r.Name, "why", why)
			}
		}
		st.Pages++
		st.Records += int64(len(records))
		if err := fn(ctx, Page{Number: page, URL: x.redactURL(req.URL), Records: records}); err != nil {
			return st, err
		}
		if !pg.HasNext() {
			return st, nil
		}
		if x.MaxPages > 0 && page >= x.MaxPages {
			return st, x.pageErr(r, req, page, fmt.Errorf("stopped after %d pages (max pages)", x.MaxPages))
		}
		pg.Next(req.Request)
	}
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
	hreq, err := toHTTP(ctx, req)
	if err != nil {
		return nil, false, x.pageErr(r, req, page, err)
	}
	hresp, err := x.Client.Do(ctx, hreq)
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
	defer hresp.Body.Close()
	body, err := io.ReadAll(hresp.Body)
	if err != nil {
		return nil, false, x.pageErr(r, req, page, fmt.Errorf("read response: %w", err))
	}
	if act := matchAction(r.Endpoint.ResponseActions, hresp.StatusCode, body); act != "" {
		x.logger().Info("response ignored by response_actions", "resource", r.Name, "page", page, "status", hresp.StatusCode)
		return nil, true, nil
	}
	if hresp.StatusCode < 200 || hresp.StatusCode > 299 {
		return nil, false, x.pageErr(r, req, page, &StatusError{StatusCode: hresp.StatusCode, Status: hresp.Status, Body: x.snippet(body)})
	}
	resp := &paginate.Response{StatusCode: hresp.StatusCode, Header: hresp.Header, URL: hreq.URL, Raw: body}
	if len(bytes.TrimSpace(body)) == 0 {
		return resp, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&resp.Body); err != nil {
		ct := hresp.Header.Get("Content-Type")
		return nil, false, x.pageErr(r, req, page, fmt.Errorf("response is not JSON (Content-Type %q): %w; body starts: %s", ct, err, x.snippet(body)))
	}
	return resp, false, nil
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
