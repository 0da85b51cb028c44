package paginate

import (
	"errors"
	"fmt"

	"github.com/restload/restload/internal/kind"
	"github.com/restload/restload/internal/response"
)

func init() {
	register(Kind{
		Spec: kind.Spec{
			Name: "offset", Rank: 2,
			Required: []string{"limit"},
			Optional: []string{"offset", "offset_param", "offset_body_path", "limit_param", "limit_body_path",
				"total_path", "maximum_offset", "stop_after_empty_page", "has_more_path"},
			Doc: "`limit` **required**, `offset` (0), `offset_param` (`offset`) or `offset_body_path`, `limit_param` (`limit`) or `limit_body_path`, `total_path` (`total`, total items; `null` or `\"\"` turns it off), `maximum_offset`, `stop_after_empty_page`, `has_more_path`",
		},
		Check: neverStops,
		New:   func(c *Config) (Paginator, error) { return newOffset(c) },
	})
}

// Offset asks for records by offset and limit: offset_param=offset,
// offset+limit, ... with limit_param=limit on every request.
//
// It stops when: a page has no records (stop_after_empty_page, default
// true); the next offset reaches total_path's item count (total_path
// defaults to "total"; set it to "" to disable); the next offset reaches
// maximum_offset; or has_more_path reads false. has_more never overrides
// maximum_offset.
type Offset struct {
	offset         int
	limit          int
	offsetParam    string
	offsetBodyPath string
	limitParam     string
	limitBodyPath  string
	totalPath      string
	maxOffset      *int
	stopAfterEmpty bool
	hasMorePath    string

	hasNext   bool
	total     int  // total_path's item count on the last page
	haveTotal bool // the last page had one
	g         guard
	reason
}

func newOffset(cfg *Config) (*Offset, error) {
	if cfg.Limit == nil || *cfg.Limit <= 0 {
		return nil, errors.New("offset paginator: limit is required and must be positive")
	}
	p := &Offset{
		offset:         intOr(cfg.Offset, 0),
		limit:          *cfg.Limit,
		offsetParam:    orDefault(cfg.OffsetParam, "offset"),
		offsetBodyPath: cfg.OffsetBodyPath,
		limitParam:     orDefault(cfg.LimitParam, "limit"),
		limitBodyPath:  cfg.LimitBodyPath,
		totalPath:      "total",
		maxOffset:      cfg.MaximumOffset,
		stopAfterEmpty: boolOr(cfg.StopAfterEmptyPage, true),
		hasMorePath:    cfg.HasMorePath,
	}
	if cfg.TotalPath != nil {
		p.totalPath = *cfg.TotalPath
	}
	return p, nil
}

// Init sets the first offset and the limit.
func (p *Offset) Init(req *Request) {
	setParam(req, p.offsetParam, p.offsetBodyPath, p.offset)
	setParam(req, p.limitParam, p.limitBodyPath, p.limit)
}

// Update decides from the page whether to fetch another.
func (p *Offset) Update(resp *Response) error {
	p.g.begin()
	p.hasNext, p.haveTotal = false, false
	if p.stopAfterEmpty && resp.Records == 0 {
		p.stop("page had no records")
		return nil
	}
	p.offset += p.limit
	stop, why := "", "page had records"
	stopIf := func(cond bool, format string, args ...any) {
		if cond && stop == "" {
			stop = fmt.Sprintf(format, args...)
		}
	}
	if p.totalPath != "" {
		v, ok := response.Lookup(resp.Body, p.totalPath)
		if ok && v != nil {
			total, err := toInt(v)
			if err != nil {
				return fmt.Errorf("offset: total_path %q holds %v, not an item count", p.totalPath, v)
			}
			p.total, p.haveTotal = total, true
			stopIf(p.offset >= total, "next offset %d reaches %s %d", p.offset, p.totalPath, total)
			why = fmt.Sprintf("%s is %d", p.totalPath, total)
		} else if !p.stopAfterEmpty && p.maxOffset == nil && p.hasMorePath == "" {
			return fmt.Errorf("offset: total_path %q not found in the response and nothing else can end pagination; set total_path, has_more_path, maximum_offset or stop_after_empty_page", p.totalPath)
		}
	}
	if p.hasMorePath != "" {
		v, ok := response.Lookup(resp.Body, p.hasMorePath)
		more, isFlag := hasMore(v)
		if !ok || !isFlag {
			return fmt.Errorf("offset: has_more_path %q holds %v, not true or false", p.hasMorePath, v)
		}
		stopIf(!more, "%s is false", p.hasMorePath)
		why = p.hasMorePath + " is true"
	}
	if p.maxOffset != nil {
		stopIf(p.offset >= *p.maxOffset, "next offset %d reaches maximum_offset %d", p.offset, *p.maxOffset)
	}
	if stop != "" {
		p.stop("%s", stop)
		return nil
	}
	if err := p.g.body(resp); err != nil {
		return err
	}
	p.hasNext = true
	p.more("%s (%s)", sent(p.offsetParam, p.offsetBodyPath, p.offset), why)
	return nil
}

// HasNext reports whether another page should be fetched.
func (p *Offset) HasNext() bool { return p.hasNext }

// Next asks for the next offset.
func (p *Offset) Next(req *Request) {
	setParam(req, p.offsetParam, p.offsetBodyPath, p.offset)
}
