package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/dltstate"
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
	// notNull marks a column dlt declares NOT NULL; precision is a text
	// column's length (dlt's load ids are character varying(64)).
	notNull   bool
	precision int
	get       func(*R) any
	// set stores a value read back (see destination.Destination.Read) in
	// the row; a value it cannot decode is an error.
	set func(*R, any) error
}

// table returns a fresh definition of t.
func (t *sysTable[R]) table() *schema.Table {
	st := &schema.Table{Name: t.name, Resource: t.resource(), WriteDisposition: t.disposition}
	for _, c := range t.columns {
		sc := &schema.Column{Name: c.name, Type: c.typ, Nullable: !c.key && !c.notNull,
			PrimaryKey: c.key, System: strings.HasPrefix(c.name, "_dlt_"), Unique: c.name == schema.ColID}
		if c.precision > 0 {
			p := c.precision
			sc.Precision = &p
		}
		st.Columns = append(st.Columns, sc)
	}
	return st
}

// resource is the resource dlt names for a bookkeeping table: its own
// name.
func (t *sysTable[R]) resource() string {
	if strings.HasPrefix(t.name, "_dlt_") {
		return t.name
	}
	return "_restload"
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

// required marks c NOT NULL, as dlt declares it.
func required[R any](c column[R]) column[R] {
	c.notNull = true
	return c
}

// loadIDColumn is a load id column: dlt's character varying(64).
func loadIDColumn[R any](c column[R]) column[R] {
	c.notNull, c.precision = true, 64
	return c
}

// System table names: dlt's bookkeeping tables (see dltstate).
const (
	LoadsTable    = dltstate.LoadsTable
	VersionsTable = dltstate.VersionTable
	StateTable    = dltstate.StateTable
)

// loadRow is a row of _dlt_loads: one per committed load, status 0.
type loadRow struct {
	LoadID            string
	SchemaName        string
	Status            int
	InsertedAt        time.Time
	SchemaVersionHash string
}

// loadsTable is dlt's _dlt_loads.
var loadsTable = &sysTable[loadRow]{name: LoadsTable, disposition: "skip", columns: []column[loadRow]{
	loadIDColumn(textColumn("load_id", false, func(r *loadRow) *string { return &r.LoadID })),
	textColumn("schema_name", false, func(r *loadRow) *string { return &r.SchemaName }),
	required(intColumn("status", false, func(r *loadRow) *int { return &r.Status })),
	required(timeColumn("inserted_at", func(r *loadRow) *time.Time { return &r.InsertedAt })),
	textColumn("schema_version_hash", false, func(r *loadRow) *string { return &r.SchemaVersionHash }),
}}

// versionRow is a row of _dlt_version: one stored schema version, the
// schema as dlt's JSON.
type versionRow struct {
	Version       int
	EngineVersion int
	InsertedAt    time.Time
	SchemaName    string
	VersionHash   string
	Schema        string
}

// versionsTable is dlt's _dlt_version.
var versionsTable = &sysTable[versionRow]{name: VersionsTable, disposition: "skip", columns: []column[versionRow]{
	required(intColumn("version", false, func(r *versionRow) *int { return &r.Version })),
	required(intColumn("engine_version", false, func(r *versionRow) *int { return &r.EngineVersion })),
	required(timeColumn("inserted_at", func(r *versionRow) *time.Time { return &r.InsertedAt })),
	required(textColumn("schema_name", false, func(r *versionRow) *string { return &r.SchemaName })),
	required(textColumn("version_hash", false, func(r *versionRow) *string { return &r.VersionHash })),
	required(textColumn("schema", false, func(r *versionRow) *string { return &r.Schema })),
}}

// stateRow is a row of _dlt_pipeline_state: a pipeline's whole state as
// of a load, compressed as dlt does (dltstate.CompressState).
type stateRow struct {
	Version       int
	EngineVersion int
	PipelineName  string
	State         string
	CreatedAt     time.Time
	VersionHash   string
	LoadID        string
	id            string
}

// stateTable is dlt's _dlt_pipeline_state.
var stateTable = &sysTable[stateRow]{name: StateTable, disposition: schema.Append, columns: []column[stateRow]{
	required(intColumn("version", false, func(r *stateRow) *int { return &r.Version })),
	required(intColumn("engine_version", false, func(r *stateRow) *int { return &r.EngineVersion })),
	required(textColumn("pipeline_name", false, func(r *stateRow) *string { return &r.PipelineName })),
	required(textColumn("state", false, func(r *stateRow) *string { return &r.State })),
	required(timeColumn("created_at", func(r *stateRow) *time.Time { return &r.CreatedAt })),
	textColumn("version_hash", false, func(r *stateRow) *string { return &r.VersionHash }),
	loadIDColumn(textColumn(schema.ColLoadID, false, func(r *stateRow) *string { return &r.LoadID })),
	required(idColumn(func(r *stateRow) *string { return &r.id })),
}}

// systemTables returns fresh definitions of the bookkeeping tables.
func systemTables() []*schema.Table {
	return []*schema.Table{versionsTable.table(), loadsTable.table(), stateTable.table()}
}

// isSystem reports whether name is a bookkeeping table, dlt's or (before
// migration) restload's own.
func isSystem(name string) bool {
	return dltstate.IsBookkeeping(name) || isLegacy(name)
}
