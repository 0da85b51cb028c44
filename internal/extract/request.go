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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/paginate"
	"github.com/restload/restload/internal/response"
	"github.com/restload/restload/internal/template"
)

// Bindings are the values of an endpoint's placeholders for one run of a
// resource, by placeholder name: "resources.<parent>.<field>",
// "incremental.start_value", "incremental.end_value", and the names of
// legacy resolve params. Values are already text, as dlt formats them.
type Bindings = template.Bindings

// Start and end placeholder names.
const (
	StartValue = template.StartValue
	EndValue   = template.EndValue
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
// sorted by name. It is empty for a resource without a parent. It reads
// the templates config parsed, so it finds exactly the references that
// validation checked.
func ParentRefs(r *config.Resource) []ParentRef {
	e := r.Endpoint
	if e == nil {
		return nil
	}
	t := e.Templates()
	seen := map[string]string{}
	add := func(names []string) {
		for _, name := range names {
			if ref, ok, err := template.ParentRef(name); ok && err == nil {
				seen[name] = ref.Field
			}
		}
	}
	add(t.Path.Names())
	for k, v := range e.Params {
		if config.ParamType(v) == "resolve" {
			field, _ := v.(map[string]any)["field"].(string)
			seen[k] = field
			continue
		}
		if pt, ok := t.Params[k]; ok {
			add(pt.Name.Names())
			add(pt.Value.Names())
		}
	}
	add(t.JSON.Names())
	for _, h := range t.Headers {
		add(h.Names())
	}
	out := make([]ParentRef, 0, len(seen))
	for _, name := range slices.Sorted(maps.Keys(seen)) {
		out = append(out, ParentRef{Name: name, Field: seen[name]})
	}
	return out
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

// render fills the placeholders of s from b (see package template).
func render(s string, b Bindings, used map[string]bool) (string, error) {
	return template.Parse(s).Render(b, used)
}

// request is a page request plus what paginators do not handle: the form
// body of endpoint.data.
type request struct {
	*paginate.Request
	// Form is the endpoint's data: url.Values for an object, or raw text.
	Form     url.Values
	FormText *string
	// sent, elapsed and attempts describe the last fetch of the request:
	// its URL with the query (redacted), its time and its attempts.
	sent     string
	elapsed  time.Duration
	attempts int64
}

// newRequest builds the first page's request of r, with its placeholders
// filled from r.Bindings.
func newRequest(r Resource) (*request, error) {
	e := r.Endpoint
	t := e.Templates()
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
		if _, ok := v.(map[string]any); ok {
			if config.ParamType(v) == "incremental" {
				if s, ok := b[StartValue]; ok {
					pathB[k] = s
				}
			}
			continue
		}
		s, err := t.Params[k].Value.Render(b)
		if err != nil {
			return nil, fmt.Errorf("endpoint params.%s: %w", k, err)
		}
		pathB[k] = paramString(s)
	}
	inPath := map[string]bool{}
	path, err := t.Path.Render(pathB, inPath)
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
		switch config.ParamType(v) {
		case "resolve":
			// Not bound in the path: sent as a query param.
			if s, ok := b[k]; ok {
				req.Params.Set(k, s)
			}
			continue
		case "incremental":
			if s, ok := b[StartValue]; ok {
				req.Params.Set(k, s)
			}
			continue
		}
		pt := t.Params[k]
		name, err := pt.Name.Render(b, nil)
		if err != nil {
			return nil, fmt.Errorf("endpoint params: %w", err)
		}
		rv, err := pt.Value.Render(b)
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
	for k, h := range t.Headers {
		rv, err := h.Render(b, nil)
		if err != nil {
			return nil, fmt.Errorf("endpoint headers.%s: %w", k, err)
		}
		req.Headers.Set(k, rv)
	}
	switch e.JSON.(type) {
	case nil:
	case map[string]any:
		rv, err := t.JSON.Render(b)
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
		c.JSON = CloneJSON(req.JSON).(map[string]any)
	}
	c.Headers = req.Headers.Clone()
	return &c
}

// CloneJSON copies the maps and lists of a decoded JSON value, so that
// the copy can be changed without changing v.
func CloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = CloneJSON(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = CloneJSON(e)
		}
		return s
	default:
		return v
	}
}
