package pipeline

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/normalize"
	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/spool"
)

// targetOf is where r's rows go: its table_name as a table name and its
// write disposition. The defaults (the resource's name, append) are set
// once, by config when the file loads; nothing after it sets them again.
func targetOf(r *config.Resource) spool.ResourceTarget {
	t := spool.ResourceTarget{Name: r.Name, Table: schema.NormalizeIdentifier(r.TableName)}
	if r.WriteDisposition != nil {
		t.WriteDisposition = r.WriteDisposition.Disposition
	}
	if t.WriteDisposition == schema.Merge {
		t.Merge = mergeSpec(r)
	}
	return t
}

// specFor builds the normalization settings of resource r from its config:
// table, disposition, keys, column hints, max_table_nesting and schema
// contract. Config validation has already rejected unknown data types and
// contract modes; normalize.New checks them again.
func specFor(r *config.Resource, boundary time.Time) normalize.Spec {
	t := targetOf(r)
	s := normalize.Spec{
		Resource:         r.Name,
		Table:            t.Table,
		WriteDisposition: t.WriteDisposition,
		PrimaryKey:       r.PrimaryKey,
		MergeKey:         r.MergeKey,
		MaxNesting:       r.MaxTableNesting,
		Hints:            hints(r.Columns),
		References:       references(r.References),
		Scd2:             scd2Spec(r, boundary),
	}
	if c := r.SchemaContract; c != nil {
		s.Contract = normalize.Contract{
			Tables:   normalize.Mode(c.Tables),
			Columns:  normalize.Mode(c.Columns),
			DataType: normalize.Mode(c.DataType),
		}
	}
	// Columns hinted primary_key: true join the key after primary_key's
	// fields, in name order, as dlt adds them.
	if len(r.Columns) > 0 {
		var extra []string
		for name, h := range r.Columns {
			if h.PrimaryKey != nil && *h.PrimaryKey && !containsKey(s.PrimaryKey, name) {
				extra = append(extra, name)
			}
		}
		sort.Strings(extra)
		if len(extra) > 0 {
			s.PrimaryKey = append(append([]string(nil), s.PrimaryKey...), extra...)
		}
	}
	return s
}

// containsKey reports whether key names the field name, written either as
// the source field or as its column name.
func containsKey(keys []string, name string) bool {
	col := schema.NormalizeIdentifier(name)
	for _, k := range keys {
		if k == name || schema.NormalizeIdentifier(k) == col {
			return true
		}
	}
	return false
}

// hints converts a resource's `columns:` entries into normalize hints. A
// data_type config validation did not know (it cannot happen after Load) is
// passed through for normalize.New to report.
func hints(cols map[string]config.ColumnHint) map[string]schema.Hint {
	if len(cols) == 0 {
		return nil
	}
	out := make(map[string]schema.Hint, len(cols))
	for name, c := range cols {
		h := schema.Hint{Nullable: c.Nullable}
		if c.DataType != "" {
			t, err := schema.ParseDataType(c.DataType)
			if err != nil {
				t = schema.DataType(c.DataType)
			}
			h.DataType = t
		}
		if c.PrimaryKey != nil {
			h.PrimaryKey = *c.PrimaryKey
		}
		h.Precision, h.Scale, h.Timezone = c.Precision, c.Scale, c.Timezone
		if c.Unique != nil {
			h.Unique = *c.Unique
		}
		out[name] = h
	}
	return out
}

// references converts a resource's references into the root table's, with
// table and column names normalized as dlt's naming convention does.
func references(refs []config.TableReference) []schema.Reference {
	var out []schema.Reference
	for _, r := range refs {
		ref := schema.Reference{
			ReferencedTable: schema.NormalizeIdentifier(r.ReferencedTable),
			Label:           r.Label, Cardinality: r.Cardinality,
		}
		for _, c := range r.Columns {
			ref.Columns = append(ref.Columns, schema.NormalizeIdentifier(c))
		}
		for _, c := range r.ReferencedColumns {
			ref.ReferencedColumns = append(ref.ReferencedColumns, schema.NormalizeIdentifier(c))
		}
		out = append(out, ref)
	}
	return out
}

// noteNormalize copies what the normalizer counted into the resource's
// summary and logs its warnings (renamed colliding columns, hints that could
// not retype a stored column).
func noteNormalize(rs *ResourceSummary, n *normalize.Normalizer, log *slog.Logger) {
	c := n.Counts()
	rs.Variants, rs.VariantValues = c.Variants, c.VariantValues
	rs.DiscardedRows, rs.DiscardedValues = c.DiscardedRows, c.DiscardedValues
	rs.Warnings = n.Warnings()
	for _, w := range rs.Warnings {
		log.Warn(w, "resource", rs.Name)
	}
	if c.DiscardedRows > 0 || c.DiscardedValues > 0 {
		log.Warn("schema contract discarded data", "resource", rs.Name, "rows", c.DiscardedRows, "values", c.DiscardedValues)
	}
}

// recordError places an error met normalizing record idx (1-based) of page
// the way other per-page errors read: "resource files: page 2: record 7
// (id 42): ...". An error of Normalize's own says its resource and its
// record among the resource's; the page says it better, so that error is
// wrapped without them. Errors from Normalize keep their type for errors.As.
func recordError(resource string, page, idx int, err error) error {
	key := ""
	var re normalize.RecordError
	if errors.As(err, &re) {
		key = normalize.KeySuffix(re.Where().Key)
		if bare := errors.Unwrap(re); bare != nil {
			err = bare
		}
	}
	return fmt.Errorf("resource %s: page %d: record %d%s: %w", resource, page, idx, key, err)
}
