package paginate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/restload/restload/internal/response"
)

// Request is the next request a resource will send. The caller sends URL
// with Params added to its query, Headers, and JSON as the body when it is
// not nil. Paginators change it in Init and Next.
type Request struct {
	URL     *url.URL
	Method  string
	Params  url.Values
	JSON    map[string]any
	Headers http.Header
}

// Response is what a paginator sees of one page.
type Response struct {
	StatusCode int
	Header     http.Header
	// Body is the decoded JSON body (json.Number for numbers), nil when
	// empty.
	Body any
	// Raw is the undecoded body. Optional: when nil, loop detection hashes
	// Body re-encoded instead.
	Raw []byte
	// Records is how many records the data selector found on this page.
	Records int
	// URL is the URL the page was fetched from (after redirects); relative
	// next links are resolved against it.
	URL *url.URL
}

// Paginator decides how to ask for the next page. Implementations keep
// state for one walk through the pages and are not safe for concurrent use;
// make a new one (with New) for every walk.
type Paginator interface {
	// Init sets the first request's pagination parameters.
	Init(req *Request)
	// Update reads a page and decides whether there is a next one. It
	// returns an error when the page cannot be understood (say, total_path
	// holds no number) or the API is looping.
	Update(resp *Response) error
	// HasNext reports whether another page should be fetched; it is
	// meaningful after Update.
	HasNext() bool
	// Next changes req to ask for the next page. Call it only when HasNext.
	Next(req *Request)
}

// guard stops pagination that does not advance: a repeated cursor or next
// URL, or a body identical to the previous page's.
type guard struct {
	page int // pages seen so far (the current page's number, from 1)
	// seen maps the 128-bit hash of each token seen to its page: the
	// tokens themselves may be long, and an API may send 100000 of them.
	seen     map[[2]uint64]int
	seed     maphash.Seed
	seed2    maphash.Seed
	last     uint64
	haveLast bool
}

// begin counts a page; call it first in Update.
func (g *guard) begin() {
	if g.page == 0 {
		g.seed, g.seed2 = maphash.MakeSeed(), maphash.MakeSeed()
	}
	g.page++
}

// token records a cursor or URL; seeing one twice is an error.
func (g *guard) token(what, v string) error {
	if g.seen == nil {
		g.seen = make(map[[2]uint64]int)
	}
	h := [2]uint64{maphash.String(g.seed, v), maphash.String(g.seed2, v)}
	if first, ok := g.seen[h]; ok {
		if len(v) > 200 {
			v = v[:200] + "..."
		}
		return fmt.Errorf("paginator: %s %q repeated at page %d (first seen at page %d); the API is looping", what, v, g.page, first)
	}
	g.seen[h] = g.page
	return nil
}

// body compares this page's body with the previous one's; call it only when
// another page would be fetched.
func (g *guard) body(resp *Response) error {
	raw := resp.Raw
	if raw == nil {
		b, err := json.Marshal(resp.Body)
		if err != nil {
			return nil
		}
		raw = b
	}
	h := maphash.Bytes(g.seed, bytes.TrimSpace(raw))
	if g.haveLast && h == g.last {
		return fmt.Errorf("paginator: page %d is identical to page %d; the API is looping", g.page, g.page-1)
	}
	g.last, g.haveLast = h, true
	return nil
}

// setParam sets a pagination value as a query parameter, or in the JSON
// body at bodyPath when that is set.
func setParam(req *Request, param, bodyPath string, v any) {
	if bodyPath != "" {
		if req.JSON == nil {
			req.JSON = make(map[string]any)
		}
		setPath(req.JSON, bodyPath, v)
		return
	}
	if req.Params == nil {
		req.Params = make(url.Values)
	}
	req.Params.Set(param, stringify(v))
}

// setPath sets a dotted path in m, creating objects on the way.
func setPath(m map[string]any, path string, v any) {
	segs := strings.Split(strings.TrimPrefix(path, "$."), ".")
	for _, s := range segs[:len(segs)-1] {
		next, ok := m[s].(map[string]any)
		if !ok {
			next = make(map[string]any)
			m[s] = next
		}
		m = next
	}
	m[segs[len(segs)-1]] = v
}

// readParam reads a value set on the request, from the body path or the
// query.
func readParam(req *Request, param, bodyPath string) (any, bool) {
	if bodyPath != "" {
		if req.JSON == nil {
			return nil, false
		}
		return response.Lookup(req.JSON, bodyPath)
	}
	if param == "" {
		return nil, false
	}
	if v := req.Params.Get(param); v != "" {
		return v, true
	}
	if req.URL != nil {
		if v := req.URL.Query().Get(param); v != "" {
			return v, true
		}
	}
	return nil, false
}

// stringify renders a JSON scalar as it goes in a query string.
func stringify(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case int:
		return strconv.Itoa(x)
	case nil:
		return ""
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

var errNotInt = errors.New("not an integer")

// toInt reads an integer from a JSON value (number or numeric string).
func toInt(v any) (int, error) {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i), nil
		}
		f, err := x.Float64()
		if err != nil || f != float64(int(f)) {
			return 0, errNotInt
		}
		return int(f), nil
	case float64:
		if x != float64(int(x)) {
			return 0, errNotInt
		}
		return int(x), nil
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, errNotInt
		}
		return i, nil
	default:
		return 0, errNotInt
	}
}

// empty reports whether a cursor or link value means "no more pages".
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case bool:
		return !x
	}
	return false
}

// hasMore reads a has_more flag: a bool, or a string/number that reads as
// one. ok is false when the value is not a flag.
func hasMore(v any) (more, ok bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		return b, err == nil
	case json.Number:
		return x.String() != "0", true
	}
	return false, false
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}
