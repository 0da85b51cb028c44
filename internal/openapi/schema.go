package openapi

import (
	"sort"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
	unorm "golang.org/x/text/unicode/norm"

	"github.com/restload/restload/internal/response"
)

// maxSchemaDepth bounds every walk of a schema: cyclic schemas are common
// (a user whose manager is a user) and kin-openapi resolves them into
// cycles of pointers.
const maxSchemaDepth = 8

// maxFields bounds the properties fields lists for one response: a
// response with more is not one a paginator is guessed from.
const maxFields = 5000

// field is a property found in a response schema, at a path of property
// names from the response's root.
type field struct {
	path   []string
	schema *openapi3.Schema
}

func (f field) name() string { return f.path[len(f.path)-1] }

// schemaOf returns a schema ref's value, looking through a composition that
// wraps one schema (allOf/anyOf/oneOf of one non-null member, as Stripe and
// OpenAPI 3.1's nullable spellings write it).
func schemaOf(ref *openapi3.SchemaRef) *openapi3.Schema {
	for range maxSchemaDepth {
		if ref == nil || ref.Value == nil {
			return nil
		}
		s := ref.Value
		if s.Type != nil && !s.Type.IsEmpty() || len(s.Properties) > 0 || s.Items != nil {
			return s
		}
		var one *openapi3.SchemaRef
		n := 0
		for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, m := range group {
				if m == nil || m.Value == nil || m.Value.Type != nil && m.Value.Type.Is("null") {
					continue
				}
				one = m
				n++
			}
		}
		if n != 1 {
			return s
		}
		ref = one
	}
	return nil
}

func isArray(s *openapi3.Schema) bool {
	return s != nil && (s.Type != nil && s.Type.Includes("array") || s.Items != nil && (s.Type == nil || s.Type.IsEmpty()))
}

func isObject(s *openapi3.Schema) bool {
	return s != nil && (s.Type != nil && s.Type.Includes("object") || len(properties(s, 0)) > 0)
}

func hasType(s *openapi3.Schema, types ...string) bool {
	if s == nil || s.Type == nil || s.Type.IsEmpty() {
		return false
	}
	for _, t := range types {
		if s.Type.Includes(t) {
			return true
		}
	}
	return false
}

// untyped reports a schema that says nothing about its type.
func untyped(s *openapi3.Schema) bool {
	return s == nil || (s.Type == nil || s.Type.IsEmpty()) && len(s.Properties) == 0 && s.Items == nil &&
		len(s.AllOf) == 0 && len(s.AnyOf) == 0 && len(s.OneOf) == 0
}

// properties returns the properties of s, merged over allOf (a common way
// of writing "a page object plus a data list"). Each schema is visited
// once, so a cyclic allOf costs no more than a plain one.
func properties(s *openapi3.Schema, depth int) map[string]*openapi3.Schema {
	out := map[string]*openapi3.Schema{}
	var merge func(s *openapi3.Schema, depth int)
	seen := map[*openapi3.Schema]bool{}
	merge = func(s *openapi3.Schema, depth int) {
		if s == nil || depth > maxSchemaDepth || seen[s] {
			return
		}
		seen[s] = true
		for _, m := range s.AllOf {
			merge(schemaOf(m), depth+1)
		}
		for k, v := range s.Properties {
			if ps := schemaOf(v); ps != nil {
				out[k] = ps
			}
		}
	}
	merge(s, depth)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fields lists the properties of an object schema down to depth levels,
// without descending into arrays, in a stable order (shallow first, then by
// name).
func fields(s *openapi3.Schema, depth int) []field {
	var out []field
	var walk func(s *openapi3.Schema, prefix []string, seen map[*openapi3.Schema]bool)
	walk = func(s *openapi3.Schema, prefix []string, seen map[*openapi3.Schema]bool) {
		if len(prefix) >= depth || seen[s] || len(out) >= maxFields {
			return
		}
		seen[s] = true
		defer delete(seen, s)
		props := properties(s, 0)
		for _, k := range sortedKeys(props) {
			p := append(append([]string(nil), prefix...), k)
			out = append(out, field{path: p, schema: props[k]})
			if isObject(props[k]) && !isArray(props[k]) {
				walk(props[k], p, seen)
			}
		}
	}
	walk(s, nil, map[*openapi3.Schema]bool{})
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].path) < len(out[j].path) })
	return out
}

// norm folds a name for matching: lower case, letters and digits only, so
// per_page, perPage, page[size] and PageSize compare as words.
func norm(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func wordSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// jsonPath writes a field path as the config reads it: dotted when
// every key allows it, else a bracketed JSONPath.
func jsonPath(path []string) string { return response.Path(path) }

// snake writes s in snake_case with ASCII letters and digits only, for
// resource and pipeline names; "" when nothing is left.
func snake(s string) string {
	var b strings.Builder
	prevLower := false
	for _, r := range unorm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue // é -> e
		}
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if unicode.IsUpper(r) && prevLower {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
			prevLower = false
		}
	}
	return strings.Trim(b.String(), "_")
}

// singular is a crude English singular for matching `user_id` to `users`.
func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies") && len(s) > 3:
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "xes"), strings.HasSuffix(s, "ches"), strings.HasSuffix(s, "shes"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss") && len(s) > 1:
		return s[:len(s)-1]
	}
	return s
}
