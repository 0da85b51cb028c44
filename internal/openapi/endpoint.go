package openapi

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// endpoint is a GET operation whose response holds a list of records.
type endpoint struct {
	path    string // as written in the spec, e.g. /users/{user_id}/posts
	opID    string
	params  []*openapi3.Parameter
	resp    *openapi3.Response
	body    *openapi3.Schema // the response body's schema
	records *openapi3.Schema // one record
	// selector is the data_selector ("$" for a top-level list) and why.
	selector, selectorWhy string
	pk, pkWhy             string
}

// pathParams returns the names of the {parameters} in p, in order.
func pathParams(p string) []string {
	var out []string
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, p[i+1:i+j])
		p = p[i+j+1:]
	}
}

// segments returns the non-parameter segments of a path.
func segments(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && !strings.HasPrefix(s, "{") {
			out = append(out, s)
		}
	}
	return out
}

// endsInParam reports a path whose last segment is a parameter: an
// endpoint for one record (/users/{id}), not a list.
func endsInParam(p string) bool {
	p = strings.TrimRight(p, "/")
	return strings.HasSuffix(p, "}")
}

// mergedParams returns the path item's parameters overridden by the
// operation's, as OpenAPI defines.
func mergedParams(item *openapi3.PathItem, op *openapi3.Operation) []*openapi3.Parameter {
	byKey := map[string]*openapi3.Parameter{}
	var order []string
	for _, group := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, ref := range group {
			if ref == nil || ref.Value == nil {
				continue
			}
			k := ref.Value.In + "\x00" + ref.Value.Name
			if _, ok := byKey[k]; !ok {
				order = append(order, k)
			}
			byKey[k] = ref.Value
		}
	}
	out := make([]*openapi3.Parameter, 0, len(order))
	for _, k := range order {
		out = append(out, byKey[k])
	}
	return out
}

// mainResponse returns the operation's success response: 200, else the
// lowest 2xx, else default.
func mainResponse(op *openapi3.Operation) *openapi3.Response {
	if op.Responses == nil {
		return nil
	}
	if r := op.Responses.Value("200"); r != nil && r.Value != nil {
		return r.Value
	}
	keys := op.Responses.Keys()
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasPrefix(k, "2") {
			if r := op.Responses.Value(k); r != nil && r.Value != nil {
				return r.Value
			}
		}
	}
	if r := op.Responses.Default(); r != nil && r.Value != nil {
		return r.Value
	}
	return nil
}

// jsonSchema returns the schema of a response's JSON body, nil when it has
// none.
func jsonSchema(r *openapi3.Response) *openapi3.Schema {
	if r == nil {
		return nil
	}
	for _, mt := range []string{"application/json", "application/hal+json", "application/vnd.api+json", "application/problem+json", "*/*"} {
		if m := r.Content.Get(mt); m != nil && m.Schema != nil {
			return schemaOf(m.Schema)
		}
	}
	for _, k := range sortedKeys(r.Content) {
		if strings.Contains(k, "json") && r.Content[k] != nil && r.Content[k].Schema != nil {
			return schemaOf(r.Content[k].Schema)
		}
	}
	return nil
}

// listKeys are the keys under which APIs put their records, most common
// first (dlt's list, plus OData's value).
var listKeys = []string{"data", "items", "results", "entries", "records", "rows", "value", "values",
	"entities", "objects", "content", "list", "elements", "hits", "nodes", "payload"}

// findList finds where the records are in a response body: "$" for a list
// at the root, else the path to the array property, preferring shallow
// paths, then the conventional keys, then the key named like the
// resource. It returns "" when the body holds no list.
func findList(body *openapi3.Schema, resource string) (string, string, *openapi3.Schema) {
	if body == nil {
		return "", "", nil
	}
	if isArray(body) {
		return "$", "the response schema: a JSON list at its root", schemaOf(body.Items)
	}
	if !isObject(body) {
		return "", "", nil
	}
	var lists []field
	for _, f := range fields(body, 3) {
		if isArray(f.schema) && recordList(f) {
			lists = append(lists, f)
		}
	}
	if len(lists) == 0 {
		return "", "", nil
	}
	best := -1
	score := func(f field) int {
		s := -100 * len(f.path)
		if it := schemaOf(f.schema.Items); isObject(it) {
			s += 20
		}
		k := norm(f.name())
		for i, lk := range listKeys {
			if k == lk {
				s += 50 - i
			}
		}
		if k == norm(resource) {
			s += 40
		}
		return s
	}
	for i, f := range lists {
		if best < 0 || score(f) > score(lists[best]) {
			best = i
		}
	}
	f := lists[best]
	why := fmt.Sprintf("the response schema's list property %q", strings.Join(f.path, "."))
	if len(lists) > 1 {
		var others []string
		for i, o := range lists {
			if i != best && len(others) < 4 {
				others = append(others, strings.Join(o.path, "."))
			}
		}
		why += " (other lists: " + strings.Join(others, ", ") + ")"
	}
	return jsonPath(f.path), why, schemaOf(f.schema.Items)
}

// wrappers are the keys that wrap a response's payload, so a list below
// them (data.items, _embedded.users, hits.hits) is still the response's
// list; a list below any other object belongs to that object.
var wrappers = wordSet("data", "result", "results", "response", "payload", "body", "content", "embedded", "hits", "page", "value", "items")

// metaKeys hold paging and diagnostics, never records.
var metaKeys = wordSet("responsemetadata", "meta", "metadata", "paging", "pagination", "links", "pageinfo", "errors", "warnings")

// recordList reports whether the list at f can hold the records: not under
// a meta key, directly in the response or under wrappers only, and of
// objects (or of items the spec does not describe), not of scalars.
func recordList(f field) bool {
	for i, k := range f.path {
		n := norm(k)
		if metaKeys[n] || i < len(f.path)-1 && !wrappers[n] {
			return false
		}
	}
	it := schemaOf(f.schema.Items)
	return it == nil || untyped(it) || isObject(it) || len(it.AnyOf)+len(it.OneOf)+len(it.AllOf) > 0
}

// pkNames are the property names taken as a record's key, in order.
var pkNames = []string{"id", "uuid", "guid", "key", "pk", "identifier", "uid"}

// findPrimaryKey guesses a record's key: an id-like property of string or
// integer type (id, then <resource>_id, uuid, key, ...), else a property
// whose format is uuid.
func findPrimaryKey(rec *openapi3.Schema, resource string) (string, string) {
	props := properties(rec, 0)
	keyLike := func(s *openapi3.Schema) bool { return untyped(s) || hasType(s, "string", "integer") }
	byNorm := map[string]string{}
	for _, k := range sortedKeys(props) {
		if keyLike(props[k]) {
			byNorm[norm(k)] = k
		}
	}
	cands := []string{"id", norm(singular(resource)) + "id", norm(resource) + "id"}
	cands = append(cands, pkNames[1:]...)
	for _, c := range cands {
		if k, ok := byNorm[c]; ok {
			return k, fmt.Sprintf("the record's %q property", k)
		}
	}
	for _, k := range sortedKeys(props) {
		if props[k].Format == "uuid" {
			return k, fmt.Sprintf("the record's %q property (format uuid)", k)
		}
	}
	return "", ""
}

// pageSize returns the page size to ask for with a limit parameter: the
// spec's maximum when it declares one of at most 1000, else 100 (or the
// maximum, when that is smaller), and why.
func pageSize(p *openapi3.Parameter) (int, string) {
	s := schemaOf(p.Schema)
	if s != nil && s.Max != nil && *s.Max >= 1 && !math.IsInf(*s.Max, 0) {
		m := int(*s.Max)
		if m <= 1000 {
			return m, fmt.Sprintf("%s's maximum in the spec", p.Name)
		}
		return 1000, fmt.Sprintf("a large page; %s's maximum in the spec is %d", p.Name, m)
	}
	if s != nil && s.Default != nil {
		if d, ok := toInt(s.Default); ok && d > 100 {
			return d, fmt.Sprintf("%s's default in the spec", p.Name)
		}
	}
	return 100, fmt.Sprintf("a common page size; the spec gives %s no maximum", p.Name)
}

func toInt(v any) (int, bool) {
	switch t := v.(type) {
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e9 {
			return int(t), true
		}
	case int:
		return t, true
	case int64:
		return int(t), true
	case string:
		n, err := strconv.Atoi(t)
		return n, err == nil
	}
	return 0, false
}

// exampleValue returns a value for a required query parameter: its
// default, example or first enum value, and which it was.
func exampleValue(p *openapi3.Parameter) (any, string) {
	s := schemaOf(p.Schema)
	switch {
	case s != nil && s.Default != nil:
		return s.Default, "default"
	case p.Example != nil:
		return p.Example, "example"
	case s != nil && s.Example != nil:
		return s.Example, "example"
	case s != nil && len(s.Enum) > 0:
		return s.Enum[0], "first allowed value"
	}
	return nil, ""
}
