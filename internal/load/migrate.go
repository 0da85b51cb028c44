package load

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/dltstate"
	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/spool"
)

// legacyLoad is a row of _restload_loads.
type legacyLoad struct {
	LoadID        string
	Pipeline      string
	Status        Status
	StartedAt     time.Time
	FinishedAt    time.Time
	SchemaVersion int
	Rows          map[string]int64
	Resources     []spool.ResourceSummary
	id            string
}

// legacyVersion is a row of _restload_versions.
type legacyVersion struct {
	Version    int
	Hash       string
	LoadID     string
	InsertedAt time.Time
	Changes    []schema.Change
	Schema     *schema.Schema
	id         string
}

// migrate moves the bookkeeping of a dataset an earlier restload wrote
// (_restload_versions, _restload_loads, _restload_state) into dlt's
// tables, once: when d has no _dlt_loads but has _restload_versions. Each
// schema version becomes a _dlt_version row (same version numbers, dlt's
// JSON and hash), each load a _dlt_loads row, and each pipeline's state
// one _dlt_pipeline_state row tied to its newest load. A cursor whose
// cursor path the old state did not record is kept under
// restload.state until the next run stores it where dlt keeps cursors.
// The old tables are left in place, unread.
func migrate(ctx context.Context, d destination.Destination) error {
	if _, err := destination.Count(ctx, d, LoadsTable); !errors.Is(err, destination.ErrNoTable) {
		return nil // dlt's tables exist (or the error shows on reading them)
	}
	var versions []legacyVersion
	err := legacyVersions.read(ctx, d, nil, func(v legacyVersion) error { versions = append(versions, v); return nil })
	if err != nil || len(versions) == 0 {
		if err != nil {
			return fmt.Errorf("migrate %s: %w", legacyVersionsTable, err)
		}
		return nil
	}
	var loads []legacyLoad
	if err := legacyLoads.read(ctx, d, nil, func(l legacyLoad) error { loads = append(loads, l); return nil }); err != nil {
		return fmt.Errorf("migrate %s: %w", legacyLoadsTable, err)
	}
	var entries []StateEntry
	if err := legacyState.read(ctx, d, nil, func(e StateEntry) error { entries = append(entries, e); return nil }); err != nil {
		return fmt.Errorf("migrate %s: %w", legacyStateTable, err)
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i].Version < versions[j].Version })
	sort.Slice(loads, func(i, j int) bool { return loads[i].LoadID < loads[j].LoadID })
	name := versions[len(versions)-1].Schema.Name
	if len(loads) > 0 && loads[len(loads)-1].Pipeline != "" {
		name = loads[len(loads)-1].Pipeline
	}

	var vrows []versionRow
	hashOf := map[int]string{}
	doc := dltstate.NewSchema(name)
	for _, v := range versions {
		if v.Schema == nil {
			return fmt.Errorf("migrate %s: schema version %d: corrupt schema: empty", legacyVersionsTable, v.Version)
		}
		dltstate.AddTables(doc, v.Schema)
		if _, _, err := dltstate.BumpSchemaVersion(doc); err != nil {
			return err
		}
		doc.Set("version", int64(v.Version))
		b, err := dltstate.Marshal(doc, false)
		if err != nil {
			return err
		}
		hashOf[v.Version] = doc.Str("version_hash")
		vrows = append(vrows, versionRow{Version: v.Version, EngineVersion: dltstate.SchemaEngineVersion,
			InsertedAt: v.InsertedAt, SchemaName: name, VersionHash: doc.Str("version_hash"), Schema: string(b)})
	}
	var lrows []loadRow
	for _, l := range loads {
		lrows = append(lrows, loadRow{LoadID: l.LoadID, SchemaName: name, InsertedAt: l.FinishedAt, SchemaVersionHash: hashOf[l.SchemaVersion]})
	}
	byPipeline := map[string][]StateEntry{}
	for _, e := range entries {
		byPipeline[e.Pipeline] = append(byPipeline[e.Pipeline], e)
	}
	pipelines := make([]string, 0, len(byPipeline))
	for p := range byPipeline {
		pipelines = append(pipelines, p)
	}
	sort.Strings(pipelines)
	var srows []stateRow
	now := time.Now().UTC()
	for _, p := range pipelines {
		es := byPipeline[p]
		loadID := ""
		for _, e := range es {
			loadID = max(loadID, e.LoadID)
		}
		for _, l := range loads { // the state belongs with the pipeline's newest load
			if l.Pipeline == p {
				loadID = max(loadID, l.LoadID)
			}
		}
		m := spool.Manifest{Pipeline: p, Dataset: name}
		st := newState(m, name)
		own := st.Ensure(stateKey).Ensure("state")
		for _, e := range es {
			v, err := dltstate.Parse(e.Value)
			if err != nil {
				return fmt.Errorf("migrate %s: %s: %w", legacyStateTable, e.Key, err)
			}
			own.Set(e.Key, v)
		}
		if _, _, err := dltstate.BumpStateVersion(st); err != nil {
			return err
		}
		r, err := stateRowOf(st, loadID, now, loadID+".migrated."+p)
		if err != nil {
			return err
		}
		srows = append(srows, r)
	}

	if pr, ok := d.(destination.Preparer); ok {
		if err := pr.Prepare(ctx, systemTables()); err != nil {
			return fmt.Errorf("migrate bookkeeping: %w", err)
		}
	}
	tx, err := d.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate bookkeeping: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var changes []schema.Change
	for _, t := range systemTables() {
		changes = append(changes, schema.Change{Kind: schema.AddTable, Table: t})
	}
	if err := tx.Apply(ctx, changes); err != nil {
		return fmt.Errorf("migrate bookkeeping: %w", err)
	}
	if err := versionsTable.write(ctx, tx, destination.ModeAppend, vrows); err != nil {
		return fmt.Errorf("migrate bookkeeping: %w", err)
	}
	if err := stateTable.write(ctx, tx, destination.ModeAppend, srows); err != nil {
		return fmt.Errorf("migrate bookkeeping: %w", err)
	}
	if err := loadsTable.write(ctx, tx, destination.ModeAppend, lrows); err != nil {
		return fmt.Errorf("migrate bookkeeping: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate bookkeeping: %w", err)
	}
	return nil
}
