package schema

// Merge strategies: how a merge write disposition folds a load's rows into
// its table (dlt's names).
const (
	DeleteInsert = "delete-insert"
	Upsert       = "upsert"
	InsertOnly   = "insert-only"
	Scd2         = "scd2"
)

// Default scd2 validity columns.
const (
	ColValidFrom = "_dlt_valid_from"
	ColValidTo   = "_dlt_valid_to"
)

// MergeSpec is how a merge resource's rows are merged: its strategy and
// the columns the strategy and the merge hints name. The loader sets it,
// from the run's config, on the root table it hands a destination (see
// Table.Merge); it is not part of the stored schema.
type MergeSpec struct {
	// Strategy is DeleteInsert (also for ""), Upsert, InsertOnly or Scd2.
	Strategy string `json:"strategy,omitempty"`
	// HardDelete names the column whose true (not a bool: non-null) value
	// deletes the row with the record's key instead of inserting it.
	HardDelete string `json:"hard_delete,omitempty"`
	// DedupSort names the column that picks, among a load's records with
	// one key, the one kept: the highest value (DedupDesc) or the lowest.
	// Without it the last record wins.
	DedupSort string `json:"dedup_sort,omitempty"`
	DedupDesc bool   `json:"dedup_desc,omitempty"`
	// ValidFrom and ValidTo are scd2's validity columns; RowVersion the
	// column that tells versions apart (default _dlt_id, the row hash);
	// ActiveTo says whether an active row's valid-to is a timestamp (the
	// staged rows') rather than NULL.
	ValidFrom  string `json:"valid_from,omitempty"`
	ValidTo    string `json:"valid_to,omitempty"`
	RowVersion string `json:"row_version,omitempty"`
	ActiveTo   bool   `json:"active_to,omitempty"`
}

// StrategyOf returns the merge strategy of root, DeleteInsert by default.
func StrategyOf(root *Table) string {
	if root.Merge == nil || root.Merge.Strategy == "" {
		return DeleteInsert
	}
	return root.Merge.Strategy
}

// StagesRows reports whether a merge of root stages its rows whole (and
// those of its children) rather than writing them into their tables: the
// strategies that keep rows already stored, insert-only and scd2.
func StagesRows(root *Table) bool {
	s := StrategyOf(root)
	return s == InsertOnly || s == Scd2
}
