package config

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/restload/restload/internal/auth"
	"github.com/restload/restload/internal/kind"
	"github.com/restload/restload/internal/paginate"
	"github.com/restload/restload/internal/response"
	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/template"
)

// validator checks a decoded pipeline and reports every problem, each at the
// position of the field concerned (or of its nearest written ancestor).
type validator struct {
	probs *problems
	at    map[string]Pos
	src   string // path prefix of the source dict: "source" or ""
	// secret holds the paths whose values hold a resolved secret; their
	// values are never shown in messages.
	secret map[string]bool
	// source is the dlt source name secrets are looked up under.
	source string
}

// show quotes the value at path for a message, or hides it when it holds a
// secret.
func (v *validator) show(path, s string) string {
	if v.secret[path] {
		return "<secret>"
	}
	return strconv.Quote(s)
}

// errorf reports a problem about path, unless the value at path (or a value
// holding it) already failed to decode.
func (v *validator) errorf(path, format string, args ...any) {
	for p := path; p != ""; p = parentPath(p) {
		if v.probs.bad[p] {
			return
		}
	}
	v.probs.add(v.where(path), path, format, args...)
}

// where returns the position of path, or of its nearest ancestor that was
// written in the file.
func (v *validator) where(path string) Pos {
	for {
		if pos, ok := v.at[path]; ok {
			return pos
		}
		if path == "" {
			return Pos{File: v.probs.file}
		}
		path = parentPath(path)
	}
}

// written reports whether path appeared in the file.
func (v *validator) written(path string) bool {
	_, ok := v.at[path]
	return ok
}

// parentPath drops the last segment of a dotted path.
func parentPath(p string) string {
	if strings.HasSuffix(p, `"]`) {
		if i := strings.LastIndex(p, `["`); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}

func (v *validator) srcPath(p string) string { return joinPath(v.src, p) }

func (v *validator) pipeline(p *Pipeline) {
	v.source = p.Pipeline.SourceName
	v.fileName(p.Pipeline.Name, "pipeline.name")
	v.fileName(p.Pipeline.Dataset, "pipeline.dataset")
	v.client(&p.Source.Client, v.srcPath("client"))
	if rd := p.Source.ResourceDefaults; rd != nil {
		path := v.srcPath("resource_defaults")
		if rd.Name != "" {
			v.errorf(path+".name", "a resource name cannot be set in resource_defaults")
		}
		v.resource(&rd.Resource, path)
	}
	if len(p.Source.Resources) == 0 && !v.probs.bad[v.srcPath("resources")] {
		v.errorf(v.srcPath("resources"), "at least one resource is required")
	}
	for i := range p.Source.Resources {
		path := v.srcPath(fmt.Sprintf("resources[%d]", i))
		r := &p.Source.Resources[i]
		if r.Name == "" {
			v.errorf(path+".name", "missing required key")
		}
		v.resource(r, path)
	}
	v.retry(p.Retry)
	v.limits(p.Limits)

	p.applyDefaults()
	v.merged(p)
	v.buildPaginators(p)
}

func (v *validator) client(c *Client, path string) {
	v.requiredURL(c.BaseURL, path+".base_url", true)
	if c.Timeout < 0 {
		v.errorf(path+".timeout", "must not be negative")
	}
	if c.IdleReadTimeout < 0 {
		v.errorf(path+".idle_read_timeout", "must not be negative")
	}
	if c.Auth != nil {
		v.auth(c.Auth, path+".auth")
	}
	if c.Paginator != nil {
		v.paginator(c.Paginator, path+".paginator")
	}
}

// fileName checks a name that becomes a file or directory name (the
// pipeline's work dir and default DuckDB file, a file destination's dataset
// directory): see SafeName.
func (v *validator) fileName(s, path string) {
	if s != "" && SafeName(s) != nil {
		v.errorf(path, "%s is not a safe file name (want letters, digits, '_', '-', '.' and spaces, starting with a letter, digit or '_', at most %d characters)", v.show(path, s), maxNameLen)
	}
}

// maxNameLen is the longest pipeline name or dataset accepted.
const maxNameLen = 128

var safeName = regexp.MustCompile(`^[A-Za-z0-9_](?:[A-Za-z0-9_. -]*[A-Za-z0-9_.-])?$`)

// SafeName returns an error unless name can be used as one file name on any
// system: ASCII letters, digits, '_', '-', '.' and inner spaces, not
// starting with '.' or '-' (so never "..", a hidden file or an option), no
// separator, at most 128 characters. pipeline.name and pipeline.dataset must be safe names.
func SafeName(name string) error {
	if len(name) > maxNameLen || !safeName.MatchString(name) {
		return fmt.Errorf("%q is not a safe file name", name)
	}
	return nil
}

// requiredURL checks an absolute http(s) URL. The value is not quoted in
// messages: it may hold credentials.
func (v *validator) requiredURL(s, path string, required bool) {
	if s == "" {
		if required && !v.probs.bad[path] {
			v.errorf(path, "missing required key")
		}
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(path, "want an absolute http(s) URL such as https://api.example.com/v1")
	}
}

// oneOf formats the allowed values for a message.
func oneOf(vals []string) string {
	return strings.Join(vals, ", ")
}

// unknownValue reports a value that is not one of vals, with a suggestion.
func (v *validator) unknownValue(path, what, got string, vals []string) {
	if s := suggest(got, vals); s != "" {
		v.errorf(path, "unknown %s %s (did you mean %q?)", what, v.show(path, got), s)
		return
	}
	v.errorf(path, "unknown %s %s (want one of %s)", what, v.show(path, got), oneOf(vals))
}

// setKeys lists the yaml keys of struct s whose values are not zero.
func setKeys(s any) []string {
	rv := reflect.ValueOf(s).Elem()
	var keys []string
	for _, f := range fieldsOf(rv.Type()) {
		if !rv.FieldByIndex(f.index).IsZero() {
			keys = append(keys, f.key)
		}
	}
	return keys
}

type kindKeys struct {
	required []string
	optional []string
	// hint, when set, says where a missing required key may be set.
	hint func(key string) string
}

func (k kindKeys) all() []string { return append(slices.Clone(k.required), k.optional...) }

func (v *validator) auth(a *Auth, path string) {
	typ := a.Type
	if typ == "" {
		typ = auth.DefaultType
	}
	k, ok := auth.Lookup(typ)
	if !ok {
		if v.refusePython(path, typ, "write the auth as a mapping such as {type: http_basic, username: ..., password: ...}; custom auth classes are not supported") {
			return
		}
		v.unknownValue(path+".type", "auth type", typ, auth.Kinds())
		return
	}
	v.kindKeys(a, path, typ+" auth", kindKeys{required: k.Required, optional: k.Optional,
		hint: func(key string) string { return dltAuthHint(v.source, key) }})
	c := *a
	c.Type = typ
	v.report(path, auth.Check(&c))
}

// kindKeys checks that s (a pointer to Auth or Paginator) sets the keys
// required by its type and no key that the type does not use.
func (v *validator) kindKeys(s any, path, what string, kind kindKeys) {
	set := setKeys(s)
	for _, k := range kind.required {
		// A key written as "" is set, as in dlt (None, not "", is missing).
		if !slices.Contains(set, k) && !v.written(path+"."+k) && !v.probs.bad[path+"."+k] {
			if kind.hint != nil {
				v.errorf(path+"."+k, "missing required key for %s (%s)", what, kind.hint(k))
				continue
			}
			v.errorf(path+"."+k, "missing required key for %s", what)
		}
	}
	allowed := kind.all()
	for _, k := range set {
		if k == "type" || slices.Contains(allowed, k) {
			continue
		}
		if len(allowed) == 0 {
			v.errorf(path+"."+k, "not used by %s, which takes no other keys", what)
			continue
		}
		sorted := slices.Clone(allowed)
		slices.Sort(sorted)
		v.errorf(path+"."+k, "not used by %s (it takes %s)", what, oneOf(sorted))
	}
}

func (v *validator) paginator(pg *Paginator, path string) {
	if pg.Type == "" {
		if !v.probs.bad[path+".type"] {
			v.errorf(path+".type", "missing required key (one of %s)", oneOf(paginate.Kinds()))
		}
		return
	}
	kind, ok := paginate.Lookup(pg.Type)
	if !ok {
		if v.refusePython(path, pg.Type, "write the paginator as a name or a mapping such as {type: single_page}; custom paginator classes are not supported") {
			return
		}
		v.unknownValue(path+".type", "paginator type", pg.Type, paginate.Kinds())
		return
	}
	v.kindKeys(pg, path, pg.Type+" paginator", kindKeys{required: kind.Required, optional: kind.Optional})
	v.report(path, paginate.Check(&pg.Config, setKeys(pg)))
}

// report places the problems a component found in the block at path.
func (v *validator) report(path string, probs []kind.Problem) {
	for _, pr := range probs {
		at := joinPath(path, pr.Key)
		if pr.Want != nil {
			v.unknownValue(at, pr.What, pr.Got, pr.Want)
			continue
		}
		v.errorf(at, "%s", pr.Msg)
	}
}

// buildPaginators builds each resource's effective paginator once the
// file is otherwise valid, so one that cannot start (say, a maximum_page
// below the first page) is found when the file loads, not mid-run.
func (v *validator) buildPaginators(p *Pipeline) {
	if len(v.probs.list) > 0 {
		return
	}
	for i := range p.Source.Resources {
		r := &p.Source.Resources[i]
		if pg := r.Endpoint.Paginator; pg != nil {
			if _, err := paginate.New(&pg.Config); err != nil {
				v.probs.list = append(v.probs.list, &Error{File: cmp.Or(pg.Pos.File, v.probs.file), Line: pg.Pos.Line, Col: pg.Pos.Col,
					Msg: fmt.Sprintf("resource %s: paginator: %v", r.Name, err)})
			}
		}
	}
}

var (
	dispositions   = []string{"append", "replace", "merge"}
	contractModes  = []string{"evolve", "freeze", "discard_row", "discard_value"}
	lastValueFuncs = []string{"max", "min"}
	rangeBounds    = []string{"closed", "open"}
)

// resource checks the keys of one resource (or of resource_defaults) as
// written, before defaults are merged in.
func (v *validator) resource(r *Resource, path string) {
	v.refusePython(path+".name", r.Name, "a resource defined in Python (a dlt resource or generator) cannot be run; define it with an endpoint")
	v.refusePython(path+".table_name", r.TableName, "table_name must be a string; a callable that picks the table per record is not supported")
	if e := r.Endpoint; e != nil {
		for _, k := range slices.Sorted(maps.Keys(e.Params)) {
			// Only dlt's own objects: other call-like text (an API's
			// filter language, "eq(status,open)") is a real value.
			if s, ok := e.Params[k].(string); ok && strings.HasPrefix(strings.TrimSpace(s), "dlt.") {
				v.refusePython(pathKey(path+".endpoint.params", k), s, "write an incremental block such as {cursor_path: ..., initial_value: ...} or a {type: incremental} param")
			}
		}
	}
	if wd := r.WriteDisposition; wd != nil {
		wp := path + ".write_disposition"
		dp := wp
		if v.written(wp + ".disposition") {
			dp = wp + ".disposition"
		}
		switch {
		case wd.Disposition == "":
			v.errorf(wp+".disposition", "missing required key (one of %s)", oneOf(dispositions))
		case !slices.Contains(dispositions, wd.Disposition):
			v.unknownValue(dp, "write disposition", wd.Disposition, dispositions)
		}
		v.strategy(wd, wp)
	}
	for i, k := range r.PrimaryKey {
		if k == "" {
			v.errorf(fmt.Sprintf("%s.primary_key[%d]", path, i), "must not be empty")
		}
	}
	if r.MaxTableNesting != nil && *r.MaxTableNesting < 0 {
		v.errorf(path+".max_table_nesting", "must not be negative")
	}
	for _, name := range slices.Sorted(maps.Keys(r.Columns)) {
		c := r.Columns[name]
		cp := pathKey(path+".columns", name)
		if c.DataType != "" {
			v.dataType(c.DataType, cp+".data_type")
		}
		if c.Precision != nil && *c.Precision < 0 {
			v.errorf(cp+".precision", "must not be negative")
		}
		if c.Scale != nil && *c.Scale < 0 {
			v.errorf(cp+".scale", "must not be negative")
		}
	}
	table := cmp.Or(r.TableName, r.Name)
	for i, ref := range r.References {
		v.reference(ref, table, fmt.Sprintf("%s.references[%d]", path, i))
	}
	for i, s := range r.ProcessingSteps {
		sp := fmt.Sprintf("%s.processing_steps[%d]", path, i)
		if (s.Filter == "") == (s.Map == "") {
			v.errorf(sp, "want exactly one of filter or map")
		}
	}
	if sc := r.SchemaContract; sc != nil {
		for k, mode := range map[string]string{"tables": sc.Tables, "columns": sc.Columns, "data_type": sc.DataType} {
			if mode == "" || slices.Contains(contractModes, mode) {
				continue
			}
			sp := path + ".schema_contract"
			if v.written(sp + "." + k) {
				sp += "." + k
			}
			v.unknownValue(sp, "schema contract mode", mode, contractModes)
		}
	}
	if r.Endpoint != nil {
		v.endpoint(r.Endpoint, path+".endpoint")
	}
}

// cardinalities are the values of a reference's cardinality in dlt.
var cardinalities = []string{"zero_to_one", "one_to_zero", "zero_to_many", "many_to_zero", "one_to_many", "many_to_one", "one_to_one", "many_to_many"}

// reference checks one entry of a resource's references as dlt does: a
// referenced table, and as many columns as referenced columns.
func (v *validator) reference(ref TableReference, table, path string) {
	if ref.Table != "" && ref.Table != table {
		v.errorf(path+".table", "a resource's reference is from its own table %q, not %q", table, ref.Table)
	}
	if ref.ReferencedTable == "" {
		v.errorf(path, "referenced_table must be set")
	}
	if len(ref.Columns) == 0 || len(ref.ReferencedColumns) == 0 {
		v.errorf(path, "both columns and referenced_columns must be set")
	} else if len(ref.Columns) != len(ref.ReferencedColumns) {
		v.errorf(path, "columns and referenced_columns must have the same length (%d and %d)", len(ref.Columns), len(ref.ReferencedColumns))
	}
	if ref.Cardinality != "" && !slices.Contains(cardinalities, ref.Cardinality) {
		v.unknownValue(path+".cardinality", "cardinality", ref.Cardinality, cardinalities)
	}
}

// dataType checks a data_type hint; schema owns the names.
func (v *validator) dataType(s, path string) {
	_, err := schema.ParseDataType(s)
	var de *schema.DataTypeError
	if !errors.As(err, &de) {
		return
	}
	switch {
	case de.Alias != "":
		v.errorf(path, "unknown data type %s (did you mean %q?)", v.show(path, s), de.Alias)
	case de.Unsupported:
		v.errorf(path, "data type %s is not supported (want one of %s)", v.show(path, s), oneOf(schema.DataTypes()))
	default:
		v.unknownValue(path, "data type", s, schema.DataTypes())
	}
}

func (v *validator) endpoint(e *Endpoint, path string) {
	if e.Method != "" && !slices.Contains([]string{"GET", "POST"}, strings.ToUpper(e.Method)) {
		v.errorf(path+".method", "unsupported method %s (want GET or POST)", v.show(path+".method", e.Method))
	}
	if e.DataSelector != "" {
		if err := response.Compile(e.DataSelector); err != nil {
			if v.secret[path+".data_selector"] {
				v.errorf(path+".data_selector", "invalid JSONPath (not shown: it holds a secret)")
			} else {
				v.errorf(path+".data_selector", "%v", err)
			}
		}
	}
	if e.Paginator != nil {
		v.paginator(e.Paginator, path+".paginator")
	}
	if e.Auth != nil {
		v.auth(e.Auth, path+".auth")
	}
	for i, ra := range e.ResponseActions {
		rp := fmt.Sprintf("%s.response_actions[%d]", path, i)
		switch ra.Action {
		case "ignore":
		case "":
			v.errorf(rp+".action", "missing required key (the only action is ignore)")
		default:
			v.errorf(rp+".action", "unknown action %s (the only action is ignore)", v.show(rp+".action", ra.Action))
		}
		if ra.StatusCode == nil && ra.Content == "" {
			v.errorf(rp, "want status_code or content to match responses")
		}
		if ra.StatusCode != nil && (*ra.StatusCode < 100 || *ra.StatusCode > 599) {
			v.errorf(rp+".status_code", "want an HTTP status between 100 and 599")
		}
	}
	if inc := e.Incremental; inc != nil {
		ip := path + ".incremental"
		if inc.CursorPath == "" {
			v.errorf(ip+".cursor_path", "missing required key")
		}
		if inc.LastValueFunc != "" && !slices.Contains(lastValueFuncs, inc.LastValueFunc) {
			v.unknownValue(ip+".last_value_func", "last_value_func", inc.LastValueFunc, lastValueFuncs)
		}
		if inc.RangeStart != "" && !slices.Contains(rangeBounds, inc.RangeStart) {
			v.unknownValue(ip+".range_start", "range_start", inc.RangeStart, rangeBounds)
		}
		if inc.RangeEnd != "" && !slices.Contains(rangeBounds, inc.RangeEnd) {
			v.unknownValue(ip+".range_end", "range_end", inc.RangeEnd, rangeBounds)
		}
		if inc.Lag < 0 {
			v.errorf(ip+".lag", "must not be negative")
		}
	}
}

func (v *validator) retry(r *Retry) {
	if r == nil {
		return
	}
	if r.MaxRetries != nil && *r.MaxRetries < 0 {
		v.errorf("retry.max_retries", "must not be negative")
	}
	if r.BackoffFactor != nil && *r.BackoffFactor <= 0 {
		v.errorf("retry.backoff_factor", "must be greater than 0")
	}
	for i, c := range r.StatusCodes {
		if c < 100 || c > 599 {
			v.errorf(fmt.Sprintf("retry.status_codes[%d]", i), "want an HTTP status between 100 and 599")
		}
	}
	if r.MaxDelay < 0 {
		v.errorf("retry.max_delay", "must not be negative")
	}
}

func (v *validator) limits(l *Limits) {
	if l == nil {
		return
	}
	if l.Concurrency < 0 {
		v.errorf("limits.concurrency", "must not be negative")
	}
	if l.RequestsPerSecond < 0 {
		v.errorf("limits.requests_per_second", "must not be negative")
	}
	if l.Prefetch != nil && l.Prefetch.Pages != nil && *l.Prefetch.Pages < 1 {
		path := "limits.prefetch"
		if v.written(path + ".pages") {
			path += ".pages"
		}
		v.errorf(path, "want at least 1 (1 fetches one page at a time)")
	}
	if l.MaxResponseBytes != nil && *l.MaxResponseBytes < 1 {
		v.errorf("limits.max_response_bytes", "want at least 1 (bytes)")
	}
	if l.MaxPages != nil && *l.MaxPages < 1 {
		v.errorf("limits.max_pages", "want at least 1")
	}
	if l.MaxColumns != nil && *l.MaxColumns < 1 {
		v.errorf("limits.max_columns", "want at least 1")
	}
	if l.MaxTables != nil && *l.MaxTables < 1 {
		v.errorf("limits.max_tables", "want at least 1")
	}
	if l.Memory != 0 && l.Memory < MinMemory {
		v.errorf("limits.memory", "want at least %s (or leave it out for the defaults)", MinMemory)
	}
}

// merged checks what only makes sense once resource_defaults are merged in:
// unique names, merge keys, request bodies and parent references.
func (v *validator) merged(p *Pipeline) {
	v.requests(p) // requests.go
	first := map[string]int{}
	names := make([]string, 0, len(p.Source.Resources))
	for i := range p.Source.Resources {
		r := &p.Source.Resources[i]
		path := v.srcPath(fmt.Sprintf("resources[%d]", i))
		if r.Name == "" {
			continue
		}
		if j, dup := first[r.Name]; dup {
			v.errorf(path+".name", "duplicate resource name %s (first used by resources[%d] on line %d)",
				v.show(path+".name", r.Name), j, p.Source.Resources[j].Pos.Line)
			continue
		}
		first[r.Name] = i
		names = append(names, r.Name)
	}

	parents := map[string]string{}
	for i := range p.Source.Resources {
		r := &p.Source.Resources[i]
		path := v.srcPath(fmt.Sprintf("resources[%d]", i))
		v.mergeKeys(r, path)
		v.mergeHints(r, path)
		if r.Endpoint.JSON != nil && r.Endpoint.Data != nil {
			v.errorf(path+".endpoint.data", "json and data cannot both be set")
		}
		refs := parentRefs(r)
		var parent string
		for _, ref := range refs {
			rp := joinPath(path, ref.path)
			if v.secret[rp] {
				ref.text = "<secret>"
			}
			if ref.msg != "" {
				v.errorf(rp, "%s", ref.msg)
				continue
			}
			switch {
			case ref.resource == r.Name:
				v.errorf(rp, "resource refers to itself in %s", ref.text)
			case !slices.Contains(names, ref.resource):
				if s := suggest(ref.resource, names); s != "" {
					v.errorf(rp, "unknown parent resource in %s (did you mean %q?)", ref.text, s)
				} else {
					v.errorf(rp, "unknown parent resource in %s", ref.text)
				}
			case parent != "" && parent != ref.resource:
				v.errorf(rp, "a resource can have only one parent, found %s and %s", parent, ref.text)
			default:
				parent = ref.resource
			}
		}
		if parent != "" {
			parents[r.Name] = parent
		} else if len(r.IncludeFromParent) > 0 {
			v.errorf(path+".include_from_parent", "set, but the resource has no parent ({resources.<name>.<field>} reference)")
		}
	}
	// Each resource has at most one parent, so a cycle is a loop in a chain.
	reported := map[string]bool{}
	for i := range p.Source.Resources {
		name := p.Source.Resources[i].Name
		chain := []string{name}
		for cur := parents[name]; cur != ""; cur = parents[cur] {
			if cur == name {
				if !slices.ContainsFunc(chain, func(s string) bool { return reported[s] }) {
					for _, s := range chain {
						reported[s] = true
					}
					v.errorf(v.srcPath(fmt.Sprintf("resources[%d]", i)), "parent references form a cycle: %s",
						strings.Join(append(chain, name), " -> "))
				}
				break
			}
			if slices.Contains(chain, cur) {
				break // a cycle further up; reported from its own members
			}
			chain = append(chain, cur)
		}
	}
}

// parentRef is one {resources.<name>.<field>} reference, or a legacy
// {type: resolve} param.
type parentRef struct {
	path     string // inside the resource, e.g. "endpoint.params.id"
	text     string // the reference as written
	resource string
	field    string
	msg      string // set when the reference is malformed
}

// parentRefs finds the references in a merged resource's endpoint, in a
// stable order: the path, the params by name (a legacy resolve param is a
// reference itself), the json body, the headers.
func parentRefs(r *Resource) []parentRef {
	e := r.Endpoint
	t := e.Templates()
	var refs []parentRef
	add := func(at templateAt) {
		for _, name := range at.t.Names() {
			ref, ok, err := template.ParentRef(name)
			if !ok {
				continue
			}
			pr := parentRef{path: at.path, text: "{" + name + "}", resource: ref.Resource, field: ref.Field}
			if err != nil {
				pr.msg = err.Error()
			}
			refs = append(refs, pr)
		}
	}
	add(templateAt{"endpoint.path", t.Path})
	for _, k := range slices.Sorted(maps.Keys(e.Params)) {
		pp := pathKey("endpoint.params", k)
		if m, ok := e.Params[k].(map[string]any); ok && ParamType(m) == "resolve" {
			res, _ := m["resource"].(string)
			fld, _ := m["field"].(string)
			ref := parentRef{path: pp, text: fmt.Sprintf("{type: resolve, resource: %s, field: %s}", res, fld), resource: res, field: fld}
			if res == "" || fld == "" {
				ref.msg = "a resolve param needs resource and field"
			}
			refs = append(refs, ref)
			continue
		}
		for _, at := range t.param(k) {
			add(at)
		}
	}
	for _, at := range t.json() {
		add(at)
	}
	for _, k := range slices.Sorted(maps.Keys(t.Headers)) {
		add(templateAt{pathKey("endpoint.headers", k), t.Headers[k]})
	}
	return refs
}

// Parent returns the name of the resource this one takes values from
// through {resources.<name>.<field>} references (or a legacy resolve param),
// or "" when it has none. Load has checked that the parent exists and that
// there are no cycles.
func (r *Resource) Parent() string {
	if r.Endpoint == nil {
		return ""
	}
	for _, ref := range parentRefs(r) {
		if ref.msg == "" && ref.resource != "" {
			return ref.resource
		}
	}
	return ""
}
