package load

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/restload/restload/internal/schema"
)

// The bookkeeping tables of restload before it kept dlt's (commit
// 9ba7f07 and earlier); migrate.go reads them once into dlt's.
const (
	legacyLoadsTable    = "_restload_loads"
	legacyVersionsTable = "_restload_versions"
	legacyStateTable    = "_restload_state"
)

// legacyLoads recorded each committed load.
var legacyLoads = &sysTable[legacyLoad]{name: legacyLoadsTable, disposition: schema.Append, columns: []column[legacyLoad]{
	textColumn("load_id", true, func(r *legacyLoad) *string { return &r.LoadID }),
	textColumn("pipeline_name", false, func(r *legacyLoad) *string { return &r.Pipeline }),
	textColumn("status", false, func(r *legacyLoad) *string { return (*string)(&r.Status) }),
	timeColumn("started_at", func(r *legacyLoad) *time.Time { return &r.StartedAt }),
	timeColumn("finished_at", func(r *legacyLoad) *time.Time { return &r.FinishedAt }),
	intColumn("schema_version", false, func(r *legacyLoad) *int { return &r.SchemaVersion }),
	jsonColumn("rows", func(r *legacyLoad) any { return &r.Rows }),
	jsonColumn("resources", func(r *legacyLoad) any { return &r.Resources }),
	idColumn(func(r *legacyLoad) *string { return &r.id }),
}}

// legacyVersions held every schema version.
var legacyVersions = &sysTable[legacyVersion]{name: legacyVersionsTable, disposition: schema.Append, columns: []column[legacyVersion]{
	intColumn("version", true, func(r *legacyVersion) *int { return &r.Version }),
	textColumn("hash", false, func(r *legacyVersion) *string { return &r.Hash }),
	textColumn("load_id", false, func(r *legacyVersion) *string { return &r.LoadID }),
	timeColumn("inserted_at", func(r *legacyVersion) *time.Time { return &r.InsertedAt }),
	jsonColumn("changes", func(r *legacyVersion) any { return &r.Changes }),
	{name: "schema", typ: schema.JSON,
		get: func(r *legacyVersion) any { b, _ := json.Marshal(r.Schema); return string(b) },
		// schema.FromJSON is the one decode of a stored schema: it refuses
		// a damaged one instead of returning a schema with holes.
		set: func(r *legacyVersion, v any) (err error) {
			s, _ := v.(string)
			if s == "" {
				return nil
			}
			if r.Schema, err = schema.FromJSON([]byte(s)); err != nil {
				return fmt.Errorf("schema version %d: corrupt schema: %w", r.Version, err)
			}
			return nil
		}},
	idColumn(func(r *legacyVersion) *string { return &r.id }),
}}

// legacyState held the pipelines' state, by pipeline and key.
var legacyState = &sysTable[StateEntry]{name: legacyStateTable, disposition: schema.Replace, columns: []column[StateEntry]{
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

func isLegacy(name string) bool {
	return name == legacyLoadsTable || name == legacyVersionsTable || name == legacyStateTable
}
