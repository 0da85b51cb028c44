// Package schema describes the tables restload loads into: their columns,
// types, keys and parent links, and how a schema changes from one load to the
// next (Diff), and the one way two schemas are combined (Union). It owns the
// data_type names a column hint may use (ParseDataType; config's check asks
// it too). Everything here is pure: no I/O, safe to test without a database.
package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
)

// DataType is a destination-neutral column type. Each destination maps it to
// its own SQL or file type.
type DataType string

// The data types restload infers or accepts as hints.
const (
	BigInt    DataType = "bigint"
	Double    DataType = "double"
	Decimal   DataType = "decimal"
	Bool      DataType = "bool"
	Text      DataType = "text"
	Timestamp DataType = "timestamp"
	Date      DataType = "date"
	JSON      DataType = "json"
	// Time is a time of day without a date or zone; Binary is bytes. A
	// column gets them from a data_type hint only, never by inference.
	Time   DataType = "time"
	Binary DataType = "binary"
)

// System column names, the layout dlt users know.
const (
	ColLoadID   = "_dlt_load_id"
	ColID       = "_dlt_id"
	ColParentID = "_dlt_parent_id"
	ColListIdx  = "_dlt_list_idx"
	ColRootID   = "_dlt_root_id"
	ColValue    = "value"
)

// Write dispositions.
const (
	Append  = "append"
	Replace = "replace"
	Merge   = "merge"
)

// Column is one column of a table.
type Column struct {
	Name       string   `json:"name"`
	Type       DataType `json:"data_type"`
	Nullable   bool     `json:"nullable"`
	PrimaryKey bool     `json:"primary_key,omitempty"`
	// Variant is set on a column that holds values whose type conflicted
	// with the column named in VariantOf (size_bytes__v_text).
	VariantOf string `json:"variant_of,omitempty"`
	// Precision and Scale are dlt's hints of the same names: a decimal's
	// digits and fractional digits, a bigint's bits (16 makes a smallint in
	// PostgreSQL), a timestamp's or time's fractional-second digits, a
	// text's length. Nil leaves the destination's default, as in dlt.
	Precision *int `json:"precision,omitempty"`
	Scale     *int `json:"scale,omitempty"`
	// Timezone false makes a timestamp column "without time zone", as
	// dlt's timezone hint does; nil (the default) and true keep the zone.
	Timezone *bool `json:"timezone,omitempty"`
	// Unique is dlt's unique hint. PostgreSQL makes it a UNIQUE constraint,
	// as dlt's postgres destination does (create_indexes); every table's
	// _dlt_id carries it.
	Unique bool `json:"unique,omitempty"`
	// System marks the _dlt_* columns restload adds.
	System bool `json:"system,omitempty"`
	// MergeKey marks the columns of a resource's merge_key.
	MergeKey bool `json:"merge_key,omitempty"`
	// Source is the source field path (segments joined with ".") the
	// column was named from. It is recorded only when the name had to be
	// changed to avoid a collision, so a later run gives that source the
	// same name again (see Namer).
	Source string `json:"source,omitempty"`
}

// Table is one table: a resource's root table or a child table holding one
// of its lists.
type Table struct {
	Name string `json:"name"`
	// Parent is the parent table's name for a child table, "" for a root.
	Parent string `json:"parent,omitempty"`
	// Resource is the resource the table's rows come from.
	Resource         string    `json:"resource"`
	WriteDisposition string    `json:"write_disposition"`
	Columns          []*Column `json:"columns"`
	// Source is the parent table and list path ("files.permissions") a
	// child table was named from, recorded only when the name had to be
	// changed to avoid a collision (see Namer).
	Source string `json:"source,omitempty"`
	// References are the resource's `references` hint: links from columns
	// of this table to another table's, kept in the schema as dlt keeps
	// them (no destination makes a foreign key of them).
	References []Reference `json:"references,omitempty"`
	// Merge is how a merge resource's rows are merged, set by the loader on
	// the tables it writes and merges (root and children); never stored.
	Merge *MergeSpec `json:"-"`
}

// Reference is one entry of dlt's `references` table hint: Columns of the
// table refer to ReferencedColumns of ReferencedTable, in order.
type Reference struct {
	Columns           []string `json:"columns"`
	ReferencedTable   string   `json:"referenced_table"`
	ReferencedColumns []string `json:"referenced_columns"`
	Label             string   `json:"label,omitempty"`
	Cardinality       string   `json:"cardinality,omitempty"`
}

// IntOf is *p, or def when p is nil.
func IntOf(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// Column returns the column named name, or nil.
func (t *Table) Column(name string) *Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// PrimaryKey returns the names of the table's primary key columns in order.
func (t *Table) PrimaryKey() []string {
	var pk []string
	for _, c := range t.Columns {
		if c.PrimaryKey {
			pk = append(pk, c.Name)
		}
	}
	return pk
}

// Clone returns a deep copy of t.
func (t *Table) Clone() *Table {
	c := *t
	c.References = slices.Clone(t.References)
	c.Columns = make([]*Column, len(t.Columns))
	for i, col := range t.Columns {
		cc := *col
		c.Columns[i] = &cc
	}
	return &c
}

// Schema is the set of tables of one dataset, versioned.
type Schema struct {
	Name    string   `json:"name"`
	Version int      `json:"version"`
	Tables  []*Table `json:"tables"`
}

// Table returns the table named name, or nil.
func (s *Schema) Table(name string) *Table {
	if s == nil {
		return nil
	}
	for _, t := range s.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Clone returns a deep copy of s.
func (s *Schema) Clone() *Schema {
	if s == nil {
		return nil
	}
	c := &Schema{Name: s.Name, Version: s.Version, Tables: make([]*Table, len(s.Tables))}
	for i, t := range s.Tables {
		c.Tables[i] = t.Clone()
	}
	return c
}

// Children returns the tables whose ancestor chain leads to root, in the
// order they appear in the schema (parents before children).
func (s *Schema) Children(root string) []*Table {
	var out []*Table
	in := map[string]bool{root: true}
	for _, t := range s.Tables {
		if t.Parent != "" && in[t.Parent] {
			in[t.Name] = true
			out = append(out, t)
		}
	}
	return out
}

// ChangeKind says what a Change does.
type ChangeKind string

// The kinds of schema change.
const (
	AddTable  ChangeKind = "add_table"
	AddColumn ChangeKind = "add_column"
)

// Change is one step from an old schema to a new one. For AddTable, Table
// holds the whole new table; for AddColumn, Table names the table (with its
// columns as of the new schema) and Column is the added column.
type Change struct {
	Kind   ChangeKind `json:"kind"`
	Table  *Table     `json:"table"`
	Column *Column    `json:"column,omitempty"`
}

// Diff returns the changes that turn old into new: tables that new has and
// old lacks, then columns added to tables both have, in new's order.
// Columns and tables are never dropped or retyped: a conflicting type goes
// to a variant column instead.
func Diff(old, new *Schema) []Change {
	var out []Change
	for _, nt := range new.Tables {
		ot := old.Table(nt.Name)
		if ot == nil {
			out = append(out, Change{Kind: AddTable, Table: nt})
			continue
		}
		for _, c := range nt.Columns {
			if ot.Column(c.Name) == nil {
				out = append(out, Change{Kind: AddColumn, Table: nt, Column: c})
			}
		}
	}
	return out
}

// AddColumn appends c to t's columns. Columns are only ever appended, so
// rows written before keep their positions.
func (t *Table) AddColumn(c *Column) {
	t.Columns = append(t.Columns, c)
}

// AddTable appends t to s's tables.
func (s *Schema) AddTable(t *Table) {
	s.Tables = append(s.Tables, t)
}

// Hash returns a stable hash of the schema's content (its name and tables,
// in order, with every column property) as 64 hex digits. Version is left
// out, so a caller bumps Version when Hash changes.
func (s *Schema) Hash() string {
	content := struct {
		Name   string   `json:"name"`
		Tables []*Table `json:"tables"`
	}{s.Name, s.Tables}
	b, err := json.Marshal(content)
	if err != nil {
		// Only plain strings, ints and bools: Marshal cannot fail.
		panic(fmt.Sprintf("schema: hash: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// MarshalJSON is the JSON form of s, the one FromJSON reads back.
func (s *Schema) MarshalJSON() ([]byte, error) {
	type plain Schema
	p := (*plain)(s)
	if p.Tables == nil {
		c := *p
		c.Tables = []*Table{}
		p = &c
	}
	return json.Marshal(p)
}

// FromJSON decodes a schema written by MarshalJSON and checks it: table and
// column names are set and unique, data types are known, and every child
// table's parent comes before it. It is the one way a stored schema is read
// back (a load package's, by spool; a stored version's, by load): what was
// written may have been damaged since.
func FromJSON(data []byte) (*Schema, error) {
	var s Schema
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate reports the first structural problem of s: a table or column
// without a name, a duplicate name, an unknown data type, or a child table
// whose parent is missing or comes after it.
func (s *Schema) Validate() error {
	seen := map[string]bool{}
	for i, t := range s.Tables {
		if t == nil || t.Name == "" {
			return fmt.Errorf("schema %q: table %d has no name", s.Name, i)
		}
		if seen[t.Name] {
			return fmt.Errorf("schema %q: table %q appears twice", s.Name, t.Name)
		}
		if t.Parent != "" && !seen[t.Parent] {
			return fmt.Errorf("schema %q: table %q: parent %q is missing or comes after it", s.Name, t.Name, t.Parent)
		}
		seen[t.Name] = true
		cols := map[string]bool{}
		for j, c := range t.Columns {
			if c == nil || c.Name == "" {
				return fmt.Errorf("schema %q: table %q: column %d has no name", s.Name, t.Name, j)
			}
			if cols[c.Name] {
				return fmt.Errorf("schema %q: table %q: column %q appears twice", s.Name, t.Name, c.Name)
			}
			cols[c.Name] = true
			if _, err := ParseDataType(string(c.Type)); err != nil {
				return fmt.Errorf("schema %q: table %q: column %q: %w", s.Name, t.Name, c.Name, err)
			}
		}
	}
	return nil
}
