package config

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/restload/restload/internal/paginate"
	"gopkg.in/yaml.v3"
)

// decoder fills Go values from yaml.v3 nodes, driven by the yaml struct tags.
// It never stops at the first problem: each one is added to probs and the
// decoder moves on to the next key.
type decoder struct {
	probs *problems
	file  string
	// at holds, for each dotted path that appeared in the file, where it was
	// written: the value for scalars, the key for mappings and lists.
	at  map[string]Pos
	sec *secretResolver
	// secretAt holds the paths whose values hold a resolved secret.
	secretAt map[string]bool

	// ctx ends decoding early (the CLI cancels it on SIGINT/SIGTERM).
	ctx context.Context
	// budget is how many more nodes may be decoded: the file's own nodes
	// plus maxAliasExpansion, so aliases cannot blow a small file up.
	budget int
	// stop is set when decoding stopped: the budget ran out
	// (errAliasBudget) or ctx ended (its error).
	stop error
	// filled lists the keys filled from dlt's configuration, with where
	// each came from (never a value).
	filled []string
}

// maxAliasExpansion is how many values the aliases of a file may add to it
// once expanded. A pipeline file that reuses a block with <<: *anchor adds
// tens or hundreds; a "billion laughs" file adds 10^9.
const maxAliasExpansion = 100_000

var errAliasBudget = errors.New("alias expansion limit reached")

// ctxCheckEvery is how many nodes are decoded between looks at ctx.
const ctxCheckEvery = 1024

// visit counts n, about to be decoded, against the budget and reports
// whether decoding goes on. The first node over the budget is reported as
// the problem.
func (d *decoder) visit(n *yaml.Node, path string) bool {
	if d.stop != nil {
		return false
	}
	d.budget--
	if d.budget < 0 {
		d.stop = errAliasBudget
		d.errAt(n, path, "YAML aliases expand to more than %d values (an alias bomb?): write the values out or use fewer aliases", maxAliasExpansion)
		return false
	}
	if d.budget%ctxCheckEvery == 0 && d.ctx != nil {
		if err := d.ctx.Err(); err != nil {
			d.stop = err
			return false
		}
	}
	return true
}

// countNodes counts the nodes of a document as written, aliases not
// followed.
func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

var (
	typeDuration         = reflect.TypeFor[Duration]()
	typeByteSize         = reflect.TypeFor[ByteSize]()
	typeStringList       = reflect.TypeFor[StringList]()
	typeWriteDisposition = reflect.TypeFor[WriteDisposition]()
	typeSchemaContract   = reflect.TypeFor[SchemaContract]()
	typePaginator        = reflect.TypeFor[Paginator]()
	typePrefetch         = reflect.TypeFor[Prefetch]()
	typeResource         = reflect.TypeFor[Resource]()
	typeEndpoint         = reflect.TypeFor[Endpoint]()
	typeAuth             = reflect.TypeFor[Auth]()
	typePos              = reflect.TypeFor[Pos]()
)

func (d *decoder) pos(n *yaml.Node) Pos {
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errAt(n *yaml.Node, path, format string, args ...any) {
	d.probs.add(d.pos(n), path, format, args...)
}

// wrongType reports that n is not what the field wants and marks path bad.
func (d *decoder) wrongType(n *yaml.Node, path, want string) {
	d.errAt(n, path, "want %s, got %s", want, describe(n))
	d.probs.markBad(path)
}

// describe names a node's type and, for scalars, its text, for "got ..."
// messages. It shows the text as written, before ${...} is expanded, so it
// never shows a secret.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!int", "!!float":
			return "number " + n.Value
		case "!!bool":
			return "boolean " + n.Value
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		return "string " + strconv.Quote(v)
	}
	return "an unsupported YAML value"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// isText reports whether n is a scalar that reads as text. Unquoted dates
// (!!timestamp) count, since restload keeps them as the string written.
func isText(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && (n.Tag == "!!str" || n.Tag == "!!timestamp")
}

// pathKey appends a mapping key to path: ".key" for plain names and
// ["key"] otherwise.
func pathKey(path, key string) string {
	if plainKey.MatchString(key) {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

type pair struct{ key, val *yaml.Node }

// pairs lists a mapping's entries, expanding YAML merge keys (<<: *anchor)
// and reporting duplicate keys. Keys written in the mapping itself win over
// merged ones.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	if !d.visit(n, path) {
		return nil
	}
	var own, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			merged = append(merged, d.mergePairs(v, path)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errAt(k, path, "mapping keys must be strings, got %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errAt(k, pathKey(path, k.Value), "duplicate key (first set on line %d)", first.Line)
			continue
		}
		seen[k.Value] = k
		own = append(own, pair{k, v})
	}
	for _, p := range merged {
		if _, ok := seen[p.key.Value]; !ok {
			seen[p.key.Value] = p.key
			own = append(own, p)
		}
	}
	return own
}

func (d *decoder) mergePairs(v *yaml.Node, path string) []pair {
	if !d.visit(v, path) {
		return nil
	}
	v = deref(v)
	switch v.Kind {
	case yaml.MappingNode:
		return d.pairs(v, path)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range v.Content {
			out = append(out, d.mergePairs(item, path)...)
		}
		return out
	}
	d.errAt(v, path, "want a mapping to merge with <<, got %s", describe(v))
	return nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// record notes where path was written.
func (d *decoder) record(path string, key, val *yaml.Node) {
	val = deref(val)
	if key != nil && (val.Kind == yaml.MappingNode || val.Kind == yaml.SequenceNode) && val.Style&yaml.FlowStyle == 0 {
		d.at[path] = d.pos(key)
		return
	}
	d.at[path] = d.pos(val)
}

// decode fills v from n. It reports whether n had a usable shape; problems
// inside a mapping or list are reported without failing the whole value, so
// validation still sees the rest of it.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) bool {
	if !d.visit(n, path) {
		return false
	}
	n = deref(n)
	if isNull(n) {
		v.SetZero()
		return true
	}
	t := v.Type()
	switch t {
	case typeDuration:
		return d.decodeDuration(n, v, path)
	case typeByteSize:
		return d.decodeByteSize(n, v, path)
	case typeStringList:
		if isText(n) {
			s, ok := d.text(n, path)
			v.Set(reflect.ValueOf(StringList{s}))
			return ok
		}
		if n.Kind != yaml.SequenceNode {
			d.wrongType(n, path, "a string or a list of strings")
			return false
		}
	case typeWriteDisposition:
		if isText(n) {
			s, ok := d.text(n, path)
			v.Set(reflect.ValueOf(WriteDisposition{Disposition: s}))
			return ok
		}
		if n.Kind != yaml.MappingNode {
			d.wrongType(n, path, "a string or a mapping")
			return false
		}
	case typeSchemaContract:
		if isText(n) {
			s, ok := d.text(n, path)
			v.Set(reflect.ValueOf(SchemaContract{Tables: s, Columns: s, DataType: s}))
			return ok
		}
		if n.Kind != yaml.MappingNode {
			d.wrongType(n, path, "a string or a mapping")
			return false
		}
	case typePrefetch:
		if n.Kind == yaml.ScalarNode {
			pages := new(int)
			ok := d.decodeInt(n, reflect.ValueOf(pages).Elem(), path)
			v.Set(reflect.ValueOf(Prefetch{Pages: pages}))
			return ok
		}
		if n.Kind != yaml.MappingNode {
			d.wrongType(n, path, "a number of pages or a mapping {pages, speculative}")
			return false
		}
	case typePaginator:
		if isText(n) {
			s, ok := d.text(n, path)
			v.Set(reflect.ValueOf(Paginator{Config: paginate.Config{Type: s}, Pos: d.at[path]}))
			return ok
		}
		if n.Kind != yaml.MappingNode {
			d.wrongType(n, path, "a paginator name or a mapping")
			return false
		}
		ok := d.decodeStruct(n, v, path)
		v.FieldByName("Pos").Set(reflect.ValueOf(d.at[path]))
		return ok
	case typeAuth:
		if isText(n) {
			// dlt's shorthand: the auth type alone, its keys from dlt's
			// configuration (see fillFromDlt).
			s, ok := d.text(n, path+".type")
			v.Set(reflect.ValueOf(Auth{Type: s}))
			d.record(path+".type", nil, n)
			return ok
		}
	case typeEndpoint:
		if isText(n) {
			// dlt's short form: the endpoint is its path.
			d.record(path+".path", nil, n)
			s, ok := d.text(n, path+".path")
			v.Set(reflect.ValueOf(Endpoint{Path: s}))
			return ok
		}
	case typeResource:
		if isText(n) {
			s, ok := d.text(n, path)
			v.Set(reflect.ValueOf(Resource{Name: s, Pos: d.pos(n)}))
			return ok
		}
		if n.Kind != yaml.MappingNode {
			d.wrongType(n, path, "a resource name or a mapping")
			return false
		}
		ok := d.decodeStruct(n, v, path)
		v.FieldByName("Pos").Set(reflect.ValueOf(d.pos(n)))
		return ok
	}

	switch t.Kind() {
	case reflect.Pointer:
		nv := reflect.New(t.Elem())
		if !d.decode(n, nv.Elem(), path) {
			return false
		}
		v.Set(nv)
		return true
	case reflect.Interface:
		if t.NumMethod() != 0 {
			panic("config: cannot decode into " + t.String())
		}
		if x := d.plain(n, path); x != nil {
			v.Set(reflect.ValueOf(x))
		}
		return true
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.wrongType(n, path, "a mapping")
			return false
		}
		return d.decodeStruct(n, v, path)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.wrongType(n, path, "a mapping")
			return false
		}
		m := reflect.MakeMap(t)
		for _, p := range d.pairs(n, path) {
			kp := pathKey(path, p.key.Value)
			d.record(kp, p.key, p.val)
			ev := reflect.New(t.Elem()).Elem()
			if t.Elem().Kind() == reflect.String {
				// Header and form values: any scalar is taken as text.
				if pv := deref(p.val); pv.Kind == yaml.ScalarNode && !isNull(pv) {
					s, _ := d.expand(pv.Value, pv, kp)
					ev.SetString(s)
					m.SetMapIndex(reflect.ValueOf(p.key.Value), ev)
					continue
				}
			}
			if d.decode(p.val, ev, kp) {
				m.SetMapIndex(reflect.ValueOf(p.key.Value), ev)
			}
		}
		v.Set(m)
		return true
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.wrongType(n, path, "a list")
			return false
		}
		s := reflect.MakeSlice(t, 0, len(n.Content))
		for i, item := range n.Content {
			ip := fmt.Sprintf("%s[%d]", path, i)
			d.record(ip, nil, item)
			ev := reflect.New(t.Elem()).Elem()
			d.decode(item, ev, ip)
			s = reflect.Append(s, ev)
		}
		v.Set(s)
		return true
	case reflect.String:
		if !isText(n) {
			d.wrongType(n, path, "a string")
			return false
		}
		s, ok := d.text(n, path)
		v.SetString(s)
		return ok
	case reflect.Int, reflect.Int64, reflect.Int32:
		return d.decodeInt(n, v, path)
	case reflect.Float64, reflect.Float32:
		f, ok := d.number(n, path)
		if ok {
			v.SetFloat(f)
		}
		return ok
	case reflect.Bool:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
			var b bool
			if err := n.Decode(&b); err == nil {
				v.SetBool(b)
				return true
			}
		}
		if s, ok := d.expandedScalar(n, path); ok {
			if b, err := strconv.ParseBool(s); err == nil {
				v.SetBool(b)
				return true
			}
		}
		d.wrongType(n, path, "true or false")
		return false
	}
	panic("config: cannot decode into " + t.String())
}

// text returns a string scalar with ${...} references expanded.
func (d *decoder) text(n *yaml.Node, path string) (string, bool) {
	return d.expand(n.Value, n, path)
}

// expandedScalar returns the expansion of a quoted scalar that holds a
// ${...} reference, so numbers and booleans can come from the environment.
func (d *decoder) expandedScalar(n *yaml.Node, path string) (string, bool) {
	if !isText(n) || !strings.Contains(n.Value, "${") {
		return "", false
	}
	s, ok := d.expand(n.Value, n, path)
	return strings.TrimSpace(s), ok
}

func (d *decoder) number(n *yaml.Node, path string) (float64, bool) {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		var f float64
		if err := n.Decode(&f); err == nil {
			return f, true
		}
	}
	if s, ok := d.expandedScalar(n, path); ok {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, true
		}
	}
	d.wrongType(n, path, "a number")
	return 0, false
}

func (d *decoder) decodeInt(n *yaml.Node, v reflect.Value, path string) bool {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		var i int64
		if err := n.Decode(&i); err == nil && !v.OverflowInt(i) {
			v.SetInt(i)
			return true
		}
		d.errAt(n, path, "number %s is out of range", n.Value)
		d.probs.markBad(path)
		return false
	}
	f, ok := d.number(n, path)
	if !ok {
		return false
	}
	if f != math.Trunc(f) || math.IsInf(f, 0) || v.OverflowInt(int64(f)) {
		d.errAt(n, path, "want a whole number, got %s", describe(n))
		d.probs.markBad(path)
		return false
	}
	v.SetInt(int64(f))
	return true
}

func (d *decoder) decodeDuration(n *yaml.Node, v reflect.Value, path string) bool {
	const want = `a duration such as "30s" or a number of seconds`
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		var f float64
		if err := n.Decode(&f); err == nil && !math.IsInf(f, 0) && math.Abs(f) < math.MaxInt64/float64(time.Second) {
			v.SetInt(int64(f * float64(time.Second)))
			return true
		}
	}
	if isText(n) {
		s, ok := d.text(n, path)
		if !ok {
			return false
		}
		if dur, err := time.ParseDuration(strings.TrimSpace(s)); err == nil {
			v.SetInt(int64(dur))
			return true
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && !math.IsInf(f, 0) && math.Abs(f) < math.MaxInt64/float64(time.Second) {
			v.SetInt(int64(f * float64(time.Second)))
			return true
		}
	}
	d.wrongType(n, path, want)
	return false
}

func (d *decoder) decodeByteSize(n *yaml.Node, v reflect.Value, path string) bool {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float" || n.Tag == "!!str") {
		s, ok := d.text(n, path)
		if !ok {
			return false
		}
		b, err := ParseByteSize(s)
		if err == nil {
			v.SetInt(int64(b))
			return true
		}
	}
	d.wrongType(n, path, `a size such as "512MB" or "2GiB", or a number of bytes`)
	return false
}

// plain decodes n into plain Go values: string, int, float64, bool, nil,
// []any and map[string]any.
func (d *decoder) plain(n *yaml.Node, path string) any {
	if !d.visit(n, path) {
		return nil
	}
	n = deref(n)
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil
		case "!!int":
			var i int
			if err := n.Decode(&i); err == nil {
				return i
			}
			var f float64
			if err := n.Decode(&f); err == nil {
				return f
			}
		case "!!float":
			var f float64
			if err := n.Decode(&f); err == nil {
				return f
			}
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err == nil {
				return b
			}
		}
		s, _ := d.text(n, path)
		return s
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			ip := fmt.Sprintf("%s[%d]", path, i)
			d.record(ip, nil, item)
			out = append(out, d.plain(item, ip))
		}
		return out
	case yaml.MappingNode:
		out := map[string]any{}
		for _, p := range d.pairs(n, path) {
			kp := pathKey(path, p.key.Value)
			d.record(kp, p.key, p.val)
			out[p.key.Value] = d.plain(p.val, kp)
		}
		return out
	}
	d.wrongType(n, path, "a plain value")
	return nil
}

// field is one key of a struct, found through its yaml tag.
type field struct {
	key   string
	index []int
	// nullEmpty (tag option "nullempty") makes an explicit null in a *string
	// field decode to "" instead of nil: dlt's None that turns a feature
	// off (paginator total_path: null), unlike leaving the key out.
	nullEmpty bool
}

var fieldCache sync.Map // reflect.Type -> []field

// fieldsOf lists the keys a struct type accepts, following yaml:",inline".
func fieldsOf(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	var fs []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("yaml")
		if tag == "-" || !sf.IsExported() || sf.Type == typePos {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts == "inline" {
			for _, inner := range fieldsOf(sf.Type) {
				fs = append(fs, field{inner.key, append([]int{i}, inner.index...), inner.nullEmpty})
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		fs = append(fs, field{name, []int{i}, opts == "nullempty"})
	}
	fieldCache.Store(t, fs)
	return fs
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) bool {
	fs := fieldsOf(v.Type())
	for _, p := range d.pairs(n, path) {
		key := p.key.Value
		kp := pathKey(path, key)
		i := slices.IndexFunc(fs, func(f field) bool { return f.key == key })
		if i < 0 {
			if where, ok := misplaced[v.Type()][key]; ok {
				d.errAt(p.key, kp, "unknown key (did you mean %s?)", where)
				// The value is probably right, only misplaced: do not also
				// report it as missing where it belongs.
				d.probs.markBad(joinPath(path, where))
				continue
			}
			d.errAt(p.key, kp, "%s", unknownKeyMsg(key, fs))
			continue
		}
		d.record(kp, p.key, p.val)
		if fv := v.FieldByIndex(fs[i].index); fs[i].nullEmpty && fv.Type() == reflect.TypeFor[*string]() && isNull(deref(p.val)) {
			fv.Set(reflect.ValueOf(new(string)))
			continue
		}
		d.decode(p.val, v.FieldByIndex(fs[i].index), kp)
	}
	return true
}

// misplaced names keys that are valid one level away, for a better hint than
// edit distance gives.
var misplaced = map[reflect.Type]map[string]string{
	reflect.TypeFor[Pipeline]():         {"client": "source.client", "resources": "source.resources", "resource_defaults": "source.resource_defaults"},
	typeResource:                        keysUnder("endpoint", reflect.TypeFor[Endpoint]()),
	reflect.TypeFor[ResourceDefaults](): keysUnder("endpoint", reflect.TypeFor[Endpoint]()),
	reflect.TypeFor[Source]():           {"base_url": "client.base_url", "auth": "client.auth", "paginator": "client.paginator", "headers": "client.headers"},
}

func keysUnder(prefix string, t reflect.Type) map[string]string {
	m := map[string]string{}
	for _, f := range fieldsOf(t) {
		m[f.key] = prefix + "." + f.key
	}
	return m
}

func unknownKeyMsg(key string, fs []field) string {
	keys := make([]string, len(fs))
	for i, f := range fs {
		keys[i] = f.key
	}
	if s := suggest(key, keys); s != "" {
		return fmt.Sprintf("unknown key (did you mean %q?)", s)
	}
	slices.Sort(keys)
	return fmt.Sprintf("unknown key (valid keys: %s)", strings.Join(keys, ", "))
}

// Suggest returns the candidate nearest to key, or "" when none is close
// enough to be a plausible typo.
func Suggest(key string, candidates []string) string { return suggest(key, candidates) }

func suggest(key string, candidates []string) string {
	best, bestD := "", math.MaxInt
	lk := strings.ToLower(key)
	for _, c := range candidates {
		dist := levenshtein(lk, strings.ToLower(c))
		if dist < bestD {
			best, bestD = c, dist
		}
	}
	limit := max(2, len(key)/3)
	if bestD <= limit && bestD < len(key) {
		return best
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
