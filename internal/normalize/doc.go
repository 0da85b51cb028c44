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
//
// The package owns the record walk and what it decides on the way, one
// idea per file:
//
//	normalize.go  Normalizer: its construction from a Spec, Normalize, counts
//	spec.go       Spec and Counts: what the caller gives and gets back
//	layout.go     Layout: the tables and column names resources share in a run
//	walk.go       the record walk (dlt's relational.py): rows, flattening,
//	              child tables, lists of scalars, the nesting limit
//	columns.go    column evolution (dlt's coerce): naming, types, hints,
//	              variant columns, renames of fresh columns
//	table.go      table state: system columns and row ids
//	keys.go       primary and merge keys: missing keys and what looks like
//	              one, key values that change type
//	contract.go   schema contracts: the one decision on a new table,
//	              column or variant
//	errors.go     the errors of a record, and where it was (Place)
//
// Its errors say what is wrong with a record (table, column, key);
// Normalize wraps them with the resource and the record's position, and a
// caller that knows the page unwraps them and says that instead (see
// RecordError).
package normalize
