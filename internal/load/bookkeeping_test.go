package load_test

import (
	"context"
	"path/filepath"
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
	if err != nil || len(vs) != 3 || vs[2].Version != 3 {
		t.Fatalf("Versions = %d versions, %v; want 3", len(vs), err)
	}
	v, err := load.Latest(ctx, d)
	if err != nil || v == nil || v.Version != 3 || v.Schema.Table("events").Column("cd") == nil {
		t.Fatalf("Latest = %+v, %v; want version 3 with column cd", v, err)
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

// TestLoadsReportsCorruptJSON: a loads row whose JSON does not decode is an
// error naming the table and column, not a row with the field left empty.
func TestLoadsReportsCorruptJSON(t *testing.T) {
	ctx := context.Background()
	d := openURL(t, "duckdb:"+filepath.Join(t.TempDir(), "c.duckdb"), "c")
	loadVersions(t, d, "c", 1)
	loads := &schema.Table{Name: load.LoadsTable, Resource: "_restload", WriteDisposition: schema.Append, Columns: []*schema.Column{
		{Name: "load_id", Type: schema.Text, PrimaryKey: true}, {Name: "pipeline_name", Type: schema.Text, Nullable: true},
		{Name: "status", Type: schema.Text, Nullable: true}, {Name: "started_at", Type: schema.Timestamp, Nullable: true},
		{Name: "finished_at", Type: schema.Timestamp, Nullable: true}, {Name: "schema_version", Type: schema.BigInt, Nullable: true},
		{Name: "rows", Type: schema.JSON, Nullable: true}, {Name: "resources", Type: schema.JSON, Nullable: true},
		{Name: schema.ColID, Type: schema.Text, Nullable: true},
	}}
	now := time.Now().UTC()
	row := []any{"1700000009.000000", "p", "loaded", now, now, int64(1), `["not", "a", "map"]`, `[]`, "x.1"}
	destinationtest.CommitRows(t, d, loads, nil, destination.ModeAppend, row)
	_, err := load.Loads(ctx, d)
	if err == nil || !strings.Contains(err.Error(), "column rows: corrupt JSON: json: cannot unmarshal array") {
		t.Errorf("Loads with a corrupt rows value: %v, want an error naming column rows", err)
	}
}
