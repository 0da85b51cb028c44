package paginate

import (
	"github.com/restload/restload/internal/kind"
	"maps"
	"slices"
)

// Kind declares one paginator type, once: its name, keys and docs row
// (kind.Spec), its defaults, its checks and its constructor. Each kind's
// file registers its Kind in an init func; config validates a paginator
// block against it and New builds from it.
type Kind struct {
	kind.Spec
	// Defaults fills what the file left out (nil: nothing to fill).
	Defaults func(c *Config)
	// Check reports problems of c beyond its keys (nil: none).
	Check func(c *Config) []kind.Problem
	// New builds a paginator for one walk through the pages.
	New func(c *Config) (Paginator, error)
}

var kinds = kind.NewRegistry("paginator", func(k Kind) kind.Spec { return k.Spec })

func register(k Kind) { kinds.Register(k) }

// Lookup returns the kind named name.
func Lookup(name string) (Kind, bool) { return kinds.Lookup(name) }

// Kinds returns every kind's name, by rank.
func Kinds() []string { return kinds.Names() }

// exclusiveKeys are pairs of keys that say the same thing two ways.
var exclusiveKeys = [][2]string{
	{"page", "start_from_page"},
	{"page_param", "page_body_path"},
	{"offset_param", "offset_body_path"},
	{"limit_param", "limit_body_path"},
	{"cursor_param", "cursor_body_path"},
}

// Check reports the problems of c as written, whatever its kind's keys:
// keys that say one thing twice, negative numbers, and the kind's own
// checks. The caller checks Type and the keys against Lookup(c.Type).
func Check(c *Config, set []string) []kind.Problem {
	var out []kind.Problem
	for _, pair := range exclusiveKeys {
		if slices.Contains(set, pair[0]) && slices.Contains(set, pair[1]) {
			out = append(out, kind.Problem{Key: pair[1], Msg: "cannot be used together with " + pair[0]})
		}
	}
	nonNegative := map[string]*int{"base_page": c.BasePage, "page": c.Page, "start_from_page": c.StartFromPage,
		"maximum_page": c.MaximumPage, "offset": c.Offset, "maximum_offset": c.MaximumOffset}
	for _, k := range slices.Sorted(maps.Keys(nonNegative)) {
		if n := nonNegative[k]; n != nil && *n < 0 {
			out = append(out, kind.Problem{Key: k, Msg: "must not be negative"})
		}
	}
	if c.Limit != nil && *c.Limit <= 0 {
		out = append(out, kind.Problem{Key: "limit", Msg: "must be greater than 0"})
	}
	if k, ok := kinds.Lookup(c.Type); ok && k.Check != nil {
		out = append(out, k.Check(c)...)
	}
	return out
}

// ApplyDefaults fills what the file left out of c, as its kind says.
func ApplyDefaults(c *Config) {
	if k, ok := kinds.Lookup(c.Type); ok && k.Defaults != nil {
		k.Defaults(c)
	}
}

// New builds the paginator that cfg describes. A nil cfg, or type "auto"
// (or empty), gives an *Auto paginator that detects the kind from the first
// response.
func New(cfg *Config) (Paginator, error) {
	if cfg == nil || cfg.Type == "" {
		return &Auto{}, nil
	}
	k, ok := kinds.Lookup(cfg.Type)
	if !ok {
		return nil, kinds.Unknown(cfg.Type)
	}
	return k.New(cfg)
}

// neverStops is dlt's refusal of a numbered paginator with no way to stop.
func neverStops(c *Config) []kind.Problem {
	if c.TotalPath != nil && *c.TotalPath == "" &&
		c.StopAfterEmptyPage != nil && !*c.StopAfterEmptyPage &&
		c.MaximumPage == nil && c.MaximumOffset == nil && c.HasMorePath == "" && c.NextPagePath == "" {
		return []kind.Problem{{Msg: c.Type + " paginator would never stop: set total_path, has_more_path, a maximum or stop_after_empty_page"}}
	}
	return nil
}

// DocTable returns the README's Paginators table, from the kinds' Doc.
func DocTable() string { return kinds.DocTable("| `type` | Keys |\n|---|---|\n") }
