package normalize

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/restload/restload/internal/schema"
)

// field is one source field path of a table's rows; the tree of fields
// mirrors the records and caches names, column positions and types.
type field struct {
	path    []string
	sortKey string
	named   bool
	name    string // column name, once named
	col     int    // column position, -1 until the column exists
	typ     schema.DataType
	hinted  bool
	// held is set on a field named from a hint whose name no source has
	// claimed yet; the first record that has the field claims it.
	held   bool
	nested map[string]*field
	child  *tableState
	// variants holds the positions of this column's variant columns.
	variants    map[schema.DataType]int
	jsonChecked bool
	forceJSON   bool
	order       string // see Normalizer.order
}

func newField(prefix []string, key string) *field {
	p := make([]string, len(prefix)+1)
	copy(p, prefix)
	p[len(prefix)] = key
	return &field{path: p, sortKey: strings.Join(p, "\x00"), col: -1}
}

// hintColumns creates the root table's hinted columns that have a data
// type, primary key first, so they exist before any value is seen, and
// resolves the hinted fields of an existing table.
func (n *Normalizer) hintColumns(ts *tableState) error {
	keys := slices.Clone(n.hintOrder)
	rank := func(k string) int {
		if i, ok := n.pkCols[schema.ColumnPath(hintPath(k)...)]; ok {
			return i
		}
		return len(n.pkCols)
	}
	sort.SliceStable(keys, func(i, j int) bool { return rank(keys[i]) < rank(keys[j]) })
	for _, k := range keys {
		h := n.spec.Hints[k]
		if h.DataType == "" {
			continue
		}
		path := hintPath(k)
		fields := ts.fields
		var f *field
		var prefix []string
		for _, p := range path {
			f = fields[p]
			if f == nil {
				f = newField(prefix, p)
				fields[p] = f
			}
			prefix = f.path
			if f.nested == nil && len(prefix) < len(path) {
				f.nested = map[string]*field{}
			}
			fields = f.nested
		}
		if err := n.resolveColumn(ts, f, h.DataType); err != nil {
			return err
		}
	}
	return nil
}

// resolveColumn makes sure hinted field f of ts has its column, creating
// it with type typ when the table lacks it.
func (n *Normalizer) resolveColumn(ts *tableState, f *field, typ schema.DataType) error {
	// A hint may be keyed by the source field (sizeBytes) or by its column
	// name (size_bytes), so the name is held for whichever field asks
	// first rather than given to the hint's key (see place).
	cand := schema.ColumnPath(f.path...)
	if _, exists := ts.byName[cand]; exists || n.namer.Hold(ts.t.Name, cand) {
		// A column of that name exists (its source may be sizeBytes, and
		// the hint its column name) or the name is free: the hint is that
		// column's, and a field spelled like it that another source owns
		// gets a column of its own when it comes (see place).
		f.name, f.held = cand, true
	} else {
		f.name, _ = n.namer.Column(ts.t.Name, f.path...)
	}
	f.named = true
	if idx, ok := ts.byName[f.name]; ok {
		n.adopt(ts, f, idx)
		return nil
	}
	if v, err := n.decide(ts, &ContractError{Entity: "columns", Table: ts.t.Name, Column: f.name}); err != nil || v != accept {
		// Discarded: the field gets no column of its own, and its values
		// are judged one by one when records bring them.
		return err
	}
	c := &schema.Column{Name: f.name, Type: typ, Nullable: true, Source: schema.ColumnSource(f.name, f.path...)}
	n.decorate(ts, f, c)
	f.col, f.typ = len(ts.t.Columns), typ
	ts.t.AddColumn(c)
	n.layout.fresh[c] = true
	ts.reindex()
	return nil
}

// newColumn is a column a row needs, with the row's value for it.
type newColumn struct {
	f       *field
	variant bool
	name    string
	source  string // recorded on the column when name had to change
	typ     schema.DataType
	val     any
	skip    bool // discard_value: neither the column nor the value
}

// resolvePending names and creates the columns a row needs, in source path
// order so names and column order do not depend on map iteration, after
// checking the contract for all of them. It returns false when the row is
// discarded.
func (n *Normalizer) resolvePending(ts *tableState, rb *rowBuilder) (bool, error) {
	n.nameFields(ts, rb.pending)
	if len(rb.pending) > 1 {
		// Primary key columns first, then source path order.
		sort.Slice(rb.pending, func(i, j int) bool { return n.order(ts, rb.pending[i].f) < n.order(ts, rb.pending[j].f) })
	}
	var adds []newColumn
	for _, p := range rb.pending {
		f := p.f
		vtyp := p.typ
		if vtyp == "" {
			vtyp = schema.InferType(p.v)
		}
		colType := f.typ
		if f.col < 0 {
			if idx, ok := ts.byName[f.name]; ok {
				n.adopt(ts, f, idx)
				if out, ok := n.convert(f.hinted, p.v, f.typ); ok {
					rb.vals[idx] = out
					continue
				}
				colType = f.typ
			} else {
				h, _ := n.hint(ts, f)
				hinted := h.DataType != ""
				colType = vtyp
				if hinted {
					colType = h.DataType
				}
				add := newColumn{f: f, name: f.name, typ: colType, source: schema.ColumnSource(f.name, f.path...)}
				v, err := n.decide(ts, &ContractError{Entity: "columns", Table: ts.t.Name, Column: f.name})
				if err != nil || v == dropRow {
					return n.dropRow(err)
				}
				add.skip = v == dropValue
				out, fits := n.convert(hinted, p.v, colType)
				if fits || add.skip {
					add.val = out
					adds = append(adds, add)
					continue
				}
				if ts.isRoot && n.isKey(f) {
					return false, n.keyTypeError(ts, f.name, colType, vtyp, true)
				}
				// A hinted type the first value does not fit: the column is
				// created empty and the value goes to a variant.
				adds = append(adds, add)
			}
		}
		if ts.isRoot && f.col >= 0 && n.isKey(f) {
			// A key never goes to a variant column: see keyValue.
			out, err := n.keyValue(ts, f, p.v, vtyp)
			if err != nil {
				return false, err
			}
			rb.vals[f.col] = out
			continue
		}
		source := "variant:" + f.name + ":" + string(vtyp)
		candidate := f.name + schema.PathSeparator + "v_" + string(vtyp)
		name, renamed := n.namer.Name(ts.t.Name, source, candidate)
		out, _ := schema.Coerce(p.v, vtyp)
		if idx, ok := ts.byName[name]; ok {
			if f.variants == nil {
				f.variants = map[schema.DataType]int{}
			}
			f.variants[vtyp] = idx
			rb.vals[idx] = out
			rb.variants++
			continue
		}
		add := newColumn{f: f, variant: true, name: name, typ: vtyp, val: out}
		if renamed {
			add.source = source
		}
		v, err := n.decide(ts, &ContractError{Entity: "data_type", Table: ts.t.Name, Column: f.name, Type: vtyp, ColumnType: colType})
		if err != nil || v == dropRow {
			return n.dropRow(err)
		}
		add.skip = v == dropValue
		adds = append(adds, add)
	}
	rb.pending = rb.pending[:0]
	if max := n.spec.MaxColumns; max > 0 && len(adds) > 0 {
		added := 0
		for _, a := range adds {
			if a.skip {
				continue
			}
			if added++; len(ts.t.Columns)+added > max {
				return false, &ColumnLimitError{Table: ts.t.Name, Column: a.name, Limit: max}
			}
		}
	}
	for _, a := range adds {
		if a.skip {
			n.counts.DiscardedValues++
			continue
		}
		f := a.f
		c := &schema.Column{Name: a.name, Type: a.typ, Nullable: true, Source: a.source}
		idx := len(ts.t.Columns)
		if a.variant {
			c.VariantOf = f.name
			if f.variants == nil {
				f.variants = map[schema.DataType]int{}
			}
			f.variants[a.typ] = idx
			n.counts.Variants++
			rb.variants++
		} else {
			n.decorate(ts, f, c)
			f.col, f.typ = idx, c.Type
		}
		ts.t.AddColumn(c)
		n.layout.fresh[c] = true
		ts.reindex()
		rb.vals = append(rb.vals, make([]any, len(ts.t.Columns)-len(rb.vals))...)
		rb.vals[idx] = a.val
	}
	return true, nil
}

// dropRow ends resolvePending for a row the contract leaves out: err
// under freeze, else the row is counted as discarded.
func (n *Normalizer) dropRow(err error) (bool, error) {
	if err == nil {
		n.counts.DiscardedRows++
	}
	return false, err
}

// nameFields names the fields of pending values that have no column name
// yet. A field whose source name is already the normalized name (user_name)
// is named before one that normalizes to it (userName), so it keeps its
// name when both are new; then source path order.
func (n *Normalizer) nameFields(ts *tableState, pending []pendingValue) {
	var unnamed []*field
	for _, p := range pending {
		if p.f.col < 0 && !p.f.named {
			unnamed = append(unnamed, p.f)
		}
	}
	exact := func(f *field) bool {
		return schema.ColumnPath(f.path...) == strings.Join(f.path, schema.PathSeparator)
	}
	sort.Slice(unnamed, func(i, j int) bool {
		ei, ej := exact(unnamed[i]), exact(unnamed[j])
		if ei != ej {
			return ei
		}
		return unnamed[i].sortKey < unnamed[j].sortKey
	})
	for _, f := range unnamed {
		n.steal(ts, f)
		f.name, _ = n.namer.Column(ts.t.Name, f.path...)
		f.named = true
	}
}

// steal gives field f, spelled like its column name (foo_bar), the name
// that a field normalizing to it (fooBar) took earlier in this run, when
// that column is fresh (nothing of it loaded) and has no variants: the
// column is renamed foo_bar_1, as if f had come first. So who gets a name
// depends on neither record nor goroutine order (resources sharing a
// table), only on the stored schema.
func (n *Normalizer) steal(ts *tableState, f *field) {
	cand := schema.ColumnPath(f.path...)
	source := schema.SourcePath(f.path...)
	if schema.ColumnSource(cand, f.path...) != "" {
		return
	}
	owner, ok := n.namer.Owner(ts.t.Name, cand)
	if !ok || owner == source {
		return
	}
	idx, ok := ts.byName[cand]
	if !ok {
		return
	}
	c := ts.t.Columns[idx]
	if !n.layout.fresh[c] || c.VariantOf != "" || c.PrimaryKey || c.MergeKey {
		return
	}
	for _, o := range ts.t.Columns {
		if o.VariantOf == cand {
			return
		}
	}
	c.Name = n.namer.Steal(ts.t.Name, cand, source)
	c.Source = owner
	n.layout.gen++
	n.refresh(ts)
}

// refresh rereads ts's column names after a rename (see steal): byName,
// and the name of every field of ts.
func (n *Normalizer) refresh(ts *tableState) {
	clear(ts.byName)
	ts.ncols = 0
	ts.reindex()
	var walk func(fields map[string]*field)
	walk = func(fields map[string]*field) {
		for _, f := range fields {
			if f.col >= 0 {
				f.name = ts.t.Columns[f.col].Name
			} else if f.named && !f.held {
				f.name, _ = n.namer.Column(ts.t.Name, f.path...)
			}
			walk(f.nested)
		}
	}
	walk(ts.fields)
	ts.gen = n.layout.gen
}

// order is f's place among new columns: primary key columns first (in key
// order), then by source path.
func (n *Normalizer) order(ts *tableState, f *field) string {
	if f.order == "" {
		f.order = "1" + f.sortKey
		if ts.isRoot {
			if i, ok := n.pkCols[schema.ColumnPath(f.path...)]; ok {
				f.order = fmt.Sprintf("0%03d", i)
			}
		}
	}
	return f.order
}

func (n *Normalizer) convert(hinted bool, v any, t schema.DataType) (any, bool) {
	if hinted {
		return schema.Convert(v, t)
	}
	return schema.Coerce(v, t)
}

// adopt binds f to the existing column idx.
func (n *Normalizer) adopt(ts *tableState, f *field, idx int) {
	c := ts.t.Columns[idx]
	f.col, f.typ = idx, c.Type
	if c.Source == "" && n.layout.fresh[c] {
		// A column made in this run for a hint (size_bytes) and claimed by
		// a field (sizeBytes) is that field's in later runs too.
		c.Source = schema.ColumnSource(c.Name, f.path...)
	}
	if h, ok := n.hint(ts, f); ok && h.DataType != "" {
		f.hinted = true
		if h.DataType != c.Type {
			n.warnings = append(n.warnings, fmt.Sprintf("table %q: column %q is %s, so its data_type hint %s converts values to %s where possible and sends the rest to variant columns", ts.t.Name, c.Name, c.Type, h.DataType, c.Type))
		}
	}
	if !c.Nullable && !c.PrimaryKey {
		ts.notNull = append(ts.notNull, idx)
	}
}

func (n *Normalizer) hint(ts *tableState, f *field) (schema.Hint, bool) {
	if !ts.isRoot {
		return schema.Hint{}, false
	}
	h, ok := n.hints[schema.ColumnPath(f.path...)]
	return h, ok
}

// decorate applies hints and keys to a new column c of ts for field f.
func (n *Normalizer) decorate(ts *tableState, f *field, c *schema.Column) {
	if !ts.isRoot {
		return
	}
	cand := schema.ColumnPath(f.path...)
	if h, ok := n.hints[cand]; ok {
		if h.DataType != "" {
			f.hinted = true
		}
		c.Precision, c.Scale, c.Timezone, c.Unique = h.Precision, h.Scale, h.Timezone, h.Unique
		if h.Nullable != nil && !*h.Nullable {
			c.Nullable = false
			ts.notNull = append(ts.notNull, len(ts.t.Columns))
		}
	}
	if _, ok := n.pkCols[cand]; ok {
		c.PrimaryKey, c.Nullable = true, false
	}
	if n.mergeCols[cand] {
		c.MergeKey = true
	}
}
