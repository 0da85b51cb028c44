package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/paginate"
	"github.com/restload/restload/internal/response"
)

// Bindings are the values of an endpoint's placeholders for one run of a
// resource, by placeholder name: "resources.<parent>.<field>",
// "incremental.start_value", "incremental.end_value", and the names of
// legacy resolve params. Values are already text, as dlt formats them.
type Bindings map[string]string

// Start and end placeholder names.
const (
	StartValue = "incremental.start_value"
	EndValue   = "incremental.end_value"
)

// ParentRef is one value a child resource takes from its parent's records.
type ParentRef struct {
	// Name is the placeholder name the value binds: "resources.issues.id",
	// or a legacy resolve param's name.
	Name string
	// Field is the dotted path or JSONPath of the value in a parent record.
	Field string
}

// ParentRefs lists the parent values the endpoint of r uses, each once,
// sorted by name. It is empty for a resource without a parent.
func ParentRefs(r *config.Resource) []ParentRef {
	e := r.Endpoint
	if e == nil {
		return nil
	}
	seen := map[string]string{}
	add := func(s string) {
		for _, name := range config.Placeholders(s) {
			if rest, ok := strings.CutPrefix(name, "resources."); ok {
				if _, field, ok := strings.Cut(rest, "."); ok {
					seen[name] = field
				}
			}
		}
	}
	add(e.Path)
	for k, v := range e.Params {
		if m, ok := v.(map[string]any); ok && m["type"] == "resolve" {
			field, _ := m["field"].(string)
			seen[k] = field
			continue
		}
		walkStrings(v, add)
	}
	walkStrings(e.JSON, add)
	for _, h := range e.Headers {
		add(h)
	}
	out := make([]ParentRef, 0, len(seen))
	for _, name := range slices.Sorted(maps.Keys(seen)) {
		out = append(out, ParentRef{Name: name, Field: seen[name]})
	}
	return out
}

func walkStrings(x any, fn func(string)) {
	switch x := x.(type) {
	case string:
		fn(x)
	case []any:
		for _, it := range x {
			walkStrings(it, fn)
		}
	case map[string]any:
		for k, v := range x {
			fn(k)
			walkStrings(v, fn)
		}
	}
}

// ParentBindings returns the values refs take from one parent record. A
// field the record lacks, or holds null, is an error naming the fields it
// has.
func ParentBindings(parent string, refs []ParentRef, rec map[string]any) (Bindings, error) {
	b := make(Bindings, len(refs))
	for _, ref := range refs {
		v, ok := response.Lookup(rec, ref.Field)
		if !ok || v == nil {
			what := "no field"
			if ok {
				what = "a null"
			}
			return nil, fmt.Errorf("parent %s record has %s %q for {%s} (its fields: %s)",
				parent, what, ref.Field, ref.Name, strings.Join(slices.Sorted(maps.Keys(rec)), ", "))
		}
		b[ref.Name] = paramString(v)
	}
	return b, nil
}

// placeholderAt matches a placeholder at the start of a string.
var placeholderAt = regexp.MustCompile(`^\{([A-Za-z_][^{}\s"']*)\}`)

// render fills the placeholders of s from b; {{ and }} become literal
// braces, and braces around anything that is not a placeholder name stay as
// written. A placeholder without a value is an error. used, when not nil,
// collects the names filled.
func render(s string, b Bindings, used map[string]bool) (string, error) {
	if !strings.ContainsAny(s, "{}") {
		return s, nil
	}
	var out strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "{{"):
			out.WriteByte('{')
			i += 2
		case strings.HasPrefix(s[i:], "}}"):
			out.WriteByte('}')
			i += 2
		case s[i] == '{':
			m := placeholderAt.FindStringSubmatch(s[i:])
			if m == nil {
				out.WriteByte('{')
				i++
				continue
			}
			v, ok := b[m[1]]
			if !ok {
				return "", fmt.Errorf("placeholder {%s} has no value", m[1])
			}
			if used != nil {
				used[m[1]] = true
			}
			out.WriteString(v)
			i += len(m[0])
		default:
			out.WriteByte(s[i])
			i++
		}
	}
	return out.String(), nil
}

// renderValue renders the strings (and map keys) inside a JSON value.
func renderValue(x any, b Bindings) (any, error) {
	switch x := x.(type) {
	case string:
		return render(x, b, nil)
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			v, err := renderValue(it, b)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, it := range x {
			rk, err := render(k, b, nil)
			if err != nil {
				return nil, err
			}
			v, err := renderValue(it, b)
			if err != nil {
				return nil, err
			}
			out[rk] = v
		}
		return out, nil
	}
	return x, nil
}

// request is a page request plus what paginators do not handle: the form
// body of endpoint.data.
type request struct {
	*paginate.Request
	// Form is the endpoint's data: url.Values for an object, or raw text.
	Form     url.Values
	FormText *string
}

// newRequest builds the first page's request of r, with its placeholders
// filled from r.Bindings.
func newRequest(r Resource) (*request, error) {
	e := r.Endpoint
	b := r.Bindings
	if b == nil {
		b = Bindings{}
	}
	// Params that are not placeholders bind into the path too (dlt binds a
	// path's {name} to params.name and drops it from the query).
	pathB := maps.Clone(b)
	for k, v := range e.Params {
		if _, taken := pathB[k]; taken || v == nil {
			continue
		}
		if m, ok := v.(map[string]any); ok {
			if m["type"] == "incremental" {
				if s, ok := b[StartValue]; ok {
					pathB[k] = s
				}
			}
			continue
		}
		s, err := renderValue(v, b)
		if err != nil {
			return nil, fmt.Errorf("endpoint params.%s: %w", k, err)
		}
		pathB[k] = paramString(s)
	}
	inPath := map[string]bool{}
	path, err := render(e.Path, pathB, inPath)
	if err != nil {
		return nil, fmt.Errorf("endpoint path %q: %w", e.Path, err)
	}
	u, err := joinURL(r.BaseURL, path)
	if err != nil {
		return nil, err
	}
	req := &request{Request: &paginate.Request{URL: u, Method: strings.ToUpper(e.Method), Params: url.Values{}, Headers: http.Header{}}}
	if req.Method == "" {
		req.Method = http.MethodGet
	}
	// Query parameters already in the path stay.
	for k, vs := range u.Query() {
		req.Params[k] = vs
	}
	u.RawQuery = ""
	for _, k := range slices.Sorted(maps.Keys(e.Params)) {
		v := e.Params[k]
		if v == nil || inPath[k] {
			continue
		}
		name, err := render(k, b, nil)
		if err != nil {
			return nil, fmt.Errorf("endpoint params: %w", err)
		}
		if m, ok := v.(map[string]any); ok {
			switch m["type"] {
			case "resolve":
				// Not bound in the path: sent as a query param.
				if s, ok := b[k]; ok {
					req.Params.Set(name, s)
				}
				continue
			case "incremental":
				if s, ok := b[StartValue]; ok {
					req.Params.Set(name, s)
				}
				continue
			}
		}
		rv, err := renderValue(v, b)
		if err != nil {
			return nil, fmt.Errorf("endpoint params.%s: %w", k, err)
		}
		req.Params.Set(name, paramString(rv))
	}
	if inc := e.Incremental; inc != nil {
		if s, ok := b[StartValue]; ok && inc.StartParam != "" {
			req.Params.Set(inc.StartParam, s)
		}
		if s, ok := b[EndValue]; ok && inc.EndParam != "" {
			req.Params.Set(inc.EndParam, s)
		}
	}
	for k, v := range r.Headers {
		req.Headers.Set(k, v)
	}
	for k, v := range e.Headers {
		rv, err := render(v, b, nil)
		if err != nil {
			return nil, fmt.Errorf("endpoint headers.%s: %w", k, err)
		}
		req.Headers.Set(k, rv)
	}
	switch j := e.JSON.(type) {
	case nil:
	case map[string]any:
		rv, err := renderValue(j, b)
		if err != nil {
			return nil, fmt.Errorf("endpoint json: %w", err)
		}
		req.JSON = rv.(map[string]any)
	default:
		return nil, fmt.Errorf("endpoint json must be an object, got %T", e.JSON)
	}
	switch d := e.Data.(type) {
	case nil:
	case map[string]any:
		req.Form = url.Values{}
		for _, k := range slices.Sorted(maps.Keys(d)) {
			if d[k] != nil {
				req.Form.Set(k, paramString(d[k]))
			}
		}
	case string:
		req.FormText = &d
	default:
		return nil, fmt.Errorf("endpoint data must be an object or a string, got %T", e.Data)
	}
	return req, nil
}

func paramString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// joinURL joins base and path the way dlt does: base + "/" + path without
// its leading "/"; an absolute path replaces base.
func joinURL(base, path string) (*url.URL, error) {
	s := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		s = strings.TrimRight(base, "/")
		if p := strings.TrimLeft(path, "/"); p != "" {
			s += "/" + p
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("endpoint url: %w", err)
	}
	return u, nil
}

// toHTTP turns the request into an *http.Request: Params into the query,
// JSON (or else the form data) into the body.
func toHTTP(ctx context.Context, req *request) (*http.Request, error) {
	u := *req.URL
	q := u.Query()
	for k, vs := range req.Params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	var raw []byte
	var ctype string
	switch {
	case req.JSON != nil:
		b, err := json.Marshal(req.JSON)
		if err != nil {
			return nil, fmt.Errorf("encode json body: %w", err)
		}
		raw, ctype = b, "application/json"
	case req.Form != nil:
		raw, ctype = []byte(req.Form.Encode()), "application/x-www-form-urlencoded"
	case req.FormText != nil:
		raw = []byte(*req.FormText)
	}
	var body io.Reader
	if raw != nil {
		body = bytes.NewReader(raw)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if raw != nil {
		if ctype != "" {
			hr.Header.Set("Content-Type", ctype)
		}
		hr.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	}
	hr.Header.Set("Accept", "application/json")
	for k, vs := range req.Headers {
		hr.Header[k] = vs
	}
	return hr, nil
}

// clone copies req deeply enough that a paginator may change the copy
// (query params, JSON body paths, headers) without touching req.
func (req *request) clone() *request {
	c := *req
	pr := *req.Request
	c.Request = &pr
	if req.URL != nil {
		u := *req.URL
		c.URL = &u
	}
	if req.Params != nil {
		c.Params = make(url.Values, len(req.Params))
		for k, vs := range req.Params {
			c.Params[k] = slices.Clone(vs)
		}
	}
	if req.JSON != nil {
		c.JSON = cloneJSON(req.JSON).(map[string]any)
	}
	c.Headers = req.Headers.Clone()
	return &c
}

// cloneJSON copies the maps and lists of a decoded JSON value.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneJSON(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = cloneJSON(e)
		}
		return s
	default:
		return v
	}
}
