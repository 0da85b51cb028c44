package config

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// The merge strategies (dlt's TLoaderMergeStrategy and insert-only).
var mergeStrategy = []string{"delete-insert", "upsert", "scd2", "insert-only"}

// dedupSorts are the values of a dedup_sort column hint.
var dedupSorts = []string{"desc", "asc"}

// timestampLayouts are the forms ParseTimestamp reads.
var timestampLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02"}

// ParseTimestamp reads an scd2 timestamp (active_record_timestamp,
// boundary_timestamp): a date or an ISO 8601 date-time, in UTC when it
// names no offset, as dlt reads a naive one.
func ParseTimestamp(s string) (time.Time, error) {
	for _, l := range timestampLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("want a date or date-time such as 2024-01-31 or 2024-01-31T12:00:00Z, got %q", s)
}

// strategy checks the strategy keys of write disposition wd, written at wp.
func (v *validator) strategy(wd *WriteDisposition, wp string) {
	switch {
	case wd.Strategy == "":
	case wd.Disposition != "merge" && wd.Disposition != "":
		v.errorf(wp+".strategy", "a strategy applies only to the merge disposition")
	case !slices.Contains(mergeStrategy, wd.Strategy):
		v.unknownValue(wp+".strategy", "merge strategy", wd.Strategy, mergeStrategy)
	}
	scd2 := map[string]bool{
		"validity_column_names":   wd.ValidityColumnNames != nil,
		"active_record_timestamp": wd.ActiveRecordTimestamp != "",
		"boundary_timestamp":      wd.BoundaryTimestamp != "",
		"row_version_column_name": wd.RowVersionColumnName != "",
	}
	for _, k := range slices.Sorted(maps.Keys(scd2)) {
		if scd2[k] && wd.Strategy != "scd2" {
			v.errorf(wp+"."+k, "applies only to the scd2 merge strategy")
		}
	}
	if wd.Strategy != "scd2" {
		return
	}
	if names := wd.ValidityColumnNames; names != nil {
		switch {
		case len(names) != 2:
			v.errorf(wp+".validity_column_names", "want two column names, [valid from, valid to], got %d", len(names))
		case names[0] == "" || names[1] == "":
			v.errorf(wp+".validity_column_names", "column names must not be empty")
		case names[0] == names[1]:
			v.errorf(wp+".validity_column_names", "valid from and valid to must be different columns")
		}
	}
	for k, s := range map[string]string{"active_record_timestamp": wd.ActiveRecordTimestamp, "boundary_timestamp": wd.BoundaryTimestamp} {
		if s == "" {
			continue
		}
		if _, err := ParseTimestamp(s); err != nil {
			v.errorf(wp+"."+k, "%v", err)
		}
	}
}

// mergeHints checks the merge column hints (hard_delete, dedup_sort) of a
// resource, with the disposition and keys resource_defaults gave it.
func (v *validator) mergeHints(r *Resource, path string) {
	wd := r.WriteDisposition
	merge := wd != nil && wd.Disposition == "merge"
	var hardDelete, dedup []string
	for _, name := range slices.Sorted(maps.Keys(r.Columns)) {
		c := r.Columns[name]
		cp := pathKey(path+".columns", name)
		if c.HardDelete != nil && *c.HardDelete {
			hardDelete = append(hardDelete, name)
			switch {
			case !merge:
				v.errorf(cp+".hard_delete", "applies only to the merge write disposition")
			case wd.Strategy == "scd2":
				v.errorf(cp+".hard_delete", "is not supported with the scd2 merge strategy (an absent record retires its version)")
			}
		}
		if c.DedupSort == "" {
			continue
		}
		dedup = append(dedup, name)
		switch {
		case !slices.Contains(dedupSorts, c.DedupSort):
			v.unknownValue(cp+".dedup_sort", "dedup_sort", c.DedupSort, dedupSorts)
		case !merge || wd.Strategy == "scd2":
			v.errorf(cp+".dedup_sort", "applies only to the merge write disposition with a primary_key (strategies delete-insert, upsert, insert-only)")
		case len(r.PrimaryKey) == 0 && !hintedKey(r):
			v.errorf(cp+".dedup_sort", "needs a primary_key: it picks one record per key")
		}
	}
	if len(hardDelete) > 1 {
		v.errorf(pathKey(path+".columns", hardDelete[1])+".hard_delete", "only one column can be hard_delete (%s is too)", hardDelete[0])
	}
	if len(dedup) > 1 {
		v.errorf(pathKey(path+".columns", dedup[1])+".dedup_sort", "only one column can be dedup_sort (%s is too)", dedup[0])
	}
}

// mergeKeys reports what a resource's merge strategy lacks: every
// strategy but scd2 finds rows by key.
func (v *validator) mergeKeys(r *Resource, path string) {
	wd := r.WriteDisposition
	if wd == nil || wd.Disposition != "merge" {
		return
	}
	switch wd.Strategy {
	case "scd2":
	case "upsert", "insert-only":
		if len(r.PrimaryKey) == 0 && !hintedKey(r) {
			v.errorf(path+".primary_key", "the %s merge strategy needs a primary_key", wd.Strategy)
		}
	default:
		if len(r.PrimaryKey) == 0 && len(r.MergeKey) == 0 && !hintedKey(r) {
			v.errorf(path+".primary_key", "the merge write disposition needs a primary_key")
		}
	}
}

// hintedKey reports whether a column hint makes a primary key.
func hintedKey(r *Resource) bool {
	for _, c := range r.Columns {
		if c.PrimaryKey != nil && *c.PrimaryKey {
			return true
		}
	}
	return false
}
