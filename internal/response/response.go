package response

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/theory/jsonpath"
)

// pathCache holds compiled JSONPath expressions keyed by their source text.
var pathCache sync.Map // string -> *jsonpath.Path

// compile returns the cached JSONPath for expr, parsing it on first use.
func compile(expr string) (*jsonpath.Path, error) {
	if p, ok := pathCache.Load(expr); ok {
		return p.(*jsonpath.Path), nil
	}
	p, err := jsonpath.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid JSONPath %q: %w", expr, err)
	}
	pathCache.Store(expr, p)
	return p, nil
}

// isDotted reports whether path is a plain dotted path that can be walked
// segment by segment without a JSONPath engine. Such paths may contain any
// characters in keys except '.', so "next-page" or "@odata.nextLink"-like
// names work even though RFC 9535 shorthand would reject them.
func isDotted(path string) bool {
	if path == "" || strings.HasPrefix(path, "$") {
		return false
	}
	return !strings.ContainsAny(path, "[]*?")
}

// toJSONPath turns a dlt-style selector into an RFC 9535 expression.
func toJSONPath(path string) string {
	switch {
	case strings.HasPrefix(path, "$"):
		return path
	case strings.HasPrefix(path, "["):
		return "$" + path
	default:
		return "$." + path
	}
}

// walk follows a dotted path through maps and (by numeric segment) lists.
func walk(doc any, path string) (any, bool) {
	cur := doc
	for seg := range strings.SplitSeq(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[seg]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil {
				return nil, false
			}
			if i < 0 {
				i += len(v)
			}
			if i < 0 || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// Lookup returns the first value at path in doc and whether one was found.
// A found value may be nil (a JSON null). An empty path or "$" is the whole
// document. An invalid JSONPath finds nothing; use Compile to validate paths
// up front.
func Lookup(doc any, path string) (any, bool) {
	if path == "" || path == "$" {
		return doc, true
	}
	if isDotted(path) {
		return walk(doc, path)
	}
	p, err := compile(toJSONPath(path))
	if err != nil {
		return nil, false
	}
	nodes := p.Select(doc)
	if len(nodes) == 0 {
		return nil, false
	}
	return nodes[0], true
}

// Compile checks that path is a valid dotted path or JSONPath and caches its
// compiled form. It is meant for configuration validation.
func Compile(path string) error {
	if path == "" || path == "$" || isDotted(path) {
		return nil
	}
	_, err := compile(toJSONPath(path))
	return err
}

// Select returns the records found at selector in doc, following dlt: when
// the selector matches one value, a list is the records, an object is one
// record, null or no match is no records, and a scalar is one record; when it
// matches several values (a wildcard), each match is a record. An empty
// selector selects the whole document. The returned slice may share memory
// with doc.
func Select(doc any, selector string) ([]any, error) {
	var matches []any
	switch {
	case selector == "" || selector == "$":
		matches = []any{doc}
	case isDotted(selector):
		if v, ok := walk(doc, selector); ok {
			matches = []any{v}
		}
	default:
		p, err := compile(toJSONPath(selector))
		if err != nil {
			return nil, fmt.Errorf("data_selector: %w", err)
		}
		matches = p.Select(doc)
	}
	if len(matches) != 1 {
		return matches, nil
	}
	switch v := matches[0].(type) {
	case nil:
		return nil, nil
	case []any:
		return v, nil
	default:
		return []any{v}, nil
	}
}

// conventionalKeys are the keys under which APIs commonly put their records,
// in the order dlt tries them.
var conventionalKeys = []string{
	"data", "items", "results", "entries", "records", "rows", "entities",
	"payload", "content", "objects", "values",
}

// DetectSelector guesses the data_selector for doc the way dlt does:
// a list at the root gives "$"; otherwise a list under a conventional key
// (data, items, results, entries, records, rows, entities, payload, content,
// objects, values), also when that key holds an object with such a list
// inside; otherwise the first list found within 3 levels (keys visited in
// sorted order so the guess is stable). The bool is false when no list was
// found, in which case the selector is "$" and the whole response is one
// record.
func DetectSelector(doc any) (string, bool) {
	if _, ok := doc.([]any); ok {
		return "$", true
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return "$", false
	}
	if p, ok := conventional(m, 2); ok {
		return render(p), true
	}
	if p, ok := firstList(m, 3); ok {
		return render(p), true
	}
	return "$", false
}

// conventional looks for a list under a conventional key of m, descending
// into objects held by conventional keys up to depth levels.
func conventional(m map[string]any, depth int) ([]string, bool) {
	for _, k := range conventionalKeys {
		if _, ok := m[k].([]any); ok {
			return []string{k}, true
		}
	}
	if depth <= 1 {
		return nil, false
	}
	for _, k := range conventionalKeys {
		if sub, ok := m[k].(map[string]any); ok {
			if p, ok := conventional(sub, depth-1); ok {
				return append([]string{k}, p...), true
			}
		}
	}
	return nil, false
}

// firstList finds the first list in m breadth-first, at most depth levels
// down, visiting keys in sorted order.
func firstList(m map[string]any, depth int) ([]string, bool) {
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range keys {
		if _, ok := m[k].([]any); ok {
			return []string{k}, true
		}
	}
	if depth <= 1 {
		return nil, false
	}
	for _, k := range keys {
		if sub, ok := m[k].(map[string]any); ok {
			if p, ok := firstList(sub, depth-1); ok {
				return append([]string{k}, p...), true
			}
		}
	}
	return nil, false
}

// render writes segments as a dotted path when every key allows it, else as
// a bracketed JSONPath.
func render(segs []string) string {
	plain := true
	for _, s := range segs {
		if s == "" || strings.ContainsAny(s, ".[]*?$'\\") {
			plain = false
		}
	}
	if plain {
		return strings.Join(segs, ".")
	}
	var b strings.Builder
	b.WriteString("$")
	for _, s := range segs {
		b.WriteString("['")
		b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s))
		b.WriteString("']")
	}
	return b.String()
}

// NoMatchError is a data_selector that finds no path in a non-empty
// response. Its message names what the response holds instead, so a wrong
// selector is fixed at once.
type NoMatchError struct {
	Selector string
	// Has describes the response: its top-level keys (lists with their
	// length) and the path of the first list found.
	Has string
}

func (e *NoMatchError) Error() string {
	return fmt.Sprintf("data_selector %q matched nothing; %s", e.Selector, e.Has)
}

// SelectStrict is Select, except that a selector finding no path in a
// non-empty response (an object with keys, or a non-empty list) is a
// *NoMatchError. A path holding null or an empty list selects no records
// without error.
func SelectStrict(doc any, selector string) ([]any, error) {
	if selector != "" && selector != "$" && !isEmptyDoc(doc) && !matches(doc, selector) {
		return nil, &NoMatchError{Selector: selector, Has: Describe(doc)}
	}
	return Select(doc, selector)
}

func isEmptyDoc(doc any) bool {
	switch v := doc.(type) {
	case nil:
		return true
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	}
	return false
}

// matches reports whether selector finds at least one value in doc.
func matches(doc any, selector string) bool {
	if isDotted(selector) {
		_, ok := walk(doc, selector)
		return ok
	}
	p, err := compile(toJSONPath(selector))
	if err != nil {
		return true // Select reports the invalid path
	}
	return len(p.Select(doc)) > 0
}

// describeKeys bounds how many top-level keys Describe names.
const describeKeys = 20

// Describe says in words what a response holds, for error messages: "the
// response has entries (list of 100), hasMore, nextPage, total" (keys
// sorted, or in the body's order with DescribeInOrder; at most 20, each
// shown safely), and where the first list is when
// it is not a top-level key.
func Describe(doc any) string { return describe(doc, nil) }

// DescribeInOrder is Describe with the top-level keys in the order raw,
// the undecoded body of doc, has them (as the API sent them), when raw
// can be read so.
func DescribeInOrder(doc any, raw []byte) string {
	return describe(doc, topKeys(raw))
}

// topKeys returns the keys of the JSON object raw holds, in order, each
// once; nil when raw is not an object. Values are skipped token by token.
func topKeys(raw []byte) []string {
	d := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	seen := map[string]bool{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil
		}
		k, _ := t.(string)
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
		depth := 0
		for {
			t, err := d.Token()
			if err != nil {
				return nil
			}
			switch t {
			case json.Delim('{'), json.Delim('['):
				depth++
			case json.Delim('}'), json.Delim(']'):
				depth--
			}
			if depth == 0 {
				break
			}
		}
	}
	return keys
}

func describe(doc any, order []string) string {
	switch v := doc.(type) {
	case []any:
		return fmt.Sprintf("the response is a list of %d (data_selector \"$\")", len(v))
	case map[string]any:
		keys := make([]string, 0, len(v))
		for _, k := range order {
			if _, ok := v[k]; ok {
				keys = append(keys, k)
			}
		}
		if len(keys) != len(v) { // raw was not read: sorted
			keys = slices.Sorted(maps.Keys(v))
		}
		parts := make([]string, 0, min(len(keys), describeKeys)+1)
		for i, k := range keys {
			if i == describeKeys {
				parts = append(parts, fmt.Sprintf("and %d more", len(keys)-describeKeys))
				break
			}
			s := safeKey(k)
			if l, ok := v[k].([]any); ok {
				s += fmt.Sprintf(" (list of %d)", len(l))
			}
			parts = append(parts, s)
		}
		out := "the response has " + strings.Join(parts, ", ")
		if p, ok := DetectSelector(doc); ok {
			if l, ok := Lookup(doc, p); ok {
				if list, ok := l.([]any); ok && strings.ContainsAny(p, ".[") {
					out += fmt.Sprintf("; the first list is at %s (list of %d)", safeKey(p), len(list))
				}
			}
		} else {
			out += "; no list found"
		}
		return out
	case nil:
		return "the response is empty"
	default:
		return fmt.Sprintf("the response is a single %T value", v)
	}
}

// safeKey shows a key from the network without control characters and at
// a bounded length.
func safeKey(k string) string {
	const max = 60
	if len(k) > max {
		k = k[:max] + "..."
	}
	if strings.IndexFunc(k, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError }) >= 0 {
		return strconv.Quote(k)
	}
	return k
}
