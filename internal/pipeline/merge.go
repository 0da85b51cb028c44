package pipeline

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/normalize"
	"github.com/restload/restload/internal/schema"
)

// mergeSpec is how merge resource r's rows are merged: its strategy, its
// scd2 columns and its hard_delete and dedup_sort columns.
func mergeSpec(r *config.Resource) *schema.MergeSpec {
	wd := r.WriteDisposition
	m := &schema.MergeSpec{Strategy: cmp.Or(wd.Strategy, schema.DeleteInsert)}
	for _, name := range slices.Sorted(maps.Keys(r.Columns)) {
		c := r.Columns[name]
		if c.HardDelete != nil && *c.HardDelete && m.HardDelete == "" {
			m.HardDelete = columnName(name)
		}
		if c.DedupSort != "" && m.DedupSort == "" {
			m.DedupSort, m.DedupDesc = columnName(name), c.DedupSort == "desc"
		}
	}
	if m.Strategy == schema.Scd2 {
		m.ValidFrom, m.ValidTo = validityColumns(wd)
		m.RowVersion = schema.ColID
		if wd.RowVersionColumnName != "" {
			m.RowVersion = columnName(wd.RowVersionColumnName)
		}
		m.ActiveTo = wd.ActiveRecordTimestamp != ""
	}
	return m
}

// columnName is the column a hint's field name lands in.
func columnName(field string) string {
	return normalize.HintColumn(field)
}

func validityColumns(wd *config.WriteDisposition) (from, to string) {
	if len(wd.ValidityColumnNames) == 2 {
		return schema.NormalizeIdentifier(wd.ValidityColumnNames[0]), schema.NormalizeIdentifier(wd.ValidityColumnNames[1])
	}
	return schema.ColValidFrom, schema.ColValidTo
}

// scd2Spec is the normalization an scd2 resource's rows need (nil for any
// other): validity columns and values, boundary being the valid-from when
// the config sets no boundary_timestamp. Config has checked the
// timestamps.
func scd2Spec(r *config.Resource, boundary time.Time) *normalize.Scd2 {
	wd := r.WriteDisposition
	if wd == nil || wd.Disposition != schema.Merge || wd.Strategy != schema.Scd2 {
		return nil
	}
	s := &normalize.Scd2{From: boundary.UTC()}
	s.ValidFrom, s.ValidTo = validityColumns(wd)
	if wd.BoundaryTimestamp != "" {
		if t, err := config.ParseTimestamp(wd.BoundaryTimestamp); err == nil {
			s.From = t
		}
	}
	if wd.ActiveRecordTimestamp != "" {
		if t, err := config.ParseTimestamp(wd.ActiveRecordTimestamp); err == nil {
			s.To = &t
		}
	}
	return s
}

// checkStrategies refuses, before any API call, a resource whose merge
// strategy or merge hints dest cannot do.
func checkStrategies(p *config.Pipeline, dest destination.Destination, url string, only []string) error {
	for _, r := range selectResources(p, only) {
		m := targetOf(r).Merge
		if m == nil || destination.CanMergeWith(dest, m) {
			continue
		}
		what, _ := strategyProblem(m)
		return fmt.Errorf("resource %s: destination %s cannot merge with %s: %s", r.Name, destination.Redact(url), what, deleteInsertOnlyHint)
	}
	return nil
}

const deleteInsertOnlyHint = "it merges by delete-insert only; use DuckDB, PostgreSQL or MySQL"

// strategyProblem says what of m a destination that merges by
// delete-insert only cannot do ("" when nothing), and the config field
// that asks for it (relative to the resource).
func strategyProblem(m *schema.MergeSpec) (what, field string) {
	switch {
	case m.Strategy != schema.DeleteInsert && m.Strategy != schema.Upsert:
		return "merge strategy " + m.Strategy, "write_disposition.strategy"
	case m.HardDelete != "":
		return "the hard_delete hint (column " + m.HardDelete + ")", "columns"
	case m.DedupSort != "":
		return "the dedup_sort hint (column " + m.DedupSort + ")", "columns"
	}
	return "", ""
}

// deleteInsertOnly are the destination schemes that merge by delete-insert
// only (see destination.MergeStrategist): CheckStrategies knows them
// without opening the destination.
var deleteInsertOnly = []string{"jsonl", "parquet", "iceberg"}

// CheckStrategies returns, for `restload check`, the problems a run into
// the destination the pipeline file names would refuse before extracting:
// a merge strategy or merge hint a file or Iceberg destination cannot do,
// placed where the file asks for it. It opens nothing; with no destination
// in the file it finds none.
func CheckStrategies(p *config.Pipeline) config.Errors {
	scheme, _, _ := strings.Cut(p.Pipeline.Destination, ":")
	if !slices.Contains(deleteInsertOnly, scheme) {
		return nil
	}
	var errs config.Errors
	for i := range p.Source.Resources {
		r := &p.Source.Resources[i]
		m := targetOf(r).Merge
		if m == nil {
			continue
		}
		what, field := strategyProblem(m)
		if what == "" {
			continue
		}
		if field == "columns" {
			// The hint itself, where its column's name is a plain key.
			for _, name := range slices.Sorted(maps.Keys(r.Columns)) {
				c := r.Columns[name]
				if m.HardDelete != "" && c.HardDelete != nil && *c.HardDelete {
					field = "columns." + name + ".hard_delete"
					break
				}
				if m.HardDelete == "" && c.DedupSort != "" {
					field = "columns." + name + ".dedup_sort"
					break
				}
			}
		}
		path := p.SourcePath(fmt.Sprintf("resources[%d].%s", i, field))
		pos, ok := p.Position(path)
		if !ok {
			pos, path = r.Pos, p.SourcePath(fmt.Sprintf("resources[%d]", i))
		}
		errs = append(errs, &config.Error{File: cmp.Or(pos.File, p.File), Line: pos.Line, Col: pos.Col, Path: path,
			Msg: fmt.Sprintf("destination %s cannot merge with %s: %s", destination.Redact(p.Pipeline.Destination), what, deleteInsertOnlyHint)})
	}
	return errs
}
