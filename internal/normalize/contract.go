package normalize

import "fmt"

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

// mode returns the contract's mode for a change of entity ("tables",
// "columns" or "data_type").
func (c Contract) mode(entity string) Mode {
	switch entity {
	case "tables":
		return c.Tables
	case "columns":
		return c.Columns
	}
	return c.DataType
}

// verdict is what a schema contract makes of a change.
type verdict int

const (
	// accept: make the table or column.
	accept verdict = iota
	// dropRow: leave the row out (discard_row; for a new table, either
	// discard mode: it has no row to keep a value in).
	dropRow
	// dropValue: leave the value out and keep the rest of the row.
	dropValue
)

// decide is the one place a schema contract is applied. change is the
// table, column or variant column a record needs; ts is the table that
// would get the column, nil when change is a new table. A column of a
// table created in this run is accepted whatever the contract, as in dlt:
// nothing of the table was loaded yet. Under freeze the change is returned
// as the error, for Normalize to place.
func (n *Normalizer) decide(ts *tableState, change *ContractError) (verdict, error) {
	if ts != nil && ts.isNew {
		return accept, nil
	}
	switch n.spec.Contract.mode(change.Entity) {
	case Freeze:
		return dropRow, change
	case DiscardRow:
		return dropRow, nil
	case DiscardValue:
		if ts == nil {
			return dropRow, nil
		}
		return dropValue, nil
	}
	return accept, nil
}
