package normalize

import (
	"crypto/sha256"
	"encoding/base32"
	"slices"
	"strings"

	"github.com/restload/restload/internal/schema"
)

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

// table returns the state of the table name (a child of parent when parent
// is set), creating the table when the schema lacks it and the tables
// contract allows. ok=false means the contract discards its rows.
func (n *Normalizer) table(name, parent, source string, level int) (*tableState, bool, error) {
	if ts := n.tables[name]; ts != nil {
		return ts, true, nil
	}
	if max := n.spec.MaxTables; max > 0 && len(n.tables) >= max {
		return nil, false, &TableLimitError{Table: name, Limit: max}
	}
	t := n.s.Table(name)
	if t == nil {
		if v, err := n.decide(nil, &ContractError{Entity: "tables", Table: name}); err != nil || v != accept {
			return nil, false, err
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
		if len(n.spec.References) > 0 && !slices.EqualFunc(t.References, n.spec.References, sameReference) {
			t.References = slices.Clone(n.spec.References)
		}
		if err := n.hintColumns(ts); err != nil {
			return nil, false, err
		}
	}
	return ts, true, nil
}

func sameReference(a, b schema.Reference) bool {
	return slices.Equal(a.Columns, b.Columns) && a.ReferencedTable == b.ReferencedTable &&
		slices.Equal(a.ReferencedColumns, b.ReferencedColumns) && a.Label == b.Label && a.Cardinality == b.Cardinality
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

// addSystemColumns adds the _dlt_ columns ts lacks, in dlt's order and
// with dlt's hints (not nullable; _dlt_id unique). A child table gets
// _dlt_root_id only when its resource merges, as in dlt (the merge
// removes replaced rows' children by it); an append or replace resource's
// child tables have none.
func (n *Normalizer) addSystemColumns(ts *tableState) {
	var cols []*schema.Column
	// Under scd2 a root row's _dlt_id is its row hash, which a record that
	// comes back shares with its retired version: dlt drops the unique hint
	// there (extract/hints.py), and so does restload.
	unique := !(ts.isRoot && n.spec.Scd2 != nil)
	id := &schema.Column{Name: schema.ColID, Type: schema.Text, System: true, Unique: unique}
	if ts.isRoot {
		cols = []*schema.Column{{Name: schema.ColLoadID, Type: schema.Text, System: true}, id}
	} else {
		if n.needsRootID() {
			cols = append(cols, &schema.Column{Name: schema.ColRootID, Type: schema.Text, System: true})
		}
		cols = append(cols,
			&schema.Column{Name: schema.ColParentID, Type: schema.Text, System: true},
			&schema.Column{Name: schema.ColListIdx, Type: schema.BigInt, System: true},
			id)
	}
	for _, c := range cols {
		if _, ok := ts.byName[c.Name]; !ok {
			ts.t.AddColumn(c)
		}
	}
	ts.reindex()
}

// needsRootID says whether the resource's child tables carry
// _dlt_root_id: when it merges.
func (n *Normalizer) needsRootID() bool {
	return n.spec.WriteDisposition == schema.Merge
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
