package paginate

import (
	"github.com/restload/restload/internal/kind"
	"github.com/restload/restload/internal/response"
)

func init() {
	register(Kind{
		Spec: kind.Spec{
			Name: "cursor", Rank: 3,
			Optional: []string{"cursor_path", "cursor_param", "cursor_body_path", "has_more_path", "stop_after_empty_page"},
			Doc:      "`cursor_path` (`cursors.next`), `cursor_param` (`cursor`) or `cursor_body_path`",
		},
		New: func(c *Config) (Paginator, error) { return newCursor(c), nil },
	})
}

// Cursor sends the value found at cursor_path (default "cursors.next") as
// cursor_param (default "cursor"), or at cursor_body_path in the JSON body.
// It stops when the value is missing, null or empty, when has_more_path
// reads false, or (stop_after_empty_page, default true) after a page with
// no records; a cursor seen twice is an error.
type Cursor struct {
	path        string
	param       string
	bodyPath    string
	hasMorePath string
	stopEmpty   bool

	cursor  any
	hasNext bool
	g       guard
	reason
}

func newCursor(cfg *Config) *Cursor {
	return &Cursor{
		path:        orDefault(cfg.CursorPath, "cursors.next"),
		param:       orDefault(cfg.CursorParam, "cursor"),
		bodyPath:    cfg.CursorBodyPath,
		hasMorePath: cfg.HasMorePath,
		stopEmpty:   boolOr(cfg.StopAfterEmptyPage, true),
	}
}

// Init leaves the first request without a cursor.
func (p *Cursor) Init(*Request) {}

// Update reads the next cursor.
func (p *Cursor) Update(resp *Response) error {
	p.g.begin()
	p.hasNext = false
	if p.stopEmpty && resp.Records == 0 {
		p.stop("page had no records")
		return nil
	}
	if p.hasMorePath != "" {
		if hm, found := response.Lookup(resp.Body, p.hasMorePath); found {
			if more, ok := hasMore(hm); ok && !more {
				p.stop("%s is false", p.hasMorePath)
				return nil
			}
		}
	}
	v, _ := response.Lookup(resp.Body, p.path)
	if empty(v) {
		p.stop("%s is %s", p.path, emptyWord(v))
		return nil
	}
	if err := p.g.token("cursor", stringify(v)); err != nil {
		return err
	}
	if err := p.g.body(resp); err != nil {
		return err
	}
	p.cursor = v
	p.hasNext = true
	p.more("%s (%s is set)", sent(p.param, p.bodyPath, v), p.path)
	return nil
}

// HasNext reports whether another page should be fetched.
func (p *Cursor) HasNext() bool { return p.hasNext }

// Next sends the cursor.
func (p *Cursor) Next(req *Request) { setParam(req, p.param, p.bodyPath, p.cursor) }
