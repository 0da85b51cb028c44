package normalize

import (
	"fmt"
	"maps"
	"slices"
	"sort"

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
	// versions holds the row hashes of the root rows emitted (Spec.Scd2).
	versions map[string]struct{}
	counts   Counts
	warnings []string
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
	if sc := spec.Scd2; sc != nil {
		hints := maps.Clone(spec.Hints)
		if hints == nil {
			hints = map[string]schema.Hint{}
		}
		for _, c := range []string{sc.ValidFrom, sc.ValidTo} {
			hints[c] = schema.Hint{DataType: schema.Timestamp}
		}
		n.spec.Hints = hints
		n.versions = map[string]struct{}{}
	}
	for k, h := range n.spec.Hints {
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
// not reused). An error from emit is returned as is. The other errors
// are a RecordError that says the resource and record and wraps a
// *MissingKeyError, *ContractError, *NullError or *KeyTypeError, with its
// Place filled in; after one, the record's rows emitted so far should be
// discarded with the load.
func (n *Normalizer) Normalize(record map[string]any, emit func(t *schema.Table, row []any) error) error {
	// The namer is the layout's: keep the warnings about this resource's
	// names as this resource's.
	w := n.namer.NumWarnings()
	err := n.normalize(record, emit)
	if n.namer.NumWarnings() > w {
		n.nameWarnings = append(n.nameWarnings, n.namer.WarningsSince(w)...)
	}
	if e, ok := err.(emitError); ok {
		return e.err
	}
	if re, ok := err.(interface {
		RecordError
		at() *Place
	}); ok {
		*re.at() = Place{Resource: n.spec.Resource, Record: n.record, Key: n.recordKey()}
		return placed{re}
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
