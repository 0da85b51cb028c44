package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
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

// LoadInfo is one committed load, as _dlt_loads and the tables beside it
// tell (dlt keeps nothing else of a load, and neither does restload).
type LoadInfo struct {
	LoadID     string `json:"load_id"`
	SchemaName string `json:"schema_name"`
	SchemaHash string `json:"schema_version_hash"`
	Status     Status `json:"status"`
	// Pipeline is the pipeline whose state row the load wrote, else the
	// one of the load's schema that wrote the latest state before it.
	Pipeline string `json:"pipeline_name"`
	// StartedAt is the time the load id holds (the Unix time the run
	// began, as dlt's load ids do; FinishedAt when it holds none),
	// FinishedAt its inserted_at.
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// SchemaVersion is the version of the schema whose hash the load
	// recorded (0 when none is stored).
	SchemaVersion int `json:"schema_version"`
	// Rows counts, per root table, the rows of this load still in the
	// dataset (by _dlt_load_id): a later merge or replace leaves fewer.
	Rows map[string]int64 `json:"rows"`
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

// versionNumbers maps each stored schema version hash to its version.
func versionNumbers(ctx context.Context, d destination.Destination) (map[string]int, error) {
	out := map[string]int{}
	err := d.Read(ctx, VersionsTable, func(row map[string]any) error {
		if h, _ := row["version_hash"].(string); h != "" {
			out[h] = int(toInt(row["version"]))
		}
		return nil
	})
	if err != nil && !errors.Is(err, destination.ErrNoTable) {
		return nil, fmt.Errorf("read schema versions: %w", err)
	}
	return out, nil
}

// loadIDTime is the time a load id holds: dlt's and restload's are the
// Unix time (seconds, with a fraction) the run began. Zero when it is not.
func loadIDTime(id string) time.Time {
	sec, frac, _ := strings.Cut(id, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || s <= 0 {
		return time.Time{}
	}
	var ns int64
	if frac != "" {
		f, err := strconv.ParseFloat("0."+frac, 64)
		if err != nil {
			return time.Time{}
		}
		ns = int64(f * 1e9)
	}
	return time.Unix(s, ns).UTC()
}

// rowsByLoad counts, per load id and root table of the newest stored
// schema, the rows still in the table (one read of each table).
func rowsByLoad(ctx context.Context, d destination.Destination) (map[string]map[string]int64, error) {
	latest, _, err := latestAfter(ctx, d, 0)
	if err != nil || latest == nil {
		return nil, err
	}
	out := map[string]map[string]int64{}
	for _, t := range latest.Schema.Tables {
		if t.Parent != "" || t.Column(schema.ColLoadID) == nil {
			continue
		}
		err := d.Read(ctx, t.Name, func(row map[string]any) error {
			id, _ := row[schema.ColLoadID].(string)
			if out[id] == nil {
				out[id] = map[string]int64{}
			}
			out[id][t.Name]++
			return nil
		})
		if err != nil && !errors.Is(err, destination.ErrNoTable) {
			return nil, fmt.Errorf("count rows of table %s: %w", t.Name, err)
		}
	}
	return out, nil
}

// Loads reads the loads table, oldest first, each load with what the
// dataset tells of it (see LoadInfo). It reads every root table to count
// rows by load.
func Loads(ctx context.Context, d destination.Destination) ([]LoadInfo, error) {
	if err := migrate(ctx, d); err != nil {
		return nil, err
	}
	rows, err := loadRows(ctx, d)
	if err != nil {
		return nil, err
	}
	versions, err := versionNumbers(ctx, d)
	if err != nil {
		return nil, err
	}
	pipelines := map[string]string{}
	err = stateTable.read(ctx, d, nil, func(r stateRow) error {
		pipelines[r.LoadID] = r.PipelineName
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read loads: %w", err)
	}
	counts, err := rowsByLoad(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("read loads: %w", err)
	}
	last := map[string]string{} // schema name -> pipeline of its latest state row
	out := make([]LoadInfo, len(rows))
	for i, r := range rows {
		li := LoadInfo{LoadID: r.LoadID, SchemaName: r.SchemaName, SchemaHash: r.SchemaVersionHash,
			Status: Loaded, FinishedAt: r.InsertedAt, StartedAt: loadIDTime(r.LoadID),
			SchemaVersion: versions[r.SchemaVersionHash], Rows: counts[r.LoadID]}
		if r.Status != 0 {
			li.Status = Status(fmt.Sprintf("status %d", r.Status))
		}
		if p, ok := pipelines[r.LoadID]; ok {
			last[r.SchemaName] = p
		}
		li.Pipeline = last[r.SchemaName]
		if li.StartedAt.IsZero() || li.StartedAt.After(li.FinishedAt) {
			li.StartedAt = li.FinishedAt
		}
		if li.Rows == nil {
			li.Rows = map[string]int64{}
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
// source st already has, else source (the configured source name, which
// dlt also names the schema after).
func sourceName(st *dltstate.Object, source string) string {
	if keys := st.Obj("sources").Keys(); len(keys) == 1 {
		return keys[0]
	}
	return source
}

// nextState returns pipeline m.Pipeline's state after load m: the stored
// one (nil: a new one) with m's state in it, and whether it changed as dlt
// sees it (its version hash differs from the stored one's): dlt stores a
// state with a load only then. Cursors go under source's resources unless
// the stored state names its source.
func nextState(stored *dltstate.Object, m spool.Manifest, schemaName, source string) (*dltstate.Object, bool, error) {
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
	src := sourceName(st, source)
	keys := make([]string, 0, len(m.State))
	for k := range m.State {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := dltstate.Parse(m.State[k])
		if err != nil {
			return nil, false, fmt.Errorf("state %s: %w", k, err)
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
	// Earlier restload versions kept each load's details here; they are
	// derived from _dlt_loads now (see Loads).
	if own := st.Obj(stateKey); own != nil {
		own.Delete("load")
		if len(own.Keys()) == 0 {
			st.Delete(stateKey)
		}
	}
	_, h, err := dltstate.BumpStateVersion(st)
	if err != nil {
		return nil, false, err
	}
	return st, stored == nil || stored.Str("_version_hash") != h, nil
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
