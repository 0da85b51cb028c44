package load_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/spool"
)

// loadVersions loads n packages, each adding a column, so d holds n schema
// versions.
func loadVersions(t *testing.T, d destination.Destination, ds string, n int) {
	t.Helper()
	root := t.TempDir()
	events := &schema.Table{Name: "events", Resource: "events", WriteDisposition: schema.Append, Columns: cols(schema.ColLoadID, schema.ColID)}
	for i := 1; i <= n; i++ {
		events = events.Clone()
		events.Columns = append(events.Columns, &schema.Column{Name: "c" + string(rune('a'+i)), Type: schema.Text, Nullable: true})
		row := []any{"", ""}
		for range len(events.Columns) - 2 {
			row = append(row, "x")
		}
		id := "1700000000.00000" + string(rune('0'+i))
		row[0], row[1] = id, id
		spec := pkgSpec{loadID: id, pipeline: "p", tables: []*schema.Table{events},
			resources: []spool.ResourceSummary{{ResourceTarget: spool.ResourceTarget{Name: "events", Table: "events", WriteDisposition: schema.Append}}},
			rows:      map[string][][]any{"events": {row}}}
		if _, err := load.Package(context.Background(), d, makePackage(t, root, ds, spec)); err != nil {
			t.Fatalf("load %d: %v", i, err)
		}
	}
}

// TestLatestVersionOnly: Latest gives the newest of several stored schema
// versions, Versions all of them (the schema command's history), and a
// load reads the versions table once before it commits.
func TestLatestVersionOnly(t *testing.T) {
	ctx := context.Background()
	d := openURL(t, "duckdb:"+filepath.Join(t.TempDir(), "v.duckdb"), "v")
	loadVersions(t, d, "v", 3)
	vs, err := load.Versions(ctx, d)
	// dlt stores a new schema first as version 2 (see newSchemaDoc).
	if err != nil || len(vs) != 3 || vs[2].Version != 4 {
		t.Fatalf("Versions = %d versions, %v; want 3, the last version 4", len(vs), err)
	}
	v, err := load.Latest(ctx, d)
	if err != nil || v == nil || v.Version != 4 || v.Schema.Table("events").Column("cd") == nil {
		t.Fatalf("Latest = %+v, %v; want version 4 with column cd", v, err)
	}
	rc := &destinationtest.ReadCounter{Destination: d}
	l, err := load.Begin(ctx, rc, "1700000001.000000")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Rollback(ctx)
	if got := rc.Reads(load.VersionsTable); got != 1 {
		t.Errorf("Begin read the versions table %d times, want once", got)
	}
	if s := l.Stored(); s == nil || s.Table("events").Column("cd") == nil {
		t.Errorf("Begin's stored schema %+v is not the latest version", s)
	}
}

// TestStateReportsCorruptState: a _dlt_pipeline_state row whose state does
// not decode is an error naming the pipeline and the load, not a state
// left empty.
func TestStateReportsCorruptState(t *testing.T) {
	ctx := context.Background()
	d := openURL(t, "duckdb:"+filepath.Join(t.TempDir(), "c.duckdb"), "c")
	loadVersions(t, d, "c", 1)
	st := &schema.Table{Name: load.StateTable, Resource: load.StateTable, WriteDisposition: schema.Append, Columns: []*schema.Column{
		{Name: "version", Type: schema.BigInt}, {Name: "engine_version", Type: schema.BigInt},
		{Name: "pipeline_name", Type: schema.Text}, {Name: "state", Type: schema.Text},
		{Name: "created_at", Type: schema.Timestamp}, {Name: "version_hash", Type: schema.Text, Nullable: true},
		{Name: schema.ColLoadID, Type: schema.Text}, {Name: schema.ColID, Type: schema.Text},
	}}
	// The state row of the load loadVersions made, replaced by a corrupt one.
	destinationtest.CommitRows(t, d, st, nil, destination.ModeReplace,
		[]any{int64(1), int64(4), "p", `{"not": "closed"`, time.Now().UTC(), "h", "1700000000.000001", "x.1"})
	_, err := load.State(ctx, d, "p")
	if err == nil || !strings.Contains(err.Error(), "read state of pipeline p (load 1700000000.000001): decode state: invalid JSON") {
		t.Errorf("State with a corrupt state: %v, want an error naming the state row", err)
	}
}

// TestStateRowOnlyWhenChanged: as dlt, a load stores the pipeline state
// only when it changed (its version hash differs from the stored one's);
// Loads still gives every load its pipeline, times, schema version and
// rows, from _dlt_loads and the rows carrying its load id.
func TestStateRowOnlyWhenChanged(t *testing.T) {
	ctx := context.Background()
	d := openURL(t, "duckdb:"+filepath.Join(t.TempDir(), "s.duckdb"), "s")
	root := t.TempDir()
	events := &schema.Table{Name: "events", Resource: "events", WriteDisposition: schema.Append, Columns: cols(schema.ColLoadID, schema.ColID, "n")}
	for i, cursor := range []string{`1`, `1`, `2`} {
		id := "1700000000.00000" + string(rune('1'+i))
		spec := pkgSpec{loadID: id, pipeline: "p", tables: []*schema.Table{events},
			resources: []spool.ResourceSummary{{ResourceTarget: spool.ResourceTarget{Name: "events", Table: "events", WriteDisposition: schema.Append}}},
			rows:      map[string][][]any{"events": {{id, id + ".a", int64(i)}, {id, id + ".b", int64(i)}}},
			state:     map[string]string{"events.cursor": cursor}}
		if _, err := load.Package(ctx, d, makePackage(t, root, "s", spec)); err != nil {
			t.Fatalf("load %s: %v", id, err)
		}
	}
	var stateLoads []string
	for _, r := range destinationtest.ReadAll(t, d, load.StateTable) {
		stateLoads = append(stateLoads, r[schema.ColLoadID].(string))
	}
	slices.Sort(stateLoads)
	if want := []string{"1700000000.000001", "1700000000.000003"}; !slices.Equal(stateLoads, want) {
		t.Errorf("state rows of loads %v, want %v (the second load changed nothing)", stateLoads, want)
	}
	loads, err := load.Loads(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(loads) != 3 {
		t.Fatalf("%d loads, want 3", len(loads))
	}
	for _, l := range loads {
		if l.Pipeline != "p" || l.Rows["events"] != 2 || l.SchemaVersion != 2 || l.StartedAt.Unix() != 1700000000 || l.FinishedAt.Before(l.StartedAt) {
			t.Errorf("load %+v, want pipeline p, 2 events rows, schema version 2, started at 1700000000", l)
		}
	}
}
