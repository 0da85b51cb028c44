package normalize

import (
	"time"

	"github.com/restload/restload/internal/schema"
)

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
	// References are the root table's references (dlt's `references`
	// hint); they replace any the table had.
	References []schema.Reference
	// MaxNesting is max_table_nesting: objects and lists nested deeper than
	// this many levels are stored as JSON. Nil means DefaultMaxNesting; 0
	// stores every object and list of a record as JSON.
	MaxNesting *int
	// MaxColumns bounds the columns of each table the resource writes
	// (system and variant columns included): a record that would add one
	// more fails with a *ColumnLimitError. 0 means no bound.
	MaxColumns int
	// MaxTables bounds the tables the resource writes (its root table and
	// child tables): a record that would make it write one more fails with
	// a *TableLimitError. 0 means no bound.
	MaxTables int
	// Contract is the resource's schema contract.
	Contract Contract
	// Scd2, when set, makes the root rows versions (see Scd2).
	Scd2 *Scd2
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

// DefaultMaxNesting is the nesting limit when max_table_nesting is unset:
// objects and lists deeper than this many levels stay JSON in a column, as
// beyond max_table_nesting. Flattening costs time in the square of the
// depth (each level's column and table names hold the whole path), so a
// record nested thousands of levels deep by a hostile or broken API would
// take seconds and hundreds of MB; no real API nests near 64 levels, and
// names that deep are cut to 63 bytes around a hash anyway.
const DefaultMaxNesting = 64

// Scd2 makes a resource's root rows versions, for the scd2 merge strategy:
// each row's _dlt_id is a hash of its content (its non-system columns
// with a value), each child row's a hash of its parent's id, table and
// list position, so a record loaded again unchanged gets the same ids; a
// record repeated within a load is kept once; and the validity columns,
// made timestamps, get From and To.
type Scd2 struct {
	// ValidFrom and ValidTo name the validity columns.
	ValidFrom, ValidTo string
	// From is the valid-from of this load's rows (the boundary timestamp);
	// To the valid-to of an active row, nil for NULL.
	From time.Time
	To   *time.Time
}
