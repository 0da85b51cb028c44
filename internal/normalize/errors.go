package normalize

import (
	"fmt"
	"strings"

	"github.com/restload/restload/internal/schema"
)

// Place is where a record's error happened. The errors of this package say
// only what is wrong with the record (its table, column and key); Normalize
// fills in their Place and returns them wrapped in a message that says the
// resource and record, and a caller that knows more (the page) unwraps that
// and says the place its own way (see RecordError).
type Place struct {
	// Resource is the resource's name.
	Resource string
	// Record is the record's 1-based position among those the Normalizer
	// was given.
	Record int64
	// Key describes the record's primary key (`id "f-3"`, or `org 1, id 7`
	// for a composite key); "" without one, or when the record lacks it.
	Key string
}

// Where returns p.
func (p Place) Where() Place { return p }

// at lets Normalize fill in the place of an error made by this package.
func (p *Place) at() *Place { return p }

// RecordError is implemented by the errors Normalize returns for a record:
// the error it returns, which says `resource "files": record 7 (id 42): `
// and then the error, and that error itself (a *MissingKeyError,
// *ContractError, *NullError or *KeyTypeError), whose message names only
// the table, column and key. errors.Unwrap of what Normalize returns is
// the latter, for a caller that places the record itself:
//
//	var re normalize.RecordError
//	if errors.As(err, &re) {
//		err = fmt.Errorf("page %d: record %d%s: %w", page, i, normalize.KeySuffix(re.Where().Key), errors.Unwrap(re))
//	}
type RecordError interface {
	error
	Where() Place
}

var (
	_ RecordError = (*MissingKeyError)(nil)
	_ RecordError = (*ContractError)(nil)
	_ RecordError = (*NullError)(nil)
	_ RecordError = (*KeyTypeError)(nil)
	_ RecordError = (*ColumnLimitError)(nil)
	_ RecordError = (*TableLimitError)(nil)
	_ RecordError = placed{}
)

// placed is an error of this package said with its place: what Normalize
// returns.
type placed struct{ RecordError }

func (e placed) Error() string {
	p := e.Where()
	return fmt.Sprintf("resource %q: record %d%s: %v", p.Resource, p.Record, KeySuffix(p.Key), e.RecordError)
}

func (e placed) Unwrap() error { return e.RecordError }

// KeySuffix formats a record key for a message: ` (id 7)`, or "".
func KeySuffix(key string) string {
	if key == "" {
		return ""
	}
	return " (" + key + ")"
}

// MissingKeyError is returned for a record that lacks a primary key value
// (the field is missing or null).
type MissingKeyError struct {
	Place
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

// ContractError is returned when a record would change the schema in a way
// a frozen contract forbids.
type ContractError struct {
	Place
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
	prefix := "schema contract freezes " + e.Entity + ": "
	switch e.Entity {
	case "tables":
		return prefix + fmt.Sprintf("new table %q", e.Table)
	case "columns":
		return prefix + fmt.Sprintf("new column %q in table %q", e.Column, e.Table)
	}
	return prefix + fmt.Sprintf("a %s value does not fit column %q (%s) in table %q", e.Type, e.Column, e.ColumnType, e.Table)
}

// NullError is returned for a record with a null value in a column hinted
// not nullable.
type NullError struct {
	Place
	Table  string
	Column string
}

func (e *NullError) Error() string {
	return fmt.Sprintf("column %q of table %q is not nullable but has no value", e.Column, e.Table)
}

// KeyTypeError is returned for a record whose primary_key or merge_key
// value does not fit its key column's type, when that column cannot become
// text any more (it was loaded, or a hint fixed its type). A key is never
// sent to a variant column: the key column would be NULL and merge would
// append the record again on every run.
type KeyTypeError struct {
	Place
	Table     string
	Column    string
	Type      schema.DataType // the column's
	ValueType schema.DataType // the value's
	// Hinted is set when a data_type hint fixed the column's type.
	Hinted bool
}

func (e *KeyTypeError) Error() string {
	why := "it was created so by an earlier load"
	if e.Hinted {
		why = "its data_type hint says so"
	}
	return fmt.Sprintf("key column %q of table %q is %s (%s) but this record's key is %s: a key keeps one type, so nothing of the resource is loaded; hint the column data_type: text in a new dataset, or fix the API's data", e.Column, e.Table, e.Type, why, e.ValueType)
}

// ColumnLimitError is returned for a record that would give a table more
// columns than Spec.MaxColumns. Records whose keys are data rather than
// names (an object keyed by ids or dates) add columns without end; the
// bound turns that into an error before rows grow as wide as the table and
// the destination refuses it (PostgreSQL holds 1,600 columns).
type ColumnLimitError struct {
	Place
	Table  string
	Column string // the first column over the limit
	Limit  int
}

func (e *ColumnLimitError) Error() string {
	return fmt.Sprintf("table %q would get more than %d columns (the next: %q), the limit (limits.max_columns): "+
		"an object whose keys are ids or values makes a column per key; give its field data_type: json under columns, "+
		"lower max_table_nesting, or raise limits.max_columns", e.Table, e.Limit, e.Column)
}

// TableLimitError is returned for a record that would make its resource
// write more tables than Spec.MaxTables: lists under keys that are data
// (an object of lists keyed by ids) make a child table per key, and each
// table a resource writes holds a writer open until the load is sealed.
type TableLimitError struct {
	Place
	Table string // the first table over the limit
	Limit int
}

func (e *TableLimitError) Error() string {
	return fmt.Sprintf("the resource would write more than %d tables (the next: %q), the limit (limits.max_tables): "+
		"an object whose keys are ids or values makes a child table per list under it; give its field data_type: json "+
		"under columns, lower max_table_nesting, or raise limits.max_tables", e.Limit, e.Table)
}
