// Package template owns the placeholder syntax of endpoint strings:
// {resources.<parent>.<field>}, {incremental.start_value},
// {incremental.end_value} and {<param name>} in a path, with {{ and }} as
// literal braces. A templated string is parsed once, when the pipeline file
// loads; validation, parent discovery and rendering all use the parsed form,
// so what check accepts is exactly what a run renders.
//
// Braces around anything that is not a placeholder name (spaces, quotes,
// nested braces, as in a GraphQL query or a JSON text) are literal text.
package template

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Bindings are the values of placeholders for one run of a resource, by
// placeholder name. Values are already text, as dlt formats them.
type Bindings map[string]string

// Names of the incremental placeholders.
const (
	StartValue = "incremental.start_value"
	EndValue   = "incremental.end_value"
)

// ParentPrefix starts every placeholder that takes a value from a parent
// resource's records.
const ParentPrefix = "resources."

// placeholderAt matches a placeholder at the start of a string.
var placeholderAt = regexp.MustCompile(`^\{([A-Za-z_][^{}\s"']*)\}`)

// part is literal text (name == "") or one placeholder.
type part struct {
	lit  string
	name string
}

// Template is a parsed templated string. Its zero value is the empty string.
// A Template is immutable and safe for concurrent use.
type Template struct {
	raw   string
	parts []part
}

// Parse parses s. It never fails: text that is not a placeholder is
// literal.
func Parse(s string) Template {
	t := Template{raw: s}
	if !strings.ContainsAny(s, "{}") {
		if s != "" {
			t.parts = []part{{lit: s}}
		}
		return t
	}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "{{"):
			lit.WriteByte('{')
			i += 2
		case strings.HasPrefix(s[i:], "}}"):
			lit.WriteByte('}')
			i += 2
		case s[i] == '{':
			m := placeholderAt.FindStringSubmatch(s[i:])
			if m == nil {
				lit.WriteByte('{')
				i++
				continue
			}
			flush()
			t.parts = append(t.parts, part{name: m[1]})
			i += len(m[0])
		default:
			lit.WriteByte(s[i])
			i++
		}
	}
	flush()
	return t
}

// String returns the text as written in the file.
func (t Template) String() string { return t.raw }

// Names returns the placeholder names of t, in order, repeats included.
func (t Template) Names() []string {
	var out []string
	for _, p := range t.parts {
		if p.name != "" {
			out = append(out, p.name)
		}
	}
	return out
}

// Render fills the placeholders of t from b. A placeholder without a value
// is an error. used, when not nil, collects the names filled.
func (t Template) Render(b Bindings, used map[string]bool) (string, error) {
	if len(t.parts) == 1 && t.parts[0].name == "" {
		return t.parts[0].lit, nil
	}
	var out strings.Builder
	for _, p := range t.parts {
		if p.name == "" {
			out.WriteString(p.lit)
			continue
		}
		v, ok := b[p.name]
		if !ok {
			return "", fmt.Errorf("placeholder {%s} has no value", p.name)
		}
		if used != nil {
			used[p.name] = true
		}
		out.WriteString(v)
	}
	return out.String(), nil
}

// Ref is a placeholder that takes a value from a parent resource:
// {resources.<Resource>.<Field>}.
type Ref struct {
	// Name is the whole placeholder name, "resources.<Resource>.<Field>".
	Name     string
	Resource string
	// Field is the dotted path or JSONPath of the value in a parent record.
	Field string
}

// ParentRef parses a placeholder name. ok is false for names that do not
// start with "resources."; err is set for one that does but is malformed
// (no resource or no field).
func ParentRef(name string) (ref Ref, ok bool, err error) {
	rest, ok := strings.CutPrefix(name, ParentPrefix)
	if !ok {
		return Ref{}, false, nil
	}
	res, field, _ := strings.Cut(rest, ".")
	if res == "" || field == "" {
		return Ref{}, true, fmt.Errorf("malformed reference {%s}: want {resources.<name>.<field>}", name)
	}
	return Ref{Name: name, Resource: res, Field: field}, true, nil
}

// Value is a parsed JSON value (a param value or a json body): its strings
// and its object keys are templates.
type Value struct {
	// str is set for a string.
	str *Template
	// list is set for an array, obj for an object (keys sorted as
	// written).
	list []Value
	obj  []Entry
	// isList and isObj tell an empty array or object from a scalar.
	isList, isObj bool
	// other holds a number, bool or null as decoded.
	other any
}

// Entry is one key of an object Value.
type Entry struct {
	Key   Template
	Value Value
}

// ParseValue parses the strings and object keys inside a decoded JSON or
// YAML value.
func ParseValue(x any) Value {
	switch x := x.(type) {
	case string:
		t := Parse(x)
		return Value{str: &t}
	case []any:
		v := Value{isList: true, list: make([]Value, len(x))}
		for i, it := range x {
			v.list[i] = ParseValue(it)
		}
		return v
	case map[string]any:
		v := Value{isObj: true, obj: make([]Entry, 0, len(x))}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			v.obj = append(v.obj, Entry{Key: Parse(k), Value: ParseValue(x[k])})
		}
		return v
	}
	return Value{other: x}
}

// Visit calls fn for every template in v, object keys first, with the path
// of the value the template is in: a key's path is its object's path, a
// string's path its own. index formats an array element's path and key an
// object member's path from the parent's.
func (v Value) Visit(path string, index func(path string, i int) string, key func(path, k string) string, fn func(path string, t Template)) {
	switch {
	case v.str != nil:
		fn(path, *v.str)
	case v.isList:
		for i, it := range v.list {
			it.Visit(index(path, i), index, key, fn)
		}
	case v.isObj:
		for _, e := range v.obj {
			fn(path, e.Key)
			e.Value.Visit(key(path, e.Key.String()), index, key, fn)
		}
	}
}

// Names returns every placeholder name in v, keys included, in order.
func (v Value) Names() []string {
	var out []string
	v.Visit("", func(string, int) string { return "" }, func(string, string) string { return "" },
		func(_ string, t Template) { out = append(out, t.Names()...) })
	return out
}

// Render returns v with its placeholders filled from b, as a plain value
// ([]any, map[string]any, string, or the scalar as decoded).
func (v Value) Render(b Bindings) (any, error) {
	switch {
	case v.str != nil:
		return v.str.Render(b, nil)
	case v.isList:
		out := make([]any, len(v.list))
		for i, it := range v.list {
			r, err := it.Render(b)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case v.isObj:
		out := make(map[string]any, len(v.obj))
		for _, e := range v.obj {
			k, err := e.Key.Render(b, nil)
			if err != nil {
				return nil, err
			}
			r, err := e.Value.Render(b)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v.other, nil
}
