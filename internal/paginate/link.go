package paginate

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/restload/restload/internal/kind"
	"github.com/restload/restload/internal/response"
)

func init() {
	register(Kind{
		Spec: kind.Spec{
			Name: "json_link", Rank: 4,
			Optional: []string{"next_url_path"},
			Doc:      "`next_url_path` (`next`)",
		},
		New: func(c *Config) (Paginator, error) { return newJSONLink(c), nil },
	})
	register(Kind{
		Spec: kind.Spec{
			Name: "header_link", Rank: 5,
			Optional: []string{"links_next_key"},
			Doc:      "`links_next_key` (`next`)",
		},
		New: func(c *Config) (Paginator, error) { return newHeaderLink(c), nil },
	})
	register(Kind{
		Spec: kind.Spec{
			Name: "header_cursor", Rank: 6,
			Optional: []string{"cursor_key", "cursor_param"},
			Doc:      "`cursor_key`, `cursor_param`",
		},
		New: func(c *Config) (Paginator, error) { return newHeaderCursor(c), nil },
	})
}

// nextURL is the shared half of the link paginators: it follows a next URL,
// resolved against the page's URL, and refuses one seen before.
type nextURL struct {
	next    *url.URL
	hasNext bool
	g       guard
	reason
}

func (n *nextURL) follow(resp *Response, raw string, what string) error {
	n.hasNext = false
	raw = strings.TrimSpace(raw)
	if raw == "" {
		n.stop("no %s", what)
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("paginator: %s %q is not a URL: %w", what, raw, err)
	}
	if resp.URL != nil {
		u = resp.URL.ResolveReference(u)
	}
	if err := n.g.token(what, u.String()); err != nil {
		return err
	}
	if err := n.g.body(resp); err != nil {
		return err
	}
	n.next = u
	n.hasNext = true
	n.more("follow the %s", what)
	return nil
}

// HasNext reports whether another page should be fetched.
func (n *nextURL) HasNext() bool { return n.hasNext }

// Init leaves the first request alone.
func (n *nextURL) Init(*Request) {}

// Next points the request at the next URL. The next URL is taken as
// complete: the request's own query parameters are dropped, since APIs put
// every parameter they need into their next links (keeping ours would send
// page parameters twice).
func (n *nextURL) Next(req *Request) {
	u := *n.next
	req.URL = &u
	req.Params = nil
}

// JSONLink follows the URL found at next_url_path (default "next") in the
// body, resolved against the page's URL. It stops when that value is
// missing, null or empty.
type JSONLink struct {
	nextURL
	path string
}

func newJSONLink(cfg *Config) *JSONLink {
	return &JSONLink{path: orDefault(cfg.NextURLPath, "next")}
}

// Update reads the next URL from the body.
func (p *JSONLink) Update(resp *Response) error {
	p.g.begin()
	v, _ := response.Lookup(resp.Body, p.path)
	s, _ := v.(string)
	return p.follow(resp, s, "next URL")
}

// HeaderLink follows the RFC 8288 Link header entry whose rel is
// links_next_key (default "next"). It stops when there is none.
type HeaderLink struct {
	nextURL
	rel string
}

func newHeaderLink(cfg *Config) *HeaderLink {
	return &HeaderLink{rel: orDefault(cfg.LinksNextKey, "next")}
}

// Update reads the next URL from the Link header.
func (p *HeaderLink) Update(resp *Response) error {
	p.g.begin()
	var next string
	if resp.Header != nil {
		next = ParseLinkHeader(resp.Header.Values("Link"))[p.rel]
	}
	return p.follow(resp, next, "Link rel="+p.rel+" URL")
}

// ParseLinkHeader reads RFC 8288 Link header values into a map from each
// rel (lower-cased; a link with several rels is under each) to its URL. The
// first link for a rel wins.
func ParseLinkHeader(values []string) map[string]string {
	links := make(map[string]string)
	for _, v := range values {
		for len(v) > 0 {
			start := strings.IndexByte(v, '<')
			if start < 0 {
				break
			}
			end := strings.IndexByte(v[start:], '>')
			if end < 0 {
				break
			}
			target := v[start+1 : start+end]
			v = v[start+end+1:]
			// Parameters run until the next link, which starts after a
			// comma outside quotes.
			params, rest := splitLinkParams(v)
			v = rest
			for _, param := range params {
				k, val, ok := strings.Cut(param, "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				val = strings.Trim(strings.TrimSpace(val), `"`)
				for rel := range strings.FieldsSeq(val) {
					rel = strings.ToLower(rel)
					if _, seen := links[rel]; !seen {
						links[rel] = target
					}
				}
			}
		}
	}
	return links
}

// splitLinkParams splits "; rel=next; title=\"a,b\", <...>" into its
// parameters and the rest after the separating comma.
func splitLinkParams(s string) (params []string, rest string) {
	inQuote := false
	cur := strings.Builder{}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			inQuote = !inQuote
			cur.WriteByte(c)
		case c == ';' && !inQuote:
			if p := strings.TrimSpace(cur.String()); p != "" {
				params = append(params, p)
			}
			cur.Reset()
		case c == ',' && !inQuote:
			if p := strings.TrimSpace(cur.String()); p != "" {
				params = append(params, p)
			}
			return params, s[i+1:]
		default:
			cur.WriteByte(c)
		}
	}
	if p := strings.TrimSpace(cur.String()); p != "" {
		params = append(params, p)
	}
	return params, ""
}

// HeaderCursor sends the value of the response header cursor_key (default
// "next_cursor") as cursor_param (default "cursor"). It stops when the
// header is absent or empty; a cursor seen twice is an error.
type HeaderCursor struct {
	key   string
	param string

	cursor  string
	hasNext bool
	g       guard
	reason
}

func newHeaderCursor(cfg *Config) *HeaderCursor {
	return &HeaderCursor{
		key:   orDefault(cfg.CursorKey, "next_cursor"),
		param: orDefault(cfg.CursorParam, "cursor"),
	}
}

// Init leaves the first request without a cursor.
func (p *HeaderCursor) Init(*Request) {}

// Update reads the cursor header.
func (p *HeaderCursor) Update(resp *Response) error {
	p.g.begin()
	p.hasNext = false
	c := strings.TrimSpace(resp.Header.Get(p.key))
	if c == "" {
		p.stop("no %s header", p.key)
		return nil
	}
	if err := p.g.token("cursor", c); err != nil {
		return err
	}
	if err := p.g.body(resp); err != nil {
		return err
	}
	p.cursor = c
	p.hasNext = true
	p.more("%s (%s header is set)", sent(p.param, "", c), p.key)
	return nil
}

// HasNext reports whether another page should be fetched.
func (p *HeaderCursor) HasNext() bool { return p.hasNext }

// Next sends the cursor.
func (p *HeaderCursor) Next(req *Request) { setParam(req, p.param, "", p.cursor) }
