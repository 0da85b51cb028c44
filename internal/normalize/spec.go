// Package normalize turns JSON records into rows of relational tables the
// way dlt lays them out: a resource's records become rows of its root table,
// nested objects are flattened into columns joined with "__"
// (owner.email -> owner__email), and lists become child tables
// (files__permissions) linked to their parent row by _dlt_parent_id,
// _dlt_list_idx and _dlt_root_id. Lists of scalars go to a "value" column.
//
// A Normalizer grows a schema.Schema as it meets new tables and columns,
// infers types from the first non-null value, and sends a value whose type
// conflicts with its column to a variant column (size_bytes__v_text),
// subject to the resource's schema contract. It is pure: no I/O.
//
// Two deliberate differences from dlt: a list nested directly in a list
// ([[1, 2], [3, 4]]) is stored as JSON in the child table's value column
// instead of a "__list" grandchild table that would lose the outer index;
// and row ids (_dlt_id) are deterministic and sortable (see Normalizer).
package normalize

import (
	"fmt"
	"strings"

	"github.com/restload/restload/internal/schema"
)

// Mode is a schema contract mode, dlt's names.
type Mode string

// The contract modes.
const (
	// Evolve accepts the change: new tables, new columns, variant columns.
	Evolve Mode = "evolve"
	// Freeze fails the record with a *ContractError.
	Freeze Mode = "freeze"
	// DiscardRow drops the row (and the rows nested under it).
	DiscardRow Mode = "discard_row"
	// DiscardValue drops the offending value and keeps the rest of the row.
	// For a new table it drops the rows that would go there, as DiscardRow.
	DiscardValue Mode = "discard_value"
)

// Contract is dlt's schema_contract for one resource. The empty Mode means
// Evolve.
//
// Tables applies when a table (the root table on a first run, or a child
// table) would be created. Columns applies when a new column would be added
// to a table that existed before this Normalizer started, and DataType when
// a variant column would be added to such a table; a table created during
// this run evolves freely until it has been loaded, as in dlt. A variant or
// column that already exists is never a change.
type Contract struct {
	Tables   Mode
	Columns  Mode
	DataType Mode
}

// Validate reports an unknown mode.
func (c Contract) Validate() error {
	for _, e := range []struct {
		entity string
		mode   Mode
	}{{"tables", c.Tables}, {"columns", c.Columns}, {"data_type", c.DataType}} {
		switch e.mode {
		case "", Evolve, Freeze, DiscardRow, DiscardValue:
		default:
			return fmt.Errorf("schema contract %s: unknown mode %q (want evolve, freeze, discard_row or discard_value)", e.entity, e.mode)
		}
	}
	return nil
}

// Spec is one resource's normalization settings, built by the caller from
// its config.
type Spec struct {
	// Resource is the resource's name, used in errors and on tables.
	Resource string
	// Table is the root table's name; it is normalized with
	// schema.NormalizeIdentifier. Empty means Resource.
	Table string
	// WriteDisposition is append (the default), replace or merge.
	WriteDisposition string
	// PrimaryKey names the source fields of the primary key ("id",
	// "connectionId"); composite keys list several. A dotted name
	// ("owner.id") reaches into a nested object. Every record must have a
	// non-null value for each.
	PrimaryKey []string
	// MergeKey names the source fields of the merge key; their columns get
	// Column.MergeKey.
	MergeKey []string
	// Hints override inference for root-table columns, keyed by source
	// field name (a dotted path for a nested field, or the column name).
	Hints map[string]schema.Hint
	// MaxNesting is max_table_nesting: objects and lists nested deeper than
	// this many levels are stored as JSON. Nil means DefaultMaxNesting; 0
	// stores every object and list of a record as JSON.
	MaxNesting *int
	// Contract is the resource's schema contract.
	Contract Contract
}

// Counts reports what a Normalizer did.
type Counts struct {
	// Records is the number of records given to Normalize.
	Records int64 `json:"records"`
	// Rows is the number of rows emitted, by table.
	Rows map[string]int64 `json:"rows"`
	// DiscardedRows counts rows dropped by a discard_row contract or a
	// discarded new table; DiscardedValues counts values dropped by
	// discard_value.
	DiscardedRows   int64 `json:"discarded_rows"`
	DiscardedValues int64 `json:"discarded_values"`
	// Variants counts variant columns created; VariantValues counts the
	// values stored in variant columns (new or existing) in emitted rows.
	Variants      int64 `json:"variants"`
	VariantValues int64 `json:"variant_values"`
}

// MissingKeyError is returned for a record that lacks a primary key value
// (the field is missing or null).
type MissingKeyError struct {
	Resource string
	// Record is the record's 1-based position among those this Normalizer
	// was given.
	Record int64
	// Keys are the primary key fields that are missing.
	Keys []string
	// LookLikeKeys are the record's fields whose names look like keys
	// ("id", or ending in Id, ID or _id), to hint at a misconfigured key;
	// Suggest, when set, is the one named after the resource (datasetId
	// for datasets), listed first.
	LookLikeKeys []string
	Suggest      string
}

func (e *MissingKeyError) Error() string {
	return fmt.Sprintf("resource %q: record %d: %s", e.Resource, e.Record, e.Detail())
}

// Detail is the message without the resource and record, for a caller
// that places the record itself (see RecordError).
func (e *MissingKeyError) Detail() string {
	q := make([]string, len(e.Keys))
	for i, k := range e.Keys {
		q[i] = fmt.Sprintf("%q", k)
	}
	msg := "no primary key " + strings.Join(q, ", ")
	if len(e.LookLikeKeys) > 0 {
		msg += "; fields that look like keys: " + strings.Join(e.LookLikeKeys, ", ")
		if e.Suggest != "" {
			msg += fmt.Sprintf(" (did you mean primary_key: %s?)", e.Suggest)
		}
	} else {
		msg += "; no field looks like a key"
	}
	return msg
}

// RecordKey is "": a record without its key has none to show.
func (e *MissingKeyError) RecordKey() string { return "" }

// ContractError is returned when a record would change the schema in a way
// a frozen contract forbids.
type ContractError struct {
	Resource string
	Record   int64
	// Key describes the record's primary key (`id "f-3"`), "" without one.
	Key string
	// Entity is "tables", "columns" or "data_type".
	Entity string
	Table  string
	// Column is the column that would be added (for data_type, the column
	// whose type the value does not fit); empty for tables.
	Column string
	// Type is the type of the value that did not fit (data_type only).
	Type schema.DataType
	// ColumnType is the column's type (data_type only).
	ColumnType schema.DataType
}

func (e *ContractError) Error() string {
	return fmt.Sprintf("resource %q: record %d%s: %s", e.Resource, e.Record, keySuffix(e.Key), e.Detail())
}

// Detail is the message without the resource and record.
func (e *ContractError) Detail() string {
	prefix := "schema contract freezes " + e.Entity + ": "
	switch e.Entity {
	case "tables":
		return prefix + fmt.Sprintf("new table %q", e.Table)
	case "columns":
		return prefix + fmt.Sprintf("new column %q in table %q", e.Column, e.Table)
	}
	return prefix + fmt.Sprintf("a %s value does not fit column %q (%s) in table %q", e.Type, e.Column, e.ColumnType, e.Table)
}

// RecordKey describes the record's primary key, "" without one.
func (e *ContractError) RecordKey() string { return e.Key }

// NullError is returned for a record with a null value in a column hinted
// not nullable.
type NullError struct {
	Resource string
	Record   int64
	// Key describes the record's primary key, "" without one.
	Key    string
	Table  string
	Column string
}

func (e *NullError) Error() string {
	return fmt.Sprintf("resource %q: record %d%s: %s", e.Resource, e.Record, keySuffix(e.Key), e.Detail())
}

// Detail is the message without the resource and record.
func (e *NullError) Detail() string {
	return fmt.Sprintf("column %q of table %q is not nullable but has no value", e.Column, e.Table)
}

// RecordKey describes the record's primary key, "" without one.
func (e *NullError) RecordKey() string { return e.Key }

// KeyTypeError is returned for a record whose primary_key or merge_key
// value does not fit its key column's type, when that column cannot become
// text any more (it was loaded, or a hint fixed its type). A key is never
// sent to a variant column: the key column would be NULL and merge would
// append the record again on every run.
type KeyTypeError struct {
	Resource string
	Record   int64
	// Key describes the record's primary key, "" without one.
	Key       string
	Table     string
	Column    string
	Type      schema.DataType // the column's
	ValueType schema.DataType // the value's
	// Hinted is set when a data_type hint fixed the column's type.
	Hinted bool
}

func (e *KeyTypeError) Error() string {
	return fmt.Sprintf("resource %q: record %d%s: %s", e.Resource, e.Record, keySuffix(e.Key), e.Detail())
}

// Detail is the message without the resource and record.
func (e *KeyTypeError) Detail() string {
	why := "it was created so by an earlier load"
	if e.Hinted {
		why = "its data_type hint says so"
	}
	return fmt.Sprintf("key column %q of table %q is %s (%s) but this record's key is %s: a key keeps one type, so nothing of the resource is loaded; hint the column data_type: text in a new dataset, or fix the API's data", e.Column, e.Table, e.Type, why, e.ValueType)
}

// RecordKey describes the record's primary key, "" without one.
func (e *KeyTypeError) RecordKey() string { return e.Key }

// DefaultMaxNesting is the nesting limit when max_table_nesting is unset:
// objects and lists deeper than this many levels stay JSON in a column, as
// beyond max_table_nesting. Flattening costs time in the square of the
// depth (each level's column and table names hold the whole path), so a
// record nested thousands of levels deep by a hostile or broken API would
// take seconds and hundreds of MB; no real API nests near 64 levels, and
// names that deep are cut to 63 bytes around a hash anyway.
const DefaultMaxNesting = 64

// RecordError is implemented by the errors Normalize returns for a record
// (*MissingKeyError, *ContractError, *NullError, *KeyTypeError), so a caller that knows
// where the record came from (a page) can say so without repeating the
// resource: Detail is the message without resource and record, RecordKey
// the record's primary key ("" when unknown).
type RecordError interface {
	error
	Detail() string
	RecordKey() string
}

var (
	_ RecordError = (*MissingKeyError)(nil)
	_ RecordError = (*ContractError)(nil)
	_ RecordError = (*NullError)(nil)
	_ RecordError = (*KeyTypeError)(nil)
)

// KeySuffix formats a record key for a message: ` (id 7)`, or "".
func KeySuffix(key string) string { return keySuffix(key) }

func keySuffix(key string) string {
	if key == "" {
		return ""
	}
	return " (" + key + ")"
}

// namesResource says whether the key-like field name is the resource's
// own id: datasetId, dataset_id or DatasetID for datasets (or dataset).
func namesResource(field, resource string) bool {
	f := strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(field))
	r := strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(resource))
	for _, suffix := range []string{"id", "uuid", "key"} {
		if stem, ok := strings.CutSuffix(f, suffix); ok && stem != "" {
			return stem == r || stem+"s" == r || stem+"es" == r || strings.TrimSuffix(stem, "y")+"ies" == r
		}
	}
	return false
}

// looksLikeKey says whether a field name looks like an identifier field.
func looksLikeKey(name string) bool {
	l := strings.ToLower(name)
	return l == "id" || l == "uuid" || l == "key" ||
		strings.HasSuffix(name, "Id") || strings.HasSuffix(name, "ID") ||
		strings.HasSuffix(l, "_id") || strings.HasSuffix(l, "-id") || strings.HasSuffix(l, "uuid")
}
