package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/dltstate"
	"github.com/restload/restload/internal/incremental"
	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/spool"
)

// Version is one stored schema version: a row of _dlt_version.
type Version struct {
	Version int    `json:"version"`
	Hash    string `json:"hash"`
	// LoadID is the first load recorded with this schema version ("" when
	// none is).
	LoadID     string    `json:"load_id"`
	InsertedAt time.Time `json:"inserted_at"`
	// Changes are what this version adds to the one before it.
	Changes []schema.Change `json:"changes"`
	// Schema is the stored schema's data tables as restload's schema.
	Schema *schema.Schema `json:"schema"`
	// doc is the stored schema as dlt wrote it, kept whole so a new
	// version only adds to it.
	doc *dltstate.Object
}

// decodeVersion decodes a _dlt_version row. A schema that is not dlt's
// JSON, or whose tables restload cannot read, is an error naming the
// version.
func decodeVersion(r versionRow) (*Version, error) {
	bad := func(err error) error {
		return fmt.Errorf("schema version %d: corrupt schema: %w", r.Version, err)
	}
	if r.Schema == "" {
		return nil, bad(errors.New("empty"))
	}
	doc, err := dltstate.ParseSchema([]byte(r.Schema))
	if err != nil {
		return nil, bad(err)
	}
	s := dltstate.ToSchema(doc)
	// schema.FromJSON is the one check of a schema read from outside.
	b, err := json.Marshal(s)
	if err == nil {
		_, err = schema.FromJSON(b)
	}
	if err != nil {
		return nil, bad(err)
	}
	s.Version = r.Version
	return &Version{Version: r.Version, Hash: r.VersionHash, InsertedAt: r.InsertedAt, Schema: s, doc: doc}, nil
}

// Versions reads every stored schema version, oldest first, each with
// what it changed and the first load recorded with it. A destination
// never loaded into has none. (A run needs only the latest: see Latest.)
func Versions(ctx context.Context, d destination.Destination) ([]Version, error) {
	if err := migrate(ctx, d); err != nil {
		return nil, err
	}
	var out []Version
	err := versionsTable.read(ctx, d, nil, func(r versionRow) error {
		v, err := decodeVersion(r)
		if err != nil {
			return err
		}
		out = append(out, *v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read schema versions: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Version != out[j].Version {
			return out[i].Version < out[j].Version
		}
		return out[i].InsertedAt.Before(out[j].InsertedAt)
	})
	loads, err := loadRows(ctx, d)
	if err != nil {
		return nil, err
	}
	first := map[string]string{}
	for _, l := range loads { // oldest first
		if _, ok := first[l.SchemaVersionHash]; !ok {
			first[l.SchemaVersionHash] = l.LoadID
		}
	}
	var prev *schema.Schema
	for i := range out {
		out[i].LoadID = first[out[i].Hash]
		out[i].Changes = schema.Diff(orEmpty(prev), out[i].Schema)
		prev = out[i].Schema
	}
	return out, nil
}

// Latest reads the newest stored schema version, decoding only it; nil
// before the first load.
func Latest(ctx context.Context, d destination.Destination) (*Version, error) {
	if err := migrate(ctx, d); err != nil {
		return nil, err
	}
	v, _, err := latestAfter(ctx, d, 0)
	return v, err
}

// latestAfter reads the newest stored schema version (the last inserted,
// as dlt picks it) when it is newer than version after, decoding only it
// (else nil), and counts the versions.
func latestAfter(ctx context.Context, d destination.Destination, after int) (*Version, int64, error) {
	var newest map[string]any
	var n int64
	err := d.Read(ctx, VersionsTable, func(row map[string]any) error {
		n++
		if newest == nil || newer(row, newest) {
			newest = row
		}
		return nil
	})
	if errors.Is(err, destination.ErrNoTable) || (err == nil && newest == nil) {
		return nil, n, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read schema versions: %w", err)
	}
	r, err := versionsTable.decode(newest)
	if err != nil {
		return nil, 0, fmt.Errorf("read schema versions: %w", err)
	}
	if r.Version <= after {
		return nil, n, nil
	}
	v, err := decodeVersion(r)
	if err != nil {
		return nil, 0, fmt.Errorf("read schema versions: %w", err)
	}
	return v, n, nil
}

// newer reports whether version row a was stored after b: by inserted_at,
// then by version.
func newer(a, b map[string]any) bool {
	ta, _ := a["inserted_at"].(time.Time)
	tb, _ := b["inserted_at"].(time.Time)
	if !ta.Equal(tb) {
		return ta.After(tb)
	}
	return toInt(a["version"]) > toInt(b["version"])
}

// StoredSchema returns the newest stored schema, or nil before the first
// load.
func StoredSchema(ctx context.Context, d destination.Destination) (*schema.Schema, error) {
	v, err := Latest(ctx, d)
	if err != nil || v == nil {
		return nil, err
	}
	return v.Schema, nil
}

// LoadInfo is one committed load: its _dlt_loads row and, for a load
// restload made, what restload recorded of it in the pipeline state.
type LoadInfo struct {
	LoadID     string `json:"load_id"`
	SchemaName string `json:"schema_name"`
	SchemaHash string `json:"schema_version_hash"`
	Status     Status `json:"status"`
	// Pipeline and the details are known for loads restload made (dlt
	// records none of them); a dlt load's times are its inserted_at.
	Pipeline string `json:"pipeline_name"`
	loadDetails
}

// loadDetails is what restload keeps of a load where dlt keeps none of
// it: in the pipeline state written with the load, under restload.load
// (dlt carries unknown state keys along).
type loadDetails struct {
	StartedAt     time.Time               `json:"started_at"`
	FinishedAt    time.Time               `json:"finished_at"`
	SchemaVersion int                     `json:"schema_version"`
	Rows          map[string]int64        `json:"rows"`
	Resources     []spool.ResourceSummary `json:"resources"`
}

// stateKey is restload's top-level key in dlt's pipeline state.
const stateKey = "restload"

// loadRows reads _dlt_loads, oldest first.
func loadRows(ctx context.Context, d destination.Destination) ([]loadRow, error) {
	var out []loadRow
	if err := loadsTable.read(ctx, d, nil, func(r loadRow) error { out = append(out, r); return nil }); err != nil {
		return nil, fmt.Errorf("read loads: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LoadID < out[j].LoadID })
	return out, nil
}

// Loads reads the loads table, oldest first, with what restload recorded
// of each load it made. A state that does not decode is an error.
func Loads(ctx context.Context, d destination.Destination) ([]LoadInfo, error) {
	if err := migrate(ctx, d); err != nil {
		return nil, err
	}
	rows, err := loadRows(ctx, d)
	if err != nil {
		return nil, err
	}
	summaries := map[string]LoadInfo{}
	err = stateTable.read(ctx, d, nil, func(r stateRow) error {
		st, err := dltstate.DecompressState(r.State)
		if err != nil {
			return fmt.Errorf("%s row of load %s: %w", StateTable, r.LoadID, err)
		}
		raw, ok := st.Obj(stateKey).Get("load")
		if !ok {
			return nil
		}
		b, err := dltstate.Marshal(raw, false)
		if err != nil {
			return err
		}
		var s loadDetails
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%s row of load %s: restload.load: %w", StateTable, r.LoadID, err)
		}
		summaries[r.LoadID] = LoadInfo{Pipeline: r.PipelineName, loadDetails: s}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read loads: %w", err)
	}
	out := make([]LoadInfo, len(rows))
	for i, r := range rows {
		li := summaries[r.LoadID]
		li.LoadID, li.SchemaName, li.SchemaHash = r.LoadID, r.SchemaName, r.SchemaVersionHash
		li.Status = Loaded
		if r.Status != 0 {
			li.Status = Status(fmt.Sprintf("status %d", r.Status))
		}
		if li.FinishedAt.IsZero() {
			li.FinishedAt = r.InsertedAt
		}
		if li.StartedAt.IsZero() {
			li.StartedAt = li.FinishedAt
		}
		out[i] = li
	}
	return out, nil
}

// latestState returns pipeline's stored state as dlt picks it (the row of
// the newest load id among loads with status 0), or nil.
func latestState(ctx context.Context, d destination.Destination, pipeline string) (*dltstate.Object, error) {
	loaded := map[string]bool{}
	err := loadsTable.read(ctx, d, nil, func(r loadRow) error {
		if r.Status == 0 {
			loaded[r.LoadID] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read loads: %w", err)
	}
	var best *stateRow
	err = stateTable.read(ctx, d, func(row map[string]any) bool { return row["pipeline_name"] == pipeline }, func(r stateRow) error {
		if loaded[r.LoadID] && (best == nil || r.LoadID > best.LoadID) {
			best = &r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	if best == nil {
		return nil, nil
	}
	st, err := dltstate.DecompressState(best.State)
	if err != nil {
		return nil, fmt.Errorf("read state of pipeline %s (load %s): %w", pipeline, best.LoadID, err)
	}
	return st, nil
}

// State reads the stored state of pipeline, by key: each incremental
// cursor dlt's layout holds (sources.<source>.resources.<resource>.
// incremental.<cursor_path>) under incremental.Key(resource), its document
// with "cursor_path" added; other keys restload keeps under restload.state.
func State(ctx context.Context, d destination.Destination, pipeline string) (map[string]json.RawMessage, error) {
	if err := migrate(ctx, d); err != nil {
		return nil, err
	}
	st, err := latestState(ctx, d, pipeline)
	if err != nil || st == nil {
		return map[string]json.RawMessage{}, err
	}
	return stateEntries(st)
}

func stateEntries(st *dltstate.Object) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	own := st.Obj(stateKey).Obj("state")
	for _, k := range own.Keys() {
		v, _ := own.Get(k)
		b, err := dltstate.Marshal(v, false)
		if err != nil {
			return nil, err
		}
		out[k] = b
	}
	sources := st.Obj("sources")
	for _, src := range sources.Keys() {
		res := sources.Obj(src).Obj("resources")
		for _, rn := range res.Keys() {
			inc := res.Obj(rn).Obj("incremental")
			for _, cursor := range inc.Keys() {
				doc := inc.Obj(cursor)
				if doc == nil {
					continue
				}
				doc = doc.Clone()
				doc.Set("cursor_path", cursor)
				b, err := dltstate.Marshal(doc, false)
				if err != nil {
					return nil, err
				}
				out[incremental.Key(rn)] = b
			}
		}
	}
	return out, nil
}

// StateEntry is one stored state value.
type StateEntry struct {
	Pipeline  string          `json:"pipeline_name"`
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value"`
	LoadID    string          `json:"load_id"`
	UpdatedAt time.Time       `json:"updated_at"`
	id        string
}

// States reads the stored state of every pipeline in the dataset, sorted by
// pipeline and key. A destination never loaded into has none.
func States(ctx context.Context, d destination.Destination) ([]StateEntry, error) {
	if err := migrate(ctx, d); err != nil {
		return nil, err
	}
	pipelines := map[string]stateRow{}
	loaded := map[string]bool{}
	if err := loadsTable.read(ctx, d, nil, func(r loadRow) error { loaded[r.LoadID] = r.Status == 0; return nil }); err != nil {
		return nil, fmt.Errorf("read loads: %w", err)
	}
	err := stateTable.read(ctx, d, nil, func(r stateRow) error {
		if b, ok := pipelines[r.PipelineName]; loaded[r.LoadID] && (!ok || r.LoadID > b.LoadID) {
			pipelines[r.PipelineName] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var out []StateEntry
	for p, r := range pipelines {
		st, err := dltstate.DecompressState(r.State)
		if err != nil {
			return nil, fmt.Errorf("read state of pipeline %s: %w", p, err)
		}
		entries, err := stateEntries(st)
		if err != nil {
			return nil, err
		}
		for k, v := range entries {
			out = append(out, StateEntry{Pipeline: p, Key: k, Value: v, LoadID: r.LoadID, UpdatedAt: r.CreatedAt})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pipeline != out[j].Pipeline {
			return out[i].Pipeline < out[j].Pipeline
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// destinationType is what dlt records as a state's destination_type for
// the destination identified by ident (see destination.Identity).
func destinationType(ident string) string {
	scheme, _, _ := strings.Cut(ident, ":")
	switch scheme {
	case "postgres", "duckdb":
		return "dlt.destinations." + scheme
	case "mysql":
		return "dlt.destinations.sqlalchemy"
	}
	return "dlt.destinations.filesystem"
}

// newState is a pipeline state as dlt starts one.
func newState(m spool.Manifest, schemaName string) *dltstate.Object {
	st := dltstate.NewObject()
	st.Set("_state_version", int64(1))
	st.Set("_state_engine_version", int64(dltstate.StateEngineVersion))
	st.Set("dataset_name", m.Dataset)
	st.Set("pipeline_name", m.Pipeline)
	st.Set("schema_names", []any{schemaName})
	st.Set("default_schema_name", schemaName)
	st.Set("destination_type", destinationType(m.Destination))
	st.Set("destination_name", nil)
	return st
}

// sourceName is the source whose resources hold st's cursors: the one
// source st already has, else schemaName (dlt names a source's schema
// after it).
func sourceName(st *dltstate.Object, schemaName string) string {
	if keys := st.Obj("sources").Keys(); len(keys) == 1 {
		return keys[0]
	}
	return schemaName
}

// nextState returns pipeline m.Pipeline's state after load m: the stored
// one (nil: a new one) with m's state and load summary in it.
func nextState(stored *dltstate.Object, m spool.Manifest, schemaName string, sum loadDetails) (*dltstate.Object, error) {
	st := stored.Clone()
	if st == nil {
		st = newState(m, schemaName)
	}
	names, _ := st.Get("schema_names")
	list, _ := names.([]any)
	has := false
	for _, n := range list {
		has = has || n == schemaName
	}
	if !has {
		st.Set("schema_names", append(list, schemaName))
	}
	src := sourceName(st, schemaName)
	keys := make([]string, 0, len(m.State))
	for k := range m.State {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := dltstate.Parse(m.State[k])
		if err != nil {
			return nil, fmt.Errorf("state %s: %w", k, err)
		}
		doc, _ := v.(*dltstate.Object)
		res, isInc := strings.CutPrefix(k, incremental.Key(""))
		cursor := doc.Str("cursor_path")
		if !isInc || cursor == "" {
			st.Ensure(stateKey).Ensure("state").Set(k, v)
			continue
		}
		doc.Delete("cursor_path")
		st.Ensure("sources").Ensure(src).Ensure("resources").Ensure(res).Ensure("incremental").Set(cursor, doc)
		// A cursor kept before restload knew its path (migrated) is replaced.
		if own := st.Obj(stateKey).Obj("state"); own != nil {
			own.Delete(k)
		}
	}
	b, err := json.Marshal(sum)
	if err != nil {
		return nil, err
	}
	sv, err := dltstate.Parse(b)
	if err != nil {
		return nil, err
	}
	st.Ensure(stateKey).Set("load", sv)
	if _, _, err := dltstate.BumpStateVersion(st); err != nil {
		return nil, err
	}
	return st, nil
}

// stateRowOf is the _dlt_pipeline_state row of st for load loadID.
func stateRowOf(st *dltstate.Object, loadID string, now time.Time, id string) (stateRow, error) {
	s, err := dltstate.CompressState(st)
	if err != nil {
		return stateRow{}, err
	}
	return stateRow{Version: int(st.Int("_state_version")), EngineVersion: int(st.Int("_state_engine_version")),
		PipelineName: st.Str("pipeline_name"), State: s, CreatedAt: now, VersionHash: st.Str("_version_hash"),
		LoadID: loadID, id: id}, nil
}
