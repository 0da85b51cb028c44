package normalize

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/restload/restload/internal/schema"
)

// Normalizer turns one resource's records into rows, growing a schema as it
// goes.
//
// Row ids: every row's _dlt_id is an 8-character prefix hashed from the load
// id, the resource and the table, then a 10-character zero-padded base-36 sequence
// counted per table. Ids are unique across loads and tables, reprocessing the same
// records in the same order with the same load id gives the same ids, and
// within one load the ids of a table's rows sort in arrival order, which
// merge relies on (the greatest _dlt_id of a key wins). Use one Normalizer
// per resource and load.
//
// A Normalizer is not safe for concurrent use. It mutates the schema given
// to New in place (appending tables and columns, never changing them), so
// Normalizers that share a schema must be called one at a time; it is
// simplest to give each resource its own tables and have the caller lock.
type Normalizer struct {
	s       *schema.Schema
	spec    Spec
	loadID  string
	loadIDv any // loadID, boxed once
	layout  *Layout
	namer   *schema.Namer // the layout's
	// nameWarnings are the namer's warnings about this Normalizer's names.
	nameWarnings []string
	maxNesting   int
	rootName     string
	root         *tableState
	tables       map[string]*tableState
	// hints by column candidate name (root table only).
	hints     map[string]schema.Hint
	hintOrder []string
	pkCols    map[string]int // column candidate -> position in the key
	mergeCols map[string]bool
	record    int64
	cur       map[string]any // the record being normalized
	counts    Counts
	warnings  []string
}

// tableState is what a Normalizer knows of one table.
type tableState struct {
	t      *schema.Table
	isNew  bool // created in this run (by its Layout): columns and data_type evolve freely
	level  int  // nesting level of the table's rows: 0 for the root
	isRoot bool
	byName map[string]int
	ncols  int // columns indexed in byName
	fields map[string]*field
	seq    uint64
	rows   int64
	// idPrefix starts the table's row ids; see Normalizer.
	idPrefix string
	// gen is the layout's gen when byName and the fields' names were read.
	gen int
	// ids holds the ids of the rows from idsFrom on, made in blocks so
	// that a row's id costs no allocation of its own.
	ids     string
	idsFrom uint64
	// rb is reused by each row of the table: one row is built at a time,
	// and emit does not keep it.
	rb rowBuilder
	// Positions of the system columns, -1 until they exist.
	idCol, loadCol, parentCol, idxCol, rootCol int
	notNull                                    []int
}

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

// Layout is the one owner of the column layout of a set of tables in a
// run: the schema they grow, the names given in it and which tables the
// run created. Normalizers made from one Layout (Layout.New) agree on
// every table's columns, their positions, names and types, so several
// resources with the same table_name put each value in its column
// whichever writes first. A Layout and its Normalizers are not safe for
// concurrent use: the caller serializes the calls of all of them.
type Layout struct {
	s     *schema.Schema
	namer *schema.Namer
	// created names the tables added in this run: they evolve freely,
	// whichever Normalizer made them (see Normalizer.decide).
	created map[string]bool
	// fresh holds the columns added since the last Snapshot: nothing of
	// them reached a destination, so a key column among them may still
	// become text (see Normalizer.keyValue) and one may still be renamed
	// (see Normalizer.steal).
	fresh map[*schema.Column]bool
	// gen counts renames: a tableState made at another gen rereads its
	// table's names (see tableState.refresh).
	gen int
}

// NewLayout returns the Layout of s, which it grows in place; the names
// of s's tables and columns stay theirs (see schema.Namer.Seed).
func NewLayout(s *schema.Schema) *Layout {
	l := &Layout{s: s, namer: schema.NewNamer(), created: map[string]bool{}, fresh: map[*schema.Column]bool{}}
	l.namer.Seed(s)
	return l
}

// Snapshot returns a copy of the layout's schema to load rows written so
// far with. The columns it holds keep their types from then on.
func (l *Layout) Snapshot() *schema.Schema {
	clear(l.fresh)
	return l.s.Clone()
}

// New returns a Normalizer for the resource spec describes, growing s and
// stamping root rows with loadID. It is NewLayout(s).New(spec, loadID).
func New(s *schema.Schema, spec Spec, loadID string) (*Normalizer, error) {
	if s == nil {
		return nil, fmt.Errorf("resource %q: normalize: nil schema", spec.Resource)
	}
	return NewLayout(s).New(spec, loadID)
}

// New returns a Normalizer for the resource spec describes that writes
// the tables of l, stamping root rows with loadID.
func (l *Layout) New(spec Spec, loadID string) (*Normalizer, error) {
	s := l.s
	if s == nil {
		return nil, fmt.Errorf("resource %q: normalize: nil schema", spec.Resource)
	}
	if spec.Resource == "" {
		return nil, fmt.Errorf("normalize: resource name is empty")
	}
	if loadID == "" {
		return nil, fmt.Errorf("resource %q: normalize: load id is empty", spec.Resource)
	}
	if err := spec.Contract.Validate(); err != nil {
		return nil, fmt.Errorf("resource %q: %w", spec.Resource, err)
	}
	switch spec.WriteDisposition {
	case "":
		spec.WriteDisposition = schema.Append
	case schema.Append, schema.Replace, schema.Merge:
	default:
		return nil, fmt.Errorf("resource %q: unknown write disposition %q (want append, replace or merge)", spec.Resource, spec.WriteDisposition)
	}
	table := spec.Table
	if table == "" {
		table = spec.Resource
	}
	n := &Normalizer{
		s:          s,
		spec:       spec,
		loadID:     loadID,
		loadIDv:    loadID,
		layout:     l,
		namer:      l.namer,
		maxNesting: DefaultMaxNesting,
		rootName:   schema.NormalizeIdentifier(table),
		tables:     map[string]*tableState{},
		hints:      map[string]schema.Hint{},
		pkCols:     map[string]int{},
		mergeCols:  map[string]bool{},
	}
	if spec.MaxNesting != nil {
		if *spec.MaxNesting < 0 {
			return nil, fmt.Errorf("resource %q: max_table_nesting %d is negative", spec.Resource, *spec.MaxNesting)
		}
		n.maxNesting = *spec.MaxNesting
	}
	for i, k := range spec.PrimaryKey {
		n.pkCols[schema.ColumnPath(hintPath(k)...)] = i
	}
	for _, k := range spec.MergeKey {
		n.mergeCols[schema.ColumnPath(hintPath(k)...)] = true
	}
	for k, h := range spec.Hints {
		if h.DataType != "" {
			if _, err := schema.ParseDataType(string(h.DataType)); err != nil {
				return nil, fmt.Errorf("resource %q: column %q: %w", spec.Resource, k, err)
			}
		}
		cand := schema.ColumnPath(hintPath(k)...)
		n.hints[cand] = h
		if _, ok := n.pkCols[cand]; h.PrimaryKey && !ok {
			n.pkCols[cand] = len(n.pkCols)
		}
		n.hintOrder = append(n.hintOrder, k)
	}
	sort.Strings(n.hintOrder)
	return n, nil
}

// recordKey describes the current record's primary key for an error
// message: `id "f-3"`, or `org 1, id 7` for a composite key; "" when the
// resource has no primary key.
func (n *Normalizer) recordKey() string {
	parts := make([]string, 0, len(n.spec.PrimaryKey))
	for _, k := range n.spec.PrimaryKey {
		v, ok := n.cur[k]
		if !ok {
			v = lookupPath(n.cur, hintPath(k))
		}
		if s, ok := v.(string); ok {
			parts = append(parts, fmt.Sprintf("%s %q", k, s))
		} else {
			parts = append(parts, fmt.Sprintf("%s %v", k, v))
		}
	}
	return strings.Join(parts, ", ")
}

// hintPath splits a hint or key name into a source path: "owner.email" and
// the column name "owner__email" both give [owner email].
func hintPath(k string) []string {
	if strings.Contains(k, ".") {
		return strings.Split(k, ".")
	}
	if strings.Contains(k, schema.PathSeparator) {
		return strings.Split(k, schema.PathSeparator)
	}
	return []string{k}
}

// Counts returns what the Normalizer has done so far.
func (n *Normalizer) Counts() Counts {
	c := n.counts
	c.Rows = map[string]int64{}
	for name, ts := range n.tables {
		if ts.rows > 0 {
			c.Rows[name] = ts.rows
		}
	}
	return c
}

// Warnings returns what the user should know but that did not stop the
// load: renamed colliding columns and hints that could not retype an
// existing column.
func (n *Normalizer) Warnings() []string {
	return append(slices.Clone(n.nameWarnings), n.warnings...)
}

// Normalize turns one record into rows and calls emit for each, parent rows
// before their children. row is aligned to t.Columns at the time of the
// call; columns are only ever appended, so a row emitted earlier is a prefix
// of the table's current columns and the consumer pads it with nil. The row
// slice is only valid during the call: the Normalizer reuses it for the
// table's next row, so emit copies what it keeps (the values themselves are
// not reused). An error from emit is returned as is; the other
// errors are *MissingKeyError, *ContractError and *NullError, after which
// the record's rows emitted so far should be discarded with the load.
func (n *Normalizer) Normalize(record map[string]any, emit func(t *schema.Table, row []any) error) error {
	// The namer is the layout's: keep the warnings about this resource's
	// names as this resource's.
	w := n.namer.NumWarnings()
	err := n.normalize(record, emit)
	if n.namer.NumWarnings() > w {
		n.nameWarnings = append(n.nameWarnings, n.namer.WarningsSince(w)...)
	}
	return err
}

func (n *Normalizer) normalize(record map[string]any, emit func(t *schema.Table, row []any) error) error {
	n.record++
	n.counts.Records++
	n.cur = record
	if err := n.checkKey(record); err != nil {
		return err
	}
	if n.root == nil {
		ts, ok, err := n.table(n.rootName, "", "", 0)
		if err != nil || !ok {
			if !ok {
				n.counts.DiscardedRows++
			}
			return err
		}
		n.root = ts
	}
	return n.row(n.root, record, nil, link{}, emit)
}

func (n *Normalizer) checkKey(record map[string]any) error {
	var missing []string
	for _, k := range n.spec.PrimaryKey {
		v, ok := record[k]
		if !ok {
			v = lookupPath(record, hintPath(k))
		}
		if v == nil {
			missing = append(missing, k)
		}
	}
	if missing == nil {
		return nil
	}
	var like []string
	for k, v := range record {
		if v != nil && looksLikeKey(k) {
			like = append(like, k)
		}
	}
	sort.Strings(like)
	// A field named after the resource (datasetId for datasets) is the
	// likely key: list it first and suggest it.
	e := &MissingKeyError{Resource: n.spec.Resource, Record: n.record, Keys: missing, LookLikeKeys: like}
	if len(n.spec.PrimaryKey) == 1 {
		for i, k := range like {
			if namesResource(k, n.spec.Resource) {
				copy(like[1:i+1], like[:i])
				like[0] = k
				e.Suggest = k
				break
			}
		}
	}
	return e
}

// lookupPath returns the value at path in m, matching each segment to a
// field of the same name or, failing that, to a field whose normalized name
// is the segment's (so the key "connection_id", dlt's column name, finds
// the field connectionId).
func lookupPath(m map[string]any, path []string) any {
	var v any = m
	for _, p := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if v, ok = obj[p]; ok {
			continue
		}
		want := schema.NormalizeIdentifier(p)
		for k, x := range obj {
			if schema.NormalizeIdentifier(k) == want {
				v = x
				break
			}
		}
	}
	return v
}

// table returns the state of the table name (a child of parent when parent
// is set), creating the table when the schema lacks it and the tables
// contract allows. ok=false means the contract discards its rows.
func (n *Normalizer) table(name, parent, source string, level int) (*tableState, bool, error) {
	if ts := n.tables[name]; ts != nil {
		return ts, true, nil
	}
	t := n.s.Table(name)
	if t == nil {
		switch n.spec.Contract.Tables {
		case Freeze:
			return nil, false, &ContractError{Resource: n.spec.Resource, Record: n.record, Key: n.recordKey(), Entity: "tables", Table: name}
		case DiscardRow, DiscardValue:
			return nil, false, nil
		}
		t = &schema.Table{Name: name, Parent: parent, Resource: n.spec.Resource, WriteDisposition: n.spec.WriteDisposition, Source: source}
		n.s.AddTable(t)
		n.layout.created[name] = true
	}
	ts := &tableState{
		t: t, isNew: n.layout.created[name], level: level, isRoot: parent == "",
		byName: map[string]int{}, fields: map[string]*field{},
		idCol: -1, loadCol: -1, parentCol: -1, idxCol: -1, rootCol: -1,
		idPrefix: idPrefix(n.loadID, n.spec.Resource, name), gen: n.layout.gen,
	}
	for _, c := range []string{schema.ColLoadID, schema.ColID, schema.ColParentID, schema.ColListIdx, schema.ColRootID} {
		n.namer.Reserve(name, c)
	}
	ts.reindex()
	n.tables[name] = ts
	if ts.isRoot {
		if err := n.hintColumns(ts); err != nil {
			return nil, false, err
		}
	}
	return ts, true, nil
}

// idPrefix is the 8 lower-case base-32 characters of a hash of the load,
// resource and table that start the table's row ids in this load.
func idPrefix(loadID, resource, table string) string {
	sum := sha256.Sum256([]byte(loadID + "\x00" + resource + "\x00" + table))
	return strings.ToLower(base32.StdEncoding.EncodeToString(sum[:]))[:8]
}

// reindex catches up with columns appended to the table since the last
// look, by this Normalizer or another sharing the schema.
func (ts *tableState) reindex() {
	for i := ts.ncols; i < len(ts.t.Columns); i++ {
		c := ts.t.Columns[i]
		ts.byName[c.Name] = i
		switch c.Name {
		case schema.ColID:
			ts.idCol = i
		case schema.ColLoadID:
			ts.loadCol = i
		case schema.ColParentID:
			ts.parentCol = i
		case schema.ColListIdx:
			ts.idxCol = i
		case schema.ColRootID:
			ts.rootCol = i
		}
	}
	ts.ncols = len(ts.t.Columns)
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
	if ts.idCol < 0 {
		n.addSystemColumns(ts)
	}
	if len(rb.vals) < len(ts.t.Columns) {
		rb.vals = append(rb.vals, make([]any, len(ts.t.Columns)-len(rb.vals))...)
	}
	for _, i := range ts.notNull {
		if rb.vals[i] == nil {
			return &NullError{Resource: n.spec.Resource, Record: n.record, Key: n.recordKey(), Table: ts.t.Name, Column: ts.t.Columns[i].Name}
		}
	}
	ts.seq++
	var id any = ts.rowID()
	rb.vals[ts.idCol] = id
	if ts.isRoot {
		rb.vals[ts.loadCol] = n.loadIDv
		l.rootID = id
	} else {
		rb.vals[ts.parentCol] = l.parentID
		rb.vals[ts.idxCol] = int64(l.idx)
		rb.vals[ts.rootCol] = l.rootID
	}
	if err := emit(ts.t, rb.vals); err != nil {
		return err
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
		if name, _ := n.namer.Name(ts.t.Name, strings.Join(f.path, "."), f.name); name != f.name {
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
				drop, skip, err := n.decide(ts, n.spec.Contract.Columns, &ContractError{Entity: "columns", Table: ts.t.Name, Column: f.name})
				if err != nil || drop {
					return false, err
				}
				add.skip = skip
				out, fits := n.convert(hinted, p.v, colType)
				if fits || skip {
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
		drop, skip, err := n.decide(ts, n.spec.Contract.DataType, &ContractError{Entity: "data_type", Table: ts.t.Name, Column: f.name, Type: vtyp, ColumnType: colType})
		if err != nil || drop {
			return false, err
		}
		add.skip = skip
		adds = append(adds, add)
	}
	rb.pending = rb.pending[:0]
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
	source := strings.Join(f.path, ".")
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

// isKey reports whether field f of the root table is a primary_key or
// merge_key column.
func (n *Normalizer) isKey(f *field) bool {
	cand := schema.ColumnPath(f.path...)
	_, pk := n.pkCols[cand]
	return pk || n.mergeCols[cand]
}

// keyValue returns v, the value of key field f of root table ts whose
// type vtyp its column's type does not take as is, as a value of that
// column: converted when nothing is lost (a numeric string into a bigint
// key, a number into a text key). Otherwise the column becomes text when
// it is fresh (nothing of it was loaded yet, no hint fixed its type) and
// every key of the table is its text, as the destination loads the values
// already written; else the record fails with a *KeyTypeError. dlt sends
// such a key to a variant column and leaves the key column NULL, which
// fails its NOT NULL at load (or, where nothing checks, makes merge append
// the record again on every run).
func (n *Normalizer) keyValue(ts *tableState, f *field, v any, vtyp schema.DataType) (any, error) {
	c := ts.t.Columns[f.col]
	f.typ = c.Type // another Normalizer of the layout may have made it text
	if out, ok := schema.Convert(v, c.Type); ok {
		return out, nil
	}
	if n.layout.fresh[c] && !f.hinted {
		if out, ok := schema.Convert(v, schema.Text); ok {
			n.warnings = append(n.warnings, fmt.Sprintf("table %q: key column %q had %s values and then a %s one: it is text, so every key keeps one type", ts.t.Name, c.Name, c.Type, vtyp))
			c.Type, f.typ = schema.Text, schema.Text
			return out, nil
		}
	}
	return nil, n.keyTypeError(ts, c.Name, c.Type, vtyp, f.hinted)
}

func (n *Normalizer) keyTypeError(ts *tableState, col string, typ, vtyp schema.DataType, hinted bool) error {
	return &KeyTypeError{Resource: n.spec.Resource, Record: n.record, Key: n.recordKey(), Table: ts.t.Name,
		Column: col, Type: typ, ValueType: vtyp, Hinted: hinted}
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

// decide applies contract mode to a change of a table that existed before
// this Normalizer; tables it created evolve freely. It returns drop when
// the row is discarded, skip when only the value is.
func (n *Normalizer) decide(ts *tableState, mode Mode, cerr *ContractError) (drop, skip bool, err error) {
	if ts.isNew {
		return false, false, nil
	}
	switch mode {
	case Freeze:
		cerr.Resource, cerr.Record, cerr.Key = n.spec.Resource, n.record, n.recordKey()
		return true, false, cerr
	case DiscardRow:
		n.counts.DiscardedRows++
		return true, false, nil
	case DiscardValue:
		return false, true, nil
	}
	return false, false, nil
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
		c.Precision, c.Scale = h.Precision, h.Scale
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
	if !ts.isNew {
		switch n.spec.Contract.Columns {
		case Freeze:
			return &ContractError{Resource: n.spec.Resource, Record: n.record, Key: n.recordKey(), Entity: "columns", Table: ts.t.Name, Column: f.name}
		case DiscardRow, DiscardValue:
			return nil
		}
	}
	c := &schema.Column{Name: f.name, Type: typ, Nullable: true, Source: schema.ColumnSource(f.name, f.path...)}
	n.decorate(ts, f, c)
	f.col, f.typ = len(ts.t.Columns), typ
	ts.t.AddColumn(c)
	n.layout.fresh[c] = true
	ts.reindex()
	return nil
}

func (n *Normalizer) addSystemColumns(ts *tableState) {
	var cols []*schema.Column
	if ts.isRoot {
		cols = []*schema.Column{
			{Name: schema.ColLoadID, Type: schema.Text, System: true},
			{Name: schema.ColID, Type: schema.Text, System: true},
		}
	} else {
		cols = []*schema.Column{
			{Name: schema.ColRootID, Type: schema.Text, System: true},
			{Name: schema.ColParentID, Type: schema.Text, System: true},
			{Name: schema.ColListIdx, Type: schema.BigInt, System: true},
			{Name: schema.ColID, Type: schema.Text, System: true},
		}
	}
	for _, c := range cols {
		if _, ok := ts.byName[c.Name]; !ok {
			ts.t.AddColumn(c)
		}
	}
	ts.reindex()
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

// idLen is the length of a row id; idBlock is how many ids are made at
// once.
const (
	idLen   = 18
	idBlock = 64
)

// rowID returns the id of the table's latest row, a substring of a block
// of ids made together.
func (ts *tableState) rowID() string {
	if ts.seq < ts.idsFrom || ts.seq >= ts.idsFrom+uint64(len(ts.ids)/idLen) {
		var b [idLen * idBlock]byte
		for k := range idBlock {
			id := b[k*idLen : (k+1)*idLen]
			copy(id[:8], ts.idPrefix)
			seq := ts.seq + uint64(k)
			for i := idLen - 1; i >= 8; i-- {
				id[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[seq%36]
				seq /= 36
			}
		}
		ts.ids, ts.idsFrom = string(b[:]), ts.seq
	}
	i := int(ts.seq-ts.idsFrom) * idLen
	return ts.ids[i : i+idLen]
}
