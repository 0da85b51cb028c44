package openapi

import (
	"bytes"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

// Options tunes Generate.
type Options struct {
	// Source names the spec in the file's header (a path or URL).
	Source string
	// BaseURL, when set, replaces the spec's server URL.
	BaseURL string
}

// Result is a generated pipeline file.
type Result struct {
	// YAML is the pipeline file.
	YAML []byte
	// Resources are the resource names written, parents first.
	Resources []string
	// Secrets are the secret names the file references.
	Secrets []string
	// Skipped lists the GET endpoints not written, each with the reason.
	Skipped []string
	// Detail counts the GET endpoints for one record by its id, which are
	// not lists and so not resources.
	Detail int
}

// maxListed bounds the skipped endpoints listed in the file's header.
const maxListed = 40

// resource is an endpoint as it will be written.
type resource struct {
	e        *endpoint
	name     string
	parent   *resource
	path     string // with {resources.parent.field} placeholders
	pathWhy  string
	paging   paging
	params   []kv
	disabled string // why the resource is written with selected: false
}

// Generate writes a pipeline file for spec: a resource per GET endpoint
// that returns a list, with its data selector, paginator, primary key and
// parent, and the client's base URL and auth. Every guess carries a
// comment saying what it was guessed from.
func Generate(spec *Spec, opts Options) (*Result, error) {
	doc := spec.Doc
	if doc == nil || doc.Paths == nil {
		return nil, fmt.Errorf("openapi spec: no paths")
	}
	res := &Result{}
	base, baseWhy, err := baseURL(spec, opts.BaseURL)
	if err != nil {
		return nil, err
	}
	baseU, _ := url.Parse(base)

	// Collect GET operations that return a list.
	var eps []*endpoint
	var ops []*openapi3.Operation
	keys := doc.Paths.Keys()
	sort.Strings(keys)
	for _, p := range keys {
		item := doc.Paths.Value(p)
		if item == nil || item.Get == nil {
			continue
		}
		op := item.Get
		ops = append(ops, op)
		e := &endpoint{path: p, opID: op.OperationID, params: mergedParams(item, op), resp: mainResponse(op)}
		e.body = jsonSchema(e.resp)
		if endsInParam(p) && !isArray(e.body) {
			res.Detail++ // one record by its id, not a list
			continue
		}
		segs := segments(p)
		last := ""
		if len(segs) > 0 {
			last = segs[len(segs)-1]
		}
		e.selector, e.selectorWhy, e.records = findList(e.body, last)
		if e.selector == "" {
			why := "its response is not a JSON list or an object holding one"
			if e.body == nil {
				why = "its response has no JSON schema"
			}
			res.Skipped = append(res.Skipped, fmt.Sprintf("GET %s: %s", p, why))
			continue
		}
		e.pk, e.pkWhy = findPrimaryKey(e.records, last)
		eps = append(eps, e)
	}

	auth, authNotes := detectAuth(doc, ops, baseU)
	if auth == nil && len(authNotes) == 0 {
		auth = paramAuth(eps)
	}
	if auth != nil {
		res.Secrets = auth.secrets
	}

	rs := resolveParents(eps, res)
	if len(rs) == 0 {
		why := ""
		if len(res.Skipped) > 0 {
			n := min(len(res.Skipped), 5)
			why = "; " + oneLine(strings.Join(res.Skipped[:n], "; "))
			if n < len(res.Skipped) {
				why += fmt.Sprintf("; and %d more", len(res.Skipped)-n)
			}
		}
		return nil, fmt.Errorf("openapi spec: no GET endpoint returns a list of records, so there is no resource to write (%d GET endpoint(s) for one record by its id)%s; run restload init without --openapi for a starter file", res.Detail, why)
	}
	nameResources(rs)
	for _, r := range rs {
		r.paging = detectPaging(r.e)
		r.params = append(r.params, r.paging.params...)
		for _, p := range r.e.params {
			if p.In != "query" || !p.Required || r.paging.handled[p.Name] || auth != nil && (auth.param(p) || tokenParams[norm(p.Name)]) {
				continue
			}
			if v, what := exampleValue(p); templateSafe(&v) {
				r.params = append(r.params, kv{k: p.Name, v: v, comment: fmt.Sprintf("guessed from the parameter's %s (required)", what)})
			} else if r.disabled == "" {
				r.disabled = fmt.Sprintf("set query parameter %q (required by the spec) under endpoint.params, then remove selected: false", p.Name)
			}
		}
		res.Resources = append(res.Resources, r.name)
	}

	skipped := res.Skipped
	if res.Detail > 0 {
		skipped = append(skipped[:len(skipped):len(skipped)], fmt.Sprintf("%d GET endpoint(s) for one record by its id (/things/{id})", res.Detail))
	}
	out, err := render(spec, opts, base, baseWhy, auth, authNotes, rs, skipped)
	if err != nil {
		return nil, err
	}
	res.YAML = out
	return res, nil
}

// baseURL returns the client's base URL: the override, else the spec's
// first server with its variables at their defaults, resolved against the
// spec's own URL when relative, else a placeholder.
func baseURL(spec *Spec, override string) (string, string, error) {
	if override != "" {
		u, err := url.Parse(override)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", "", fmt.Errorf("base URL %q: want an absolute http(s) URL", override)
		}
		return strings.TrimRight(override, "/"), "set with --base-url", nil
	}
	for _, s := range spec.Doc.Servers {
		if s == nil {
			continue
		}
		raw := s.URL
		for name, v := range s.Variables {
			if v != nil {
				raw = strings.ReplaceAll(raw, "{"+name+"}", v.Default)
			}
		}
		if u, err := resolveURL(spec.Location, raw); err == nil && !strings.Contains(u, "{") {
			return strings.TrimRight(u, "/"), "the spec's first server", nil
		}
	}
	return "https://api.example.com", "a placeholder: the spec names no absolute server URL; set your API's", nil
}

// resolveParents turns endpoints into resources: one without path
// parameters stands alone; one with them becomes the child of the list
// endpoint whose path is its path up to its last parameter
// (/users/{user_id}/posts -> /users), when that parent's records provide
// every parameter: the last by a property of the same name or the parent's
// primary key, earlier ones by name. Others are skipped with the reason.
func resolveParents(eps []*endpoint, res *Result) []*resource {
	byPath := map[string]*resource{}
	var out []*resource
	sort.SliceStable(eps, func(i, j int) bool { return len(pathParams(eps[i].path)) < len(pathParams(eps[j].path)) })
	for _, e := range eps {
		params := pathParams(e.path)
		r := &resource{e: e, path: braces(e.path)}
		if len(params) > 0 {
			last := "{" + params[len(params)-1] + "}"
			i := strings.LastIndex(e.path, last)
			parentPath := strings.TrimRight(e.path[:i], "/")
			parent := byPath[parentPath]
			if parent == nil {
				res.Skipped = append(res.Skipped, fmt.Sprintf("GET %s: no list endpoint %s provides {%s}", e.path, orRoot(parentPath), params[len(params)-1]))
				continue
			}
			path, why, missing := fillParams(braces(e.path), params, parent)
			if missing != "" {
				res.Skipped = append(res.Skipped, fmt.Sprintf("GET %s: the records of %s have no field for {%s}", e.path, parentPath, missing))
				continue
			}
			r.parent, r.path, r.pathWhy = parent, path, why
		}
		byPath[strings.TrimRight(e.path, "/")] = r
		out = append(out, r)
	}
	return out
}

func orRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// fillParams replaces each {param} of path (its braces doubled) with a reference to the
// parent's record field that provides it; missing names the first
// parameter nothing provides. The parent's name is filled in later, once
// names are known, so references are written as {resources.\x00.field}.
func fillParams(path string, params []string, parent *resource) (out, why, missing string) {
	props := properties(parent.e.records, 0)
	byNorm := map[string]string{}
	for _, k := range sortedKeys(props) {
		byNorm[norm(k)] = k
	}
	var whys []string
	for i, p := range params {
		field, ok := byNorm[norm(p)]
		if !ok && i == len(params)-1 && parent.e.pk != "" {
			field = parent.e.pk
			ok = true
		}
		if !ok {
			return "", "", p
		}
		whys = append(whys, fmt.Sprintf("{%s} is the parent record's %q", p, field))
		path = strings.Replace(path, "{{"+braces(p)+"}}", "{resources.\x00."+field+"}", 1)
	}
	return path, strings.Join(whys, ", "), ""
}

// nameResources names each resource after the last literal segment of its
// path, snake_cased; where two would share a name, earlier segments are
// prefixed, then a number.
func nameResources(rs []*resource) {
	used := map[string]bool{}
	for _, r := range rs {
		segs := segments(r.e.path)
		var name string
		for n := 1; n <= len(segs); n++ {
			name = snake(strings.Join(segs[len(segs)-n:], "_"))
			if name != "" && !used[name] {
				break
			}
		}
		if name == "" {
			name = snake(r.e.opID)
		}
		if name == "" {
			name = "root"
		}
		for i := 2; used[name]; i++ {
			name = fmt.Sprintf("%s_%d", strings.TrimRight(name, "_0123456789"), i)
		}
		used[name] = true
		r.name = name
	}
	for _, r := range rs {
		if r.parent != nil {
			r.path = strings.ReplaceAll(r.path, "{resources.\x00.", "{resources."+r.parent.name+".")
		}
	}
}

// ---- rendering ----

func render(spec *Spec, opts Options, base, baseWhy string, auth *authGuess, authNotes []string, rs []*resource, skipped []string) ([]byte, error) {
	doc := spec.Doc
	title := ""
	if doc.Info != nil {
		title = strings.TrimSpace(doc.Info.Title + " " + doc.Info.Version)
	}
	name := snake(title)
	if doc.Info != nil {
		name = snake(doc.Info.Title)
	}
	if name == "" {
		name = "api"
	}
	if len(name) > 40 {
		name = strings.TrimRight(name[:40], "_")
	}

	var head []string
	head = append(head, fmt.Sprintf("Generated by `restload init` from %s (%s, %s).", oneLine(opts.Source), oneLine(title), spec.Version))
	head = append(head, "Values marked \"guessed\" are guesses from the spec: read them, then",
		"  restload check FILE     # validates it, touches no network",
		"  restload run FILE       # loads every resource")
	if auth != nil {
		var env []string
		for _, s := range auth.secrets {
			env = append(env, strings.ToUpper(s))
		}
		head = append(head, "Secrets: set "+strings.Join(env, ", ")+" in the environment, or in .restload/secrets.toml beside this file.")
	}
	for _, n := range authNotes {
		head = append(head, "Note: "+n)
	}
	if len(skipped) > 0 {
		head = append(head, "Not written:")
		for i, s := range skipped {
			if i == maxListed {
				head = append(head, fmt.Sprintf("  ... and %d more", len(skipped)-maxListed))
				break
			}
			head = append(head, "  "+oneLine(s))
		}
	}

	root := mapping()
	pipe := mapping()
	add(pipe, "name", str(name), "guessed from the spec's title")
	add(pipe, "destination", str("duckdb:"+name+".duckdb"), "")
	add(root, "pipeline", pipe, "")

	src := mapping()
	client := mapping()
	add(client, "base_url", str(base), "guessed from "+baseWhy)
	if auth != nil {
		a := mapping()
		for _, k := range auth.keys {
			add(a, k.k, value(k.v), k.comment)
		}
		add(client, "auth", a, "guessed from "+auth.why)
	}
	add(src, "client", client, "")

	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, r := range rs {
		list.Content = append(list.Content, resourceNode(r))
	}
	add(src, "resources", list, "")
	add(root, "source", src, "")

	d := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
	d.HeadComment = commentLines(head)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("write pipeline: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write pipeline: %w", err)
	}
	return buf.Bytes(), nil
}

func resourceNode(r *resource) *yaml.Node {
	m := mapping()
	add(m, "name", str(r.name), "")
	if r.disabled != "" {
		add(m, "selected", value(false), r.disabled)
	}
	ep := mapping()
	if r.parent != nil {
		add(ep, "path", str(r.path), "guessed: a child of "+r.parent.name+"; "+r.pathWhy)
	} else {
		add(ep, "path", str(r.path), "")
	}
	add(ep, "data_selector", str(r.e.selector), "guessed from "+r.e.selectorWhy)
	if len(r.params) > 0 {
		pm := mapping()
		for _, p := range r.params {
			add(pm, p.k, value(p.v), p.comment)
		}
		add(ep, "params", pm, "")
	}
	if len(r.paging.keys) == 1 {
		add(ep, "paginator", str(r.paging.keys[0].v.(string)), "guessed: "+r.paging.why)
	} else {
		pg := mapping()
		for _, k := range r.paging.keys {
			add(pg, k.k, value(k.v), k.comment)
		}
		add(ep, "paginator", pg, "guessed from "+r.paging.why)
	}
	add(m, "endpoint", ep, "")
	if r.e.pk != "" {
		why := "guessed from " + r.e.pkWhy + "; once you trust it, write_disposition: merge updates rows on reruns instead of appending them"
		if r.parent != nil {
			why += " (check that it is unique across " + r.parent.name + ", not only within one)"
		}
		add(m, "primary_key", str(r.e.pk), why)
	}
	return m
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func str(s string) *yaml.Node { return value(s) }

// secretRef is a ${secrets.NAME} reference this package writes; every
// other string comes from the spec and is written literally.
type secretRef string

func value(v any) *yaml.Node {
	n := &yaml.Node{}
	if err := n.Encode(literal(v, 0)); err != nil {
		_ = n.Encode(literal(fmt.Sprint(v), 0))
	}
	return n
}

// literal escapes what the pipeline file would otherwise interpret in a
// string taken from the spec: "${" starts a secret or environment
// reference, so a hostile spec could have a value read from the user's
// environment and sent to the API; it is written "$${". Maps and lists
// are escaped throughout.
func literal(v any, depth int) any {
	if depth > maxSchemaDepth {
		return nil
	}
	switch t := v.(type) {
	case secretRef:
		return string(t)
	case string:
		return strings.ReplaceAll(t, "${", "$${")
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = literal(x, depth+1)
		}
		return out
	case []string:
		out := make([]string, len(t))
		for i, x := range t {
			out[i] = strings.ReplaceAll(x, "${", "$${")
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[strings.ReplaceAll(k, "${", "$${")] = literal(x, depth+1)
		}
		return out
	}
	return v
}

// templateSafe makes a parameter value from the spec safe to write as a
// request parameter: braces doubled in strings, lists of scalars kept,
// anything else (nil, objects) refused.
func templateSafe(v *any) bool {
	switch t := (*v).(type) {
	case string:
		*v = braces(t)
	case bool, float64, int, int64:
	case []any:
		out := make([]any, 0, len(t))
		for _, x := range t {
			if !templateSafe(&x) {
				return false
			}
			out = append(out, x)
		}
		*v = out
	default:
		return false
	}
	return true
}

// braces doubles { and }, which request templates read as placeholders.
func braces(s string) string {
	return strings.NewReplacer("{", "{{", "}", "}}").Replace(s)
}

// add appends key: val to m; a comment goes at the end of the key's line.
func add(m *yaml.Node, key string, val *yaml.Node, comment string) {
	k := str(key)
	if comment != "" {
		c := "# " + oneLine(comment)
		if val.Kind == yaml.ScalarNode || val.Kind == yaml.SequenceNode && val.Style == yaml.FlowStyle {
			val.LineComment = c
		} else {
			k.LineComment = c
		}
	}
	m.Content = append(m.Content, k, val)
}

func commentLines(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("# ")
		b.WriteString(l)
	}
	return b.String()
}

// oneLine keeps a spec's text from breaking out of a YAML comment or
// putting control characters on a terminal.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
