package load_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	_ "github.com/restload/restload/internal/destination/duckdb"
	_ "github.com/restload/restload/internal/destination/files"
	_ "github.com/restload/restload/internal/destination/postgres"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/spool"
)

// dest is one destination kind the tests load into.
type dest struct {
	name  string
	merge bool
	open  func(t *testing.T, dataset string) destination.Destination
}

func openURL(t *testing.T, url, dataset string) destination.Destination {
	t.Helper()
	d, err := destination.Open(context.Background(), url, dataset)
	if err != nil {
		t.Fatalf("open %s: %v", destination.Redact(url), err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func destinations() []dest {
	return []dest{
		{"duckdb", true, func(t *testing.T, ds string) destination.Destination {
			return openURL(t, "duckdb:"+filepath.Join(t.TempDir(), "x.duckdb"), ds)
		}},
		{"postgres", true, func(t *testing.T, ds string) destination.Destination {
			url := destinationtest.PostgresURL(t)
			destinationtest.DropOnCleanup(t, url, ds)
			return openURL(t, url, ds)
		}},
		{"parquet", false, func(t *testing.T, ds string) destination.Destination {
			return openURL(t, "parquet:"+t.TempDir(), ds)
		}},
		{"jsonl", false, func(t *testing.T, ds string) destination.Destination {
			return openURL(t, "jsonl:"+t.TempDir(), ds)
		}},
	}
}

// pkgSpec describes a package to spool: rows per table, written against the
// given tables.
type pkgSpec struct {
	loadID    string
	pipeline  string
	resources []spool.ResourceSummary
	tables    []*schema.Table
	rows      map[string][][]any
	state     map[string]string
}

func makePackage(t *testing.T, root, dataset string, s pkgSpec) *spool.Package {
	t.Helper()
	m := spool.Manifest{LoadID: s.loadID, Pipeline: s.pipeline, Dataset: dataset}
	pkg, err := spool.Create(root, m)
	if err != nil {
		t.Fatal(err)
	}
	for table, rows := range s.rows {
		w, err := pkg.Writer(table)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	m = pkg.Manifest
	m.Resources = s.resources
	if len(s.state) > 0 {
		m.State = map[string]json.RawMessage{}
		for k, v := range s.state {
			m.State[k] = json.RawMessage(v)
		}
	}
	if err := pkg.Seal(m, &schema.Schema{Name: dataset, Tables: s.tables}); err != nil {
		t.Fatal(err)
	}
	return pkg
}

func cols(names ...string) []*schema.Column {
	out := []*schema.Column{}
	for _, n := range names {
		c := &schema.Column{Name: n, Type: schema.Text, Nullable: true}
		if n == "n" {
			c.Type = schema.BigInt
		}
		out = append(out, c)
	}
	return out
}

func readColumn(t *testing.T, d destination.Destination, table, column string) []any {
	t.Helper()
	var out []any
	if err := d.Read(context.Background(), table, func(row map[string]any) error {
		out = append(out, row[column])
		return nil
	}); err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return out
}

func state(t *testing.T, d destination.Destination, pipeline string) map[string]string {
	t.Helper()
	st, err := load.State(context.Background(), d, pipeline)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range st {
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			t.Fatalf("state %s = %q: %v", k, v, err)
		}
		b, _ := json.Marshal(x)
		out[k] = string(b)
	}
	return out
}

// TestPackageRoundTrip loads packages into every destination and reads back
// what a user (and restload info) would: rows of append and replace
// tables, state per pipeline, schema versions and the loads table; then
// plays a process that died after committing and before removing its
// package, and checks nothing is loaded twice.
func TestPackageRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, dt := range destinations() {
		t.Run(dt.name, func(t *testing.T) {
			ds := destinationtest.Dataset(t)
			d := dt.open(t, ds)
			root := t.TempDir()
			events := &schema.Table{Name: "events", Resource: "events", WriteDisposition: schema.Append, Columns: cols(schema.ColLoadID, schema.ColID, "n")}
			snap := &schema.Table{Name: "snap", Resource: "snap", WriteDisposition: schema.Replace, Columns: cols(schema.ColLoadID, schema.ColID, "v")}
			res := []spool.ResourceSummary{
				{ResourceTarget: spool.ResourceTarget{Name: "events", Table: "events", WriteDisposition: schema.Append}},
				{ResourceTarget: spool.ResourceTarget{Name: "snap", Table: "snap", WriteDisposition: schema.Replace}},
			}
			first := pkgSpec{
				loadID: "1700000000.000001", pipeline: "p1", resources: res,
				tables: []*schema.Table{events, snap},
				rows: map[string][][]any{
					"events": {{"1700000000.000001", "1a", int64(1)}, {"1700000000.000001", "1b", int64(2)}},
					"snap":   {{"1700000000.000001", "1s", "old"}},
				},
				state: map[string]string{"events.cursor": `1`, "snap.etag": `"abc"`},
			}
			r1, err := load.Package(ctx, d, makePackage(t, root, ds, first))
			if err != nil {
				t.Fatalf("load 1: %v", err)
			}
			// dlt stores a new schema first as version 2 (see newSchemaDoc).
			if r1.SchemaVersion != 2 || r1.Rows["events"] != 2 || r1.Rows["snap"] != 1 {
				t.Errorf("load 1 result: version %d rows %v, want version 2, events=2 snap=1", r1.SchemaVersion, r1.Rows)
			}

			// The second load adds a column and moves the cursor.
			events2 := events.Clone()
			events2.Columns = append(events2.Columns, &schema.Column{Name: "extra", Type: schema.Text, Nullable: true})
			second := pkgSpec{
				loadID: "1700000000.000002", pipeline: "p1", resources: res,
				tables: []*schema.Table{events2, snap},
				rows: map[string][][]any{
					"events": {{"1700000000.000002", "2a", int64(3), "x"}},
					"snap":   {{"1700000000.000002", "2s", "new"}},
				},
				state: map[string]string{"events.cursor": `3`},
			}
			if _, err := load.Package(ctx, d, makePackage(t, root, ds, second)); err != nil {
				t.Fatalf("load 2: %v", err)
			}
			// Another pipeline in the same dataset keeps its own state.
			third := pkgSpec{loadID: "1700000000.000003", pipeline: "p2", state: map[string]string{"events.cursor": `99`}}
			if _, err := load.Package(ctx, d, makePackage(t, root, ds, third)); err != nil {
				t.Fatalf("load 3: %v", err)
			}

			if got, want := readColumn(t, d, "events", "n"), []any{int64(1), int64(2), int64(3)}; !reflect.DeepEqual(got, want) {
				t.Errorf("events.n = %v, want %v", got, want)
			}
			if got, want := readColumn(t, d, "events", "extra"), []any{nil, nil, "x"}; !reflect.DeepEqual(got, want) {
				t.Errorf("events.extra = %v, want %v", got, want)
			}
			if got, want := readColumn(t, d, "snap", "v"), []any{"new"}; !reflect.DeepEqual(got, want) {
				t.Errorf("snap.v after replace = %v, want %v", got, want)
			}
			if got, want := state(t, d, "p1"), map[string]string{"events.cursor": "3", "snap.etag": `"abc"`}; !reflect.DeepEqual(got, want) {
				t.Errorf("state of p1 = %v, want %v", got, want)
			}
			if got, want := state(t, d, "p2"), map[string]string{"events.cursor": "99"}; !reflect.DeepEqual(got, want) {
				t.Errorf("state of p2 = %v, want %v", got, want)
			}

			vs, err := load.Versions(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != 2 || vs[0].Version != 2 || vs[1].Version != 3 || vs[1].LoadID != second.loadID {
				t.Fatalf("versions = %+v, want 2 and 3 (from load %s)", vs, second.loadID)
			}
			if len(vs[1].Changes) != 1 || vs[1].Changes[0].Kind != schema.AddColumn || vs[1].Changes[0].Column.Name != "extra" {
				t.Errorf("version 2 changes = %+v, want one add_column extra", vs[1].Changes)
			}
			if tb := vs[1].Schema.Table("events"); tb == nil || tb.Column("extra") == nil {
				t.Errorf("stored schema v2 lacks events.extra: %+v", vs[1].Schema)
			}

			loads, err := load.Loads(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, l := range loads {
				ids = append(ids, l.LoadID+"/"+l.Pipeline+"/"+string(l.Status))
			}
			if want := []string{"1700000000.000001/p1/loaded", "1700000000.000002/p1/loaded", "1700000000.000003/p2/loaded"}; !reflect.DeepEqual(ids, want) {
				t.Errorf("loads = %v, want %v", ids, want)
			}
			if len(loads) > 0 && (loads[0].Rows["events"] != 2 || loads[0].SchemaVersion != 2 || loads[0].FinishedAt.Before(loads[0].StartedAt)) {
				t.Errorf("first load record = %+v", loads[0])
			}

			// The first package again, as if the process had died after its
			// commit and before removing it: nothing is written twice.
			again := makePackage(t, root, ds, first)
			r, err := load.Package(ctx, d, again)
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			if !r.AlreadyLoaded {
				t.Errorf("reloading a committed package: AlreadyLoaded = false")
			}
			if got := readColumn(t, d, "events", "n"); len(got) != 3 {
				t.Errorf("after reloading a committed package events.n = %v, want 3 rows", got)
			}
			if _, err := os.Stat(again.Dir); !os.IsNotExist(err) {
				t.Errorf("package %s still on disk after it was recognised as loaded (stat: %v)", again.Dir, err)
			}
		})
	}
}

// TestPackageMerge loads the same keys twice through merge: the
// destinations that support it keep the newer rows, the others append.
func TestPackageMerge(t *testing.T) {
	ctx := context.Background()
	for _, dt := range destinations() {
		t.Run(dt.name, func(t *testing.T) {
			ds := destinationtest.Dataset(t)
			d := dt.open(t, ds)
			if got := destination.CanMerge(d); got != dt.merge {
				t.Fatalf("CanMerge = %v, want %v", got, dt.merge)
			}
			root := t.TempDir()
			tb := &schema.Table{Name: "items", Resource: "items", WriteDisposition: schema.Merge, Columns: cols(schema.ColLoadID, schema.ColID, "id", "v")}
			tb.Columns[2].PrimaryKey = true
			tb.Columns[2].Nullable = false
			res := []spool.ResourceSummary{{ResourceTarget: spool.ResourceTarget{Name: "items", Table: "items", WriteDisposition: schema.Merge}}}
			spec := func(id, v string) pkgSpec {
				return pkgSpec{loadID: id, pipeline: "p", resources: res, tables: []*schema.Table{tb},
					rows: map[string][][]any{"items": {{id, id + ".1", "k1", v}, {id, id + ".2", "k2", v}}}}
			}
			if _, err := load.Package(ctx, d, makePackage(t, root, ds, spec("1700000000.000001", "a"))); err != nil {
				t.Fatal(err)
			}
			if _, err := load.Package(ctx, d, makePackage(t, root, ds, spec("1700000000.000002", "b"))); err != nil {
				t.Fatal(err)
			}
			got := readColumn(t, d, "items", "v")
			sort.Slice(got, func(i, j int) bool { return got[i].(string) < got[j].(string) })
			want := []any{"b", "b"}
			if !dt.merge {
				// Without merge (files) the rows are appended, as dlt's
				// filesystem destination does.
				want = []any{"a", "a", "b", "b"}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("items.v after two merges = %v, want %v", got, want)
			}
		})
	}
}

// TestOverlappingLoads plays two machines loading different resources into
// one dataset at once: both begin on schema version 2, the second to begin
// commits first. The later commit must number its version after the
// earlier one's and keep the table the earlier one added; both loads'
// rows stay.
func TestOverlappingLoads(t *testing.T) {
	ctx := context.Background()
	for _, dt := range destinations() {
		t.Run(dt.name, func(t *testing.T) {
			ds := destinationtest.Dataset(t)
			d := dt.open(t, ds)
			root := t.TempDir()
			table := func(name string) *schema.Table {
				return &schema.Table{Name: name, Resource: name, WriteDisposition: schema.Append, Columns: cols(schema.ColLoadID, schema.ColID, "n")}
			}
			spec := func(loadID, name string) pkgSpec {
				return pkgSpec{
					loadID: loadID, pipeline: "p1",
					resources: []spool.ResourceSummary{{ResourceTarget: spool.ResourceTarget{Name: name, Table: name, WriteDisposition: schema.Append}}},
					tables:    []*schema.Table{table(name)},
					rows:      map[string][][]any{name: {{loadID, name + "1", int64(1)}}},
				}
			}
			if _, err := load.Package(ctx, d, makePackage(t, root, ds, spec("1700000000.000001", "base"))); err != nil {
				t.Fatalf("first load: %v", err)
			}
			pa := makePackage(t, root, ds, spec("1700000000.000002", "a"))
			pb := makePackage(t, root, ds, spec("1700000000.000003", "b"))
			la, err := load.Begin(ctx, d, pa.Manifest.LoadID)
			if err != nil {
				t.Fatal(err)
			}
			defer la.Rollback(ctx)
			lb, err := load.Begin(ctx, d, pb.Manifest.LoadID)
			if err != nil {
				t.Fatal(err)
			}
			defer lb.Rollback(ctx)
			for _, x := range []struct {
				l   *load.Load
				pkg *spool.Package
			}{{la, pa}, {lb, pb}} {
				s, err := x.pkg.Schema()
				if err != nil {
					t.Fatal(err)
				}
				if err := x.l.Resource(ctx, x.pkg, x.pkg.Manifest.Resources[0].ResourceTarget, s); err != nil {
					t.Fatal(err)
				}
			}
			rb, err := lb.Commit(ctx, pb)
			if err != nil {
				t.Fatalf("commit b: %v", err)
			}
			ra, err := la.Commit(ctx, pa)
			if err != nil {
				t.Fatalf("commit a: %v", err)
			}
			if rb.SchemaVersion != 3 || ra.SchemaVersion != 4 {
				t.Errorf("versions: b %d, a %d; want 3 and 4", rb.SchemaVersion, ra.SchemaVersion)
			}
			versions, err := load.Versions(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			var nums []int
			for _, v := range versions {
				nums = append(nums, v.Version)
			}
			if len(versions) != 3 || nums[2] != 4 {
				t.Fatalf("stored versions %v, want 2, 3, 4", nums)
			}
			for _, name := range []string{"base", "a", "b"} {
				if versions[2].Schema.Table(name) == nil {
					t.Errorf("version 3 lacks table %s", name)
				}
				if got := readColumn(t, d, name, "n"); len(got) != 1 {
					t.Errorf("table %s has %d rows, want 1", name, len(got))
				}
			}
		})
	}
}

// TestFilesWriteTablesAtOnce loads a resource with a root and two child
// tables into the file destinations, which write a resource's tables at
// once: every row lands, and a bad value in one child fails the load with
// that table's name and leaves nothing committed or on disk.
func TestFilesWriteTablesAtOnce(t *testing.T) {
	ctx := context.Background()
	for _, dt := range destinations() {
		if dt.merge {
			continue // the SQL destinations write one table at a time
		}
		t.Run(dt.name, func(t *testing.T) {
			ds := destinationtest.Dataset(t)
			dir := t.TempDir()
			d := openURL(t, dt.name+":"+dir, ds)
			root := t.TempDir()
			orders := &schema.Table{Name: "orders", Resource: "orders", WriteDisposition: schema.Append, Columns: cols(schema.ColLoadID, schema.ColID, "n")}
			items := &schema.Table{Name: "orders__items", Parent: "orders", Resource: "orders", WriteDisposition: schema.Append, Columns: cols(schema.ColID, schema.ColParentID, "n")}
			tags := &schema.Table{Name: "orders__items__tags", Parent: "orders__items", Resource: "orders", WriteDisposition: schema.Append, Columns: cols(schema.ColID, schema.ColParentID, "v")}
			spec := func(loadID string, badItem bool) pkgSpec {
				s := pkgSpec{
					loadID: loadID, pipeline: "p1",
					resources: []spool.ResourceSummary{{ResourceTarget: spool.ResourceTarget{Name: "orders", Table: "orders", WriteDisposition: schema.Append}}},
					tables:    []*schema.Table{orders, items, tags},
					rows:      map[string][][]any{},
				}
				for i := range 3000 {
					id := fmt.Sprintf("%s-o%d", loadID, i)
					s.rows["orders"] = append(s.rows["orders"], []any{loadID, id, int64(i)})
					var n any = int64(i)
					if badItem && i == 2999 {
						n = "not a number"
					}
					s.rows["orders__items"] = append(s.rows["orders__items"], []any{id + "-i", id, n})
					s.rows["orders__items__tags"] = append(s.rows["orders__items__tags"], []any{id + "-t", id + "-i", "red"})
				}
				return s
			}
			res, err := load.Package(ctx, d, makePackage(t, root, ds, spec("1700000000.000001", false)))
			if err != nil {
				t.Fatal(err)
			}
			for _, table := range []string{"orders", "orders__items", "orders__items__tags"} {
				if res.Rows[table] != 3000 || len(readColumn(t, d, table, schema.ColID)) != 3000 {
					t.Errorf("%s: %d rows reported, %d read; want 3000", table, res.Rows[table], len(readColumn(t, d, table, schema.ColID)))
				}
			}
			_, err = load.Package(ctx, d, makePackage(t, root, ds, spec("1700000000.000002", true)))
			if err == nil || !strings.Contains(err.Error(), "orders__items") {
				t.Fatalf("load with a bad value = %v, want an error naming orders__items", err)
			}
			for _, table := range []string{"orders", "orders__items", "orders__items__tags"} {
				if got := len(readColumn(t, d, table, schema.ColID)); got != 3000 {
					t.Errorf("%s after the failed load: %d rows, want the first load's 3000", table, got)
				}
				if _, err := os.Stat(filepath.Join(dir, ds, table)); err != nil {
					t.Fatalf("table folder: %v", err)
				}
				left, _ := filepath.Glob(filepath.Join(dir, ds, table, ".tmp-*"))
				if len(left) != 0 {
					t.Errorf("%s: temporary files left after the failed load: %v", table, left)
				}
			}
		})
	}
}
