package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// A bookkeeping table is declared once, as a sysTable over its row type:
// the table's name, disposition and columns, each column with how it is
// read from and written to a field of the row. Its schema definition
// (table), the rows written (rows) and the rows read back (read) all come
// from that declaration, so adding a table (dlt's _dlt_loads,
// _dlt_version, _dlt_pipeline_state) is one declaration and a row type.
type sysTable[R any] struct {
	name        string
	disposition string
	columns     []column[R]
}

// column is one column of a bookkeeping table whose rows are R.
type column[R any] struct {
	name string
	typ  schema.DataType
	key  bool
	get  func(*R) any
	// set stores a value read back (see destination.Destination.Read) in
	// the row; a value it cannot decode is an error.
	set func(*R, any) error
}

// table returns a fresh definition of t.
func (t *sysTable[R]) table() *schema.Table {
	st := &schema.Table{Name: t.name, Resource: "_restload", WriteDisposition: t.disposition}
	for _, c := range t.columns {
		st.Columns = append(st.Columns, &schema.Column{Name: c.name, Type: c.typ, Nullable: !c.key, PrimaryKey: c.key})
	}
	return st
}

// rows returns rs as a RowSource in t's column order.
func (t *sysTable[R]) rows(rs []R) destination.RowSource {
	out := &sliceRows{rows: make([][]any, len(rs))}
	for i := range rs {
		vals := make([]any, len(t.columns))
		for j, c := range t.columns {
			vals[j] = c.get(&rs[i])
		}
		out.rows[i] = vals
	}
	return out
}

// write writes rs into t in tx.
func (t *sysTable[R]) write(ctx context.Context, tx destination.Tx, mode destination.Mode, rs []R) error {
	_, err := tx.Write(ctx, t.table(), mode, t.rows(rs))
	return err
}

// read calls fn with each committed row of t in d; keep, when set, decides
// from the raw row whether it is decoded at all. A table that does not
// exist has no rows.
func (t *sysTable[R]) read(ctx context.Context, d destination.Destination, keep func(row map[string]any) bool, fn func(R) error) error {
	err := d.Read(ctx, t.name, func(row map[string]any) error {
		if keep != nil && !keep(row) {
			return nil
		}
		r, err := t.decode(row)
		if err != nil {
			return err
		}
		return fn(r)
	})
	if errors.Is(err, destination.ErrNoTable) {
		return nil
	}
	return err
}

// decode builds a row from the values Read gave.
func (t *sysTable[R]) decode(row map[string]any) (R, error) {
	var r R
	for _, c := range t.columns {
		if err := c.set(&r, row[c.name]); err != nil {
			return r, fmt.Errorf("%s row: column %s: %w", t.name, c.name, err)
		}
	}
	return r, nil
}

func textColumn[R any](name string, key bool, f func(*R) *string) column[R] {
	return column[R]{name: name, typ: schema.Text, key: key,
		get: func(r *R) any { return *f(r) },
		set: func(r *R, v any) error { *f(r), _ = v.(string); return nil }}
}

func timeColumn[R any](name string, f func(*R) *time.Time) column[R] {
	return column[R]{name: name, typ: schema.Timestamp,
		get: func(r *R) any { return *f(r) },
		set: func(r *R, v any) error { *f(r), _ = v.(time.Time); return nil }}
}

func intColumn[R any](name string, key bool, f func(*R) *int) column[R] {
	return column[R]{name: name, typ: schema.BigInt, key: key,
		get: func(r *R) any { return int64(*f(r)) },
		set: func(r *R, v any) error { *f(r) = int(toInt(v)); return nil }}
}

// jsonColumn is a JSON column holding the value f points to. A NULL or
// empty value leaves the field as it is; one that does not decode is an
// error.
func jsonColumn[R any](name string, f func(*R) any) column[R] {
	return column[R]{name: name, typ: schema.JSON,
		get: func(r *R) any {
			b, err := json.Marshal(f(r))
			if err != nil {
				return nil // unreachable for the field types used
			}
			return string(b)
		},
		set: func(r *R, v any) error {
			s, _ := v.(string)
			if s == "" {
				return nil
			}
			if err := json.Unmarshal([]byte(s), f(r)); err != nil {
				return fmt.Errorf("corrupt JSON: %w", err)
			}
			return nil
		}}
}

// idColumn is the _dlt_id column every bookkeeping table has.
func idColumn[R any](f func(*R) *string) column[R] {
	return textColumn(schema.ColID, false, f)
}

// System table names.
const (
	LoadsTable    = "_restload_loads"
	VersionsTable = "_restload_versions"
	StateTable    = "_restload_state"
)

// loadsTable records each committed load (see LoadInfo).
var loadsTable = &sysTable[LoadInfo]{name: LoadsTable, disposition: schema.Append, columns: []column[LoadInfo]{
	textColumn("load_id", true, func(r *LoadInfo) *string { return &r.LoadID }),
	textColumn("pipeline_name", false, func(r *LoadInfo) *string { return &r.Pipeline }),
	textColumn("status", false, func(r *LoadInfo) *string { return (*string)(&r.Status) }),
	timeColumn("started_at", func(r *LoadInfo) *time.Time { return &r.StartedAt }),
	timeColumn("finished_at", func(r *LoadInfo) *time.Time { return &r.FinishedAt }),
	intColumn("schema_version", false, func(r *LoadInfo) *int { return &r.SchemaVersion }),
	jsonColumn("rows", func(r *LoadInfo) any { return &r.Rows }),
	jsonColumn("resources", func(r *LoadInfo) any { return &r.Resources }),
	idColumn(func(r *LoadInfo) *string { return &r.id }),
}}

// versionsTable holds every schema version (see Version).
var versionsTable = &sysTable[Version]{name: VersionsTable, disposition: schema.Append, columns: []column[Version]{
	intColumn("version", true, func(r *Version) *int { return &r.Version }),
	textColumn("hash", false, func(r *Version) *string { return &r.Hash }),
	textColumn("load_id", false, func(r *Version) *string { return &r.LoadID }),
	timeColumn("inserted_at", func(r *Version) *time.Time { return &r.InsertedAt }),
	jsonColumn("changes", func(r *Version) any { return &r.Changes }),
	{name: "schema", typ: schema.JSON,
		get: func(r *Version) any { b, _ := json.Marshal(r.Schema); return string(b) },
		// schema.FromJSON is the one decode of a stored schema: it refuses
		// a damaged one instead of returning a schema with holes.
		set: func(r *Version, v any) (err error) {
			s, _ := v.(string)
			if s == "" {
				return nil
			}
			if r.Schema, err = schema.FromJSON([]byte(s)); err != nil {
				return fmt.Errorf("schema version %d: corrupt schema: %w", r.Version, err)
			}
			return nil
		}},
	idColumn(func(r *Version) *string { return &r.id }),
}}

// stateTable holds the pipelines' state, by pipeline and key (see
// StateEntry).
var stateTable = &sysTable[StateEntry]{name: StateTable, disposition: schema.Replace, columns: []column[StateEntry]{
	textColumn("pipeline_name", true, func(r *StateEntry) *string { return &r.Pipeline }),
	textColumn("key", true, func(r *StateEntry) *string { return &r.Key }),
	{name: "value", typ: schema.JSON,
		get: func(r *StateEntry) any { return string(r.Value) },
		set: func(r *StateEntry, v any) error {
			s, _ := v.(string)
			if s == "" {
				s = "null"
			}
			r.Value = json.RawMessage(s)
			return nil
		}},
	textColumn("load_id", false, func(r *StateEntry) *string { return &r.LoadID }),
	timeColumn("updated_at", func(r *StateEntry) *time.Time { return &r.UpdatedAt }),
	idColumn(func(r *StateEntry) *string { return &r.id }),
}}

// systemTables returns fresh definitions of the bookkeeping tables.
func systemTables() []*schema.Table {
	return []*schema.Table{loadsTable.table(), versionsTable.table(), stateTable.table()}
}

func isSystem(name string) bool {
	return name == LoadsTable || name == VersionsTable || name == StateTable
}
