package paginate

import (
	"fmt"
	"github.com/restload/restload/internal/kind"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

func init() {
	register(Kind{
		Spec: kind.Spec{
			Name: "auto", Rank: 7,
			Doc: "none: detected from the first response",
		},
		New: func(*Config) (Paginator, error) { return &Auto{}, nil },
	})
}

// Detect picks a paginator from the first response of a resource, in dlt's
// order: a Link header with rel=next gives header_link; a key starting with
// "next" that holds a URL gives json_link; an integer total_pages, pages or
// totalpages gives page_number (assuming the first page was page 1); a key
// starting with "next" that holds another non-empty value gives cursor;
// anything else gives single_page. Keys are looked for at the root and one
// object down (say "meta.total_pages" or "links.next"). The string says
// what was found, for the caller's log; with single_page it explains why
// nothing matched, which deserves a warning.
//
// The returned paginator has not seen resp: pass resp to its Update next.
func Detect(resp *Response) (Paginator, string) {
	if resp.Header != nil {
		if next, ok := ParseLinkHeader(resp.Header.Values("Link"))["next"]; ok && next != "" {
			return newHeaderLink(&Config{}), "the response has a Link header with rel=next"
		}
	}
	root, _ := resp.Body.(map[string]any)
	if path, ok := findKey(root, isNextURL); ok {
		return newJSONLink(&Config{NextURLPath: path}), fmt.Sprintf("the response holds a next URL at %q", path)
	}
	if path, ok := findKey(root, isTotalPages); ok {
		one := 1
		p, _ := newPageNumber(&Config{BasePage: &one, TotalPath: &path})
		return p, fmt.Sprintf("the response holds a page count at %q", path)
	}
	if path, ok := findKey(root, isNextCursor); ok {
		last := path[strings.LastIndexByte(path, '.')+1:]
		param := cursorParamFor(last)
		p := newCursor(&Config{CursorPath: path, CursorParam: param})
		return p, fmt.Sprintf("the response holds a cursor at %q, sent back as %q", path, param)
	}
	why := "no Link header, next URL, page count or cursor found in the first response; only one page will be fetched"
	if resp.Body == nil {
		why = "the first response has no JSON body; only one page will be fetched"
	}
	return &SinglePage{}, why
}

// findKey looks for a key matching ok at the root of m, then one object
// down, in sorted key order; it returns the dotted path.
func findKey(m map[string]any, ok func(k string, v any) bool) (string, bool) {
	if m == nil {
		return "", false
	}
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range keys {
		if ok(k, m[k]) {
			return k, true
		}
	}
	for _, k := range keys {
		sub, isMap := m[k].(map[string]any)
		if !isMap || strings.Contains(k, ".") {
			continue
		}
		for _, sk := range slices.Sorted(maps.Keys(sub)) {
			if !strings.Contains(sk, ".") && ok(sk, sub[sk]) {
				return k + "." + sk, true
			}
		}
	}
	return "", false
}

func startsWithNext(k string) bool {
	return len(k) >= 4 && strings.EqualFold(k[:4], "next")
}

func looksLikeURL(s string) bool {
	if strings.HasPrefix(s, "/") {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func isNextURL(k string, v any) bool {
	s, ok := v.(string)
	return ok && startsWithNext(k) && looksLikeURL(s)
}

func isTotalPages(k string, v any) bool {
	switch strings.ToLower(k) {
	case "total_pages", "pages", "totalpages":
		_, err := toInt(v)
		_, isString := v.(string)
		return err == nil && !isString
	}
	return false
}

func isNextCursor(k string, v any) bool {
	if !startsWithNext(k) || empty(v) {
		return false
	}
	switch x := v.(type) {
	case string:
		return !looksLikeURL(x)
	case map[string]any, []any, bool:
		return false
	}
	return true
}

// cursorParamFor guesses the query parameter a cursor key is sent back as:
// the key without its "next" prefix, in lower camel case ("nextPage" ->
// "page", "next_page_token" -> "page_token", "nextPageToken" ->
// "pageToken"), or "cursor" when nothing is left ("next", "next_cursor"
// gives "cursor" too).
func cursorParamFor(key string) string {
	rest := strings.TrimLeft(key[4:], "_-")
	if rest == "" {
		return "cursor"
	}
	r, n := utf8.DecodeRuneInString(rest)
	return string(unicode.ToLower(r)) + rest[n:]
}

// Auto detects its paginator from the first response (see Detect) and then
// behaves like it.
type Auto struct {
	p   Paginator
	why string
}

// Init leaves the first request alone.
func (a *Auto) Init(*Request) {}

// Update detects the paginator on the first call, then hands every page to
// it.
func (a *Auto) Update(resp *Response) error {
	if a.p == nil {
		a.p, a.why = Detect(resp)
	}
	return a.p.Update(resp)
}

// HasNext reports whether another page should be fetched.
func (a *Auto) HasNext() bool { return a.p != nil && a.p.HasNext() }

// Reason is the detected paginator's reason.
func (a *Auto) Reason() string {
	if a.p == nil {
		return ""
	}
	return Reason(a.p)
}

// Next asks the detected paginator for the next page.
func (a *Auto) Next(req *Request) {
	if a.p != nil {
		a.p.Next(req)
	}
}

// Detected returns the paginator chosen (nil before the first Update) and
// why it was chosen. A *SinglePage chosen this way deserves a warning.
func (a *Auto) Detected() (Paginator, string) { return a.p, a.why }
