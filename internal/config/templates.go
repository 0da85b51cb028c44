package config

import (
	"fmt"

	"github.com/restload/restload/internal/template"
)

// EndpointTemplates are the templated strings of an endpoint, parsed once
// when the file loads: its path, its params (names and values, but not
// resolve or incremental params, which are not text), its json body (keys
// and values) and its headers. Validation, parent discovery and request
// rendering all read them.
type EndpointTemplates struct {
	Path    template.Template
	Params  map[string]ParamTemplate
	JSON    template.Value
	Headers map[string]template.Template
}

// ParamTemplate is one param: its name and its value, both templates.
type ParamTemplate struct {
	Name  template.Template
	Value template.Value
}

// Templates returns the endpoint's parsed templates. Load parses them once;
// an Endpoint built by hand is parsed on each call.
func (e *Endpoint) Templates() *EndpointTemplates {
	if e.parsed != nil {
		return e.parsed
	}
	return parseTemplates(e)
}

func parseTemplates(e *Endpoint) *EndpointTemplates {
	t := &EndpointTemplates{Path: template.Parse(e.Path), JSON: template.ParseValue(e.JSON),
		Params: make(map[string]ParamTemplate, len(e.Params)), Headers: make(map[string]template.Template, len(e.Headers))}
	for k, v := range e.Params {
		if ParamType(v) != "" {
			continue
		}
		t.Params[k] = ParamTemplate{Name: template.Parse(k), Value: template.ParseValue(v)}
	}
	for k, v := range e.Headers {
		t.Headers[k] = template.Parse(v)
	}
	return t
}

// ParamType returns "resolve" or "incremental" for a param written as
// {type: resolve, ...} or {type: incremental, ...}, and "" for a plain
// value.
func ParamType(v any) string {
	if m, ok := v.(map[string]any); ok {
		if typ, _ := m["type"].(string); typ == "resolve" || typ == "incremental" {
			return typ
		}
	}
	return ""
}

// templateAt is one parsed template and the dotted path it was written at,
// relative to the resource.
type templateAt struct {
	path string
	t    template.Template
}

// param lists the templates of the plain param k, with their paths under
// the resource: its name (at the param's path) and the strings and keys of
// its value. A resolve or incremental param has none.
func (t *EndpointTemplates) param(k string) []templateAt {
	pt, ok := t.Params[k]
	if !ok {
		return nil
	}
	pp := pathKey("endpoint.params", k)
	out := []templateAt{{pp, pt.Name}}
	pt.Value.Visit(pp, indexPath, pathKey, func(p string, tt template.Template) { out = append(out, templateAt{p, tt}) })
	return out
}

// json lists the templates of the json body with their paths under the
// resource; an object key is at its object's path.
func (t *EndpointTemplates) json() []templateAt {
	var out []templateAt
	t.JSON.Visit("endpoint.json", indexPath, pathKey, func(p string, tt template.Template) { out = append(out, templateAt{p, tt}) })
	return out
}

func indexPath(p string, i int) string { return fmt.Sprintf("%s[%d]", p, i) }
