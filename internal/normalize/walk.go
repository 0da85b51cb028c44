package normalize

import (
	"slices"
	"strings"

	"github.com/restload/restload/internal/schema"
)

// link ties a child row to its parent.
type link struct {
	// The ids are boxed once per parent row, not once per child row.
	parentID, rootID any
	idx              int
}

// rowBuilder collects one row's values while its record is walked.
type rowBuilder struct {
	vals    []any
	pending []pendingValue
	lists   []listValue
	// variants counts the row's values stored in variant columns.
	variants int64
}

// reset readies rb for a row of width columns, keeping its memory.
func (rb *rowBuilder) reset(width int) {
	clear(rb.vals)
	rb.vals = slices.Grow(rb.vals[:0], width)[:width]
	clear(rb.pending)
	rb.pending = rb.pending[:0]
	clear(rb.lists)
	rb.lists = rb.lists[:0]
	rb.variants = 0
}

type pendingValue struct {
	f   *field
	v   any
	typ schema.DataType // the value's type
}

type listValue struct {
	f    *field
	list []any
}

// element is one element of a list of scalars (or of lists), stored in the
// child table's value column.
type element struct {
	v   any
	typ schema.DataType // json for a list in a list, else ""
}

// row normalizes rec (or, for a list of scalars, the element) into a row of
// ts, emits it, then its children.
func (n *Normalizer) row(ts *tableState, rec map[string]any, elem *element, l link, emit func(*schema.Table, []any) error) error {
	if ts.ncols != len(ts.t.Columns) {
		ts.reindex()
	}
	if ts.gen != n.layout.gen {
		n.refresh(ts)
	}
	rb := &ts.rb
	rb.reset(len(ts.t.Columns))
	if elem != nil {
		f := ts.fields[schema.ColValue]
		if f == nil {
			f = newField(nil, schema.ColValue)
			ts.fields[schema.ColValue] = f
		}
		if elem.v != nil {
			n.scalar(f, elem.v, elem.typ, rb)
		}
	} else {
		for k, v := range rec {
			n.place(ts, ts.fields, nil, k, v, 0, rb)
		}
	}
	if len(rb.pending) > 0 {
		keep, err := n.resolvePending(ts, rb)
		if err != nil || !keep {
			return err
		}
	}
	if ts.idCol < 0 || (!ts.isRoot && ts.rootCol < 0 && n.needsRootID()) {
		n.addSystemColumns(ts)
	}
	if len(rb.vals) < len(ts.t.Columns) {
		rb.vals = append(rb.vals, make([]any, len(ts.t.Columns)-len(rb.vals))...)
	}
	for _, i := range ts.notNull {
		if rb.vals[i] == nil {
			return &NullError{Table: ts.t.Name, Column: ts.t.Columns[i].Name}
		}
	}
	ts.seq++
	var id any
	switch {
	case n.spec.Scd2 == nil:
		id = ts.rowID()
	case ts.isRoot:
		h, seen := n.version(ts, rb.vals)
		if seen {
			return nil
		}
		id = h
	default:
		id = childHash(l.parentID, ts.t.Name, l.idx)
	}
	rb.vals[ts.idCol] = id
	if ts.isRoot {
		rb.vals[ts.loadCol] = n.loadIDv
		l.rootID = id
	} else {
		rb.vals[ts.parentCol] = l.parentID
		rb.vals[ts.idxCol] = int64(l.idx)
		if ts.rootCol >= 0 {
			rb.vals[ts.rootCol] = l.rootID
		}
	}
	if err := emit(ts.t, rb.vals); err != nil {
		return emitError{err}
	}
	ts.rows++
	n.counts.VariantValues += rb.variants
	if len(rb.lists) > 1 {
		slices.SortFunc(rb.lists, func(a, b listValue) int { return strings.Compare(a.f.sortKey, b.f.sortKey) })
	}
	for _, lv := range rb.lists {
		if err := n.children(ts, lv, link{parentID: id, rootID: l.rootID}, emit); err != nil {
			return err
		}
	}
	return nil
}

// place puts one field's value into the row: a scalar into its column, an
// object flattened further, a list aside for its child table, or an object
// or list as JSON when nesting stops here.
func (n *Normalizer) place(ts *tableState, fields map[string]*field, prefix []string, k string, v any, depth int, rb *rowBuilder) {
	f := fields[k]
	if f == nil {
		f = newField(prefix, k)
		fields[k] = f
	}
	if f.held {
		// The record has the hinted field under the hint's own key: it
		// owns the name now, and a field that normalizes to the same
		// name is renamed, with a warning.
		f.held = false
		if name, _ := n.namer.Name(ts.t.Name, schema.SourcePath(f.path...), f.name); name != f.name {
			// Another field took the hinted column first: this one
			// gets a column of its own.
			f.name, f.col, f.typ, f.hinted = name, -1, "", false
		}
	}
	switch x := v.(type) {
	case nil:
	case map[string]any:
		if n.asJSON(ts, f, depth) {
			n.scalar(f, x, schema.JSON, rb)
			return
		}
		if f.nested == nil {
			f.nested = map[string]*field{}
		}
		for k2, v2 := range x {
			n.place(ts, f.nested, f.path, k2, v2, depth+1, rb)
		}
	case []any:
		if n.asJSON(ts, f, depth) {
			n.scalar(f, x, schema.JSON, rb)
			return
		}
		if len(x) > 0 {
			rb.lists = append(rb.lists, listValue{f, x})
		}
	default:
		n.scalar(f, v, "", rb)
	}
}

// asJSON says whether an object or list in field f, depth objects below
// the row, is stored whole as a JSON value: it is at the nesting limit, the
// field has a data_type hint, or its column is already typed json.
func (n *Normalizer) asJSON(ts *tableState, f *field, depth int) bool {
	if ts.level+depth >= n.maxNesting {
		return true
	}
	if !f.jsonChecked {
		f.jsonChecked = true
		cand := schema.ColumnPath(f.path...)
		// A hinted object or list is stored whole, converted to the
		// hinted type (json, or text holding JSON), not flattened.
		if ts.isRoot && n.hints[cand].DataType != "" {
			f.forceJSON = true
		} else if i, ok := ts.byName[cand]; ok && ts.t.Columns[i].Type == schema.JSON {
			f.forceJSON = true
		}
	}
	return f.forceJSON || (f.col >= 0 && f.typ == schema.JSON)
}

// scalar puts a value into f's column when it fits, or its existing
// variant column; otherwise it leaves it pending for resolvePending. typ is
// the value's type when the caller knows it (json), else "".
func (n *Normalizer) scalar(f *field, v any, typ schema.DataType, rb *rowBuilder) {
	if f.col >= 0 {
		if out, ok := n.convert(f.hinted, v, f.typ); ok {
			rb.vals[f.col] = out
			return
		}
		if typ == "" {
			typ = schema.InferType(v)
		}
		if i, ok := f.variants[typ]; ok {
			rb.vals[i], _ = schema.Coerce(v, typ)
			rb.variants++
			return
		}
	}
	rb.pending = append(rb.pending, pendingValue{f: f, v: v, typ: typ})
}

// children emits the rows of one list of a row of parent.
func (n *Normalizer) children(parent *tableState, lv listValue, l link, emit func(*schema.Table, []any) error) error {
	f := lv.f
	if f.child == nil {
		name, _ := n.namer.Table(parent.t.Name, f.path...)
		ts, ok, err := n.table(name, parent.t.Name, schema.TableSource(name, parent.t.Name, f.path...), parent.level+1)
		if err != nil {
			return err
		}
		if !ok {
			n.counts.DiscardedRows += int64(len(lv.list))
			return nil
		}
		f.child = ts
	}
	for i, e := range lv.list {
		l.idx = i
		var err error
		switch e := e.(type) {
		case map[string]any:
			err = n.row(f.child, e, nil, l, emit)
		case []any:
			// A list in a list is kept whole, as JSON in the value column.
			var v any
			if len(e) > 0 {
				v = e
			}
			err = n.row(f.child, nil, &element{v: v, typ: schema.JSON}, l, emit)
		default:
			err = n.row(f.child, nil, &element{v: e}, l, emit)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// emitError carries an error of emit's up the walk, for Normalize to
// return as it is: it is not the record's.
type emitError struct{ err error }

func (e emitError) Error() string { return e.err.Error() }
