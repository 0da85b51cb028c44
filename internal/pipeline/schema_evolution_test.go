package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	_ "github.com/restload/restload/internal/destination/postgres"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/normalize"
	"github.com/restload/restload/internal/pipeline"
	"github.com/restload/restload/internal/schema"
)

// driftAPI serves, for each resource, the records of the current phase as
// a bare JSON list. Tests set the phase between loads.
type driftAPI struct {
	phase  atomic.Int32
	phases []map[string]string // phase -> resource -> JSON list
}

func (a *driftAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := a.phases[a.phase.Load()][strings.TrimPrefix(r.URL.Path, "/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, body)
}

// The records change from load to load the way real APIs do.
var driftPhases = []map[string]string{
	// Load 1: the shape restload first sees.
	{
		"files": `[
			{"id": 1, "name": "a", "sizeBytes": 100, "owner": "ann", "tags": ["x", "y"]},
			{"id": 2, "name": "b", "sizeBytes": 200, "owner": "bob", "tags": []}]`,
		"grants": `[
			{"fileId": 1, "memberId": "m1", "role": "view"},
			{"fileId": 1, "memberId": "m2", "role": "edit"}]`,
	},
	// Load 2: a field appears (createdAt), a type drifts (sizeBytes int ->
	// string), a scalar becomes an object (owner) and a list of scalars
	// gains objects (tags).
	{
		"files": `[
			{"id": 1, "name": "a2", "sizeBytes": "12 KB", "createdAt": "2024-05-01T10:00:00Z",
			 "owner": {"name": "ann", "email": "ann@example.com"},
			 "tags": [{"k": "env", "v": "prod"}, "z"]},
			{"id": 3, "name": "c", "sizeBytes": 300, "owner": "carl", "tags": ["q"]}]`,
		"grants": `[
			{"fileId": 1, "memberId": "m1", "role": "admin"},
			{"fileId": 2, "memberId": "m1", "role": "view"}]`,
	},
	// Load 3: a key goes missing in files; grants gains a field.
	{
		"files": `[
			{"id": 5, "name": "e", "color": "red"},
			{"fileId": 4, "ownerId": "m9", "name": "d"}]`,
		"grants": `[
			{"fileId": 3, "memberId": "m2", "role": "view", "expiresAt": "2025-01-01"}]`,
	},
}

const driftPipeline = `pipeline: {name: drift, dataset: %s}
source:
  client:
    base_url: %s
    paginator: single_page
  resources:
    - name: files
      primary_key: id
      write_disposition: merge%s
    - name: grants
      primary_key: [fileId, memberId]
      write_disposition: merge
`

type driftEnv struct {
	api     *driftAPI
	srv     *httptest.Server
	dest    string
	dataset string
	work    string
}

func (e *driftEnv) run(t *testing.T, phase int, extra string) (*pipeline.Summary, error) {
	t.Helper()
	e.api.phase.Store(int32(phase))
	src := fmt.Sprintf(driftPipeline, e.dataset, e.srv.URL, extra)
	p, err := config.Parse(filepath.Join(e.work, "drift.yaml"), []byte(src), config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return pipeline.Run(context.Background(), p, pipeline.Options{Destination: e.dest, WorkDir: e.work})
}

// rows reads table as "col=value" strings per row (nulls left out), sorted.
func tableRows(t *testing.T, d destination.Destination, table string, cols ...string) []string {
	t.Helper()
	var out []string
	err := d.Read(context.Background(), table, func(row map[string]any) error {
		var parts []string
		for _, c := range cols {
			v := row[c]
			if v == nil { // null, or a column the table does not have
				continue
			}
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC().Format(time.RFC3339)
			}
			parts = append(parts, fmt.Sprintf("%s=%v", c, v))
		}
		out = append(out, strings.Join(parts, " "))
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	sort.Strings(out)
	return out
}

func keys(row map[string]any) []string {
	var ks []string
	for k := range row {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func describeChanges(cs []schema.Change) []string {
	var out []string
	for _, c := range cs {
		if c.Kind == schema.AddTable {
			out = append(out, "table "+c.Table.Name)
		} else {
			out = append(out, fmt.Sprintf("column %s.%s %s", c.Table.Name, c.Column.Name, c.Column.Type))
		}
	}
	return out
}

// driftDestinations are the destinations the evolution tests run against:
// a DuckDB file, and PostgreSQL and MySQL when they are reachable.
func driftDestinations(t *testing.T) map[string]func(t *testing.T) (url, dataset string) {
	return map[string]func(t *testing.T) (string, string){
		"duckdb": func(t *testing.T) (string, string) {
			return "duckdb:" + filepath.Join(t.TempDir(), "drift.duckdb"), "drift"
		},
		"postgres": func(t *testing.T) (string, string) {
			url := destinationtest.PostgresURL(t)
			dataset := destinationtest.Dataset(t)
			destinationtest.DropOnCleanup(t, url, dataset)
			return url, dataset
		},
		"mysql": func(t *testing.T) (string, string) {
			url := destinationtest.MySQLURL(t)
			dataset := destinationtest.Dataset(t)
			destinationtest.DropMySQLOnCleanup(t, url, dataset)
			return url, dataset
		},
	}
}

func newDriftEnv(t *testing.T, open func(t *testing.T) (string, string)) *driftEnv {
	api := &driftAPI{phases: driftPhases}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	url, dataset := open(t)
	return &driftEnv{api: api, srv: srv, dest: url, dataset: dataset, work: t.TempDir()}
}

// state is what a user sees in the destination after a load.
type state struct {
	columns  map[string][]string // table -> "name type" from the stored schema
	dbCols   map[string][]string // table -> column names the table really has
	versions []string            // "vN: change, change"
	lastLoad string              // the load id stored with the newest version
	files    []string
	tags     []string
	grants   []string
}

func (e *driftEnv) state(t *testing.T) state {
	t.Helper()
	ctx := context.Background()
	d, err := destination.Open(ctx, e.dest, e.dataset)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var st state
	vs, err := load.Versions(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		st.versions = append(st.versions, fmt.Sprintf("v%d: %s", v.Version, strings.Join(describeChanges(v.Changes), ", ")))
	}
	sch := vs[len(vs)-1].Schema
	st.lastLoad = vs[len(vs)-1].LoadID
	st.columns, st.dbCols = map[string][]string{}, map[string][]string{}
	for _, tb := range sch.Tables {
		for _, c := range tb.Columns {
			desc := c.Name + " " + string(c.Type)
			if c.PrimaryKey {
				desc += " pk"
			}
			if c.VariantOf != "" {
				desc += " variant of " + c.VariantOf
			}
			st.columns[tb.Name] = append(st.columns[tb.Name], desc)
		}
		err := d.Read(ctx, tb.Name, func(row map[string]any) error {
			st.dbCols[tb.Name] = keys(row)
			return nil
		})
		if err != nil {
			t.Fatalf("read %s: %v", tb.Name, err)
		}
	}
	st.files = tableRows(t, d, "files", "id", "name", "owner", "owner__name", "owner__email", "size_bytes", "size_bytes__v_text", "created_at")
	// Child rows name their parent by its id, so the test reads the link.
	ids := map[string]string{}
	err = d.Read(ctx, "files", func(row map[string]any) error {
		ids[row[schema.ColID].(string)] = fmt.Sprint(row["id"])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Read(ctx, "files__tags", func(row map[string]any) error {
		parent, root := ids[fmt.Sprint(row[schema.ColParentID])], ids[fmt.Sprint(row[schema.ColRootID])]
		if parent == "" || root != parent {
			return fmt.Errorf("files__tags row %v: parent %q and root %q are not one files row", row, parent, root)
		}
		s := fmt.Sprintf("file=%s idx=%v", parent, row[schema.ColListIdx])
		for _, c := range []string{"value", "k", "v"} {
			if v := row[c]; v != nil {
				s += fmt.Sprintf(" %s=%v", c, v)
			}
		}
		st.tags = append(st.tags, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(st.tags)
	st.grants = tableRows(t, d, "grants", "file_id", "member_id", "role", "expires_at")
	return st
}

func sameList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n  got  %q\n  want %q", what, got, want)
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

// TestSchemaEvolutionThreeLoads runs three loads against an API whose
// records change between them and checks what the destination holds after
// each: tables, columns and their types, variant columns and their values,
// the stored schema versions and, when a key goes missing, the error.
func TestSchemaEvolutionThreeLoads(t *testing.T) {
	for name, open := range driftDestinations(t) {
		t.Run(name, func(t *testing.T) {
			e := newDriftEnv(t, open)

			// Load 1.
			sum, err := e.run(t, 0, "")
			if err != nil {
				t.Fatalf("load 1: %v", err)
			}
			st := e.state(t)
			sameList(t, "load 1: versions", st.versions, []string{"v2: table files, table files__tags, table grants"})
			sameList(t, "load 1: files columns", st.columns["files"], []string{
				"id bigint pk", "name text", "owner text", "size_bytes bigint", "_dlt_load_id text", "_dlt_id text"})
			sameList(t, "load 1: files__tags columns", st.columns["files__tags"], []string{
				"value text", "_dlt_root_id text", "_dlt_parent_id text", "_dlt_list_idx bigint", "_dlt_id text"})
			sameList(t, "load 1: grants columns", st.columns["grants"], []string{
				"file_id bigint pk", "member_id text pk", "role text", "_dlt_load_id text", "_dlt_id text"})
			sameList(t, "load 1: files", st.files, []string{
				"id=1 name=a owner=ann size_bytes=100", "id=2 name=b owner=bob size_bytes=200"})
			sameList(t, "load 1: files__tags", st.tags, []string{"file=1 idx=0 value=x", "file=1 idx=1 value=y"})
			if sum.SchemaVersion != 2 || st.lastLoad != sum.LoadID {
				t.Errorf("load 1: summary schema version %d, want 2 (dlt stores a new schema as version 2), stored with load %s, want %s", sum.SchemaVersion, st.lastLoad, sum.LoadID)
			}

			// Load 2: a new field, a drifting type, deeper nesting.
			sum, err = e.run(t, 1, "")
			if err != nil {
				t.Fatalf("load 2: %v", err)
			}
			st = e.state(t)
			sameList(t, "load 2: versions", st.versions, []string{
				"v2: table files, table files__tags, table grants",
				"v3: column files.created_at timestamp, column files.owner__email text, column files.owner__name text, " +
					"column files.size_bytes__v_text text, column files__tags.k text, column files__tags.v text"})
			sameList(t, "load 2: files columns", st.columns["files"], []string{
				"id bigint pk", "name text", "owner text", "size_bytes bigint", "_dlt_load_id text", "_dlt_id text",
				"created_at timestamp", "owner__email text", "owner__name text", "size_bytes__v_text text variant of size_bytes"})
			sameList(t, "load 2: files table in the database", st.dbCols["files"], sortedCopy([]string{
				"id", "name", "owner", "size_bytes", "_dlt_load_id", "_dlt_id",
				"created_at", "owner__email", "owner__name", "size_bytes__v_text"}))
			sameList(t, "load 2: files", st.files, []string{
				// The string size went to the variant column; the
				// object owner was flattened beside the old text column.
				"id=1 name=a2 owner__name=ann owner__email=ann@example.com size_bytes__v_text=12 KB created_at=2024-05-01T10:00:00Z",
				"id=2 name=b owner=bob size_bytes=200",
				"id=3 name=c owner=carl size_bytes=300"})
			// The list of scalars gained objects: their fields became
			// columns of the same child table, file 1's old tags replaced.
			sameList(t, "load 2: files__tags", st.tags, []string{
				"file=1 idx=0 k=env v=prod", "file=1 idx=1 value=z", "file=3 idx=0 value=q"})
			// Merged on the composite key (file_id, member_id).
			sameList(t, "load 2: grants", st.grants, []string{
				"file_id=1 member_id=m1 role=admin", "file_id=1 member_id=m2 role=edit", "file_id=2 member_id=m1 role=view"})
			if fs := sum.Resources[0]; fs.Name != "files" || fs.Variants != 1 || fs.VariantValues != 1 {
				t.Errorf("load 2: files summary %+v, want 1 variant column holding 1 value", fs)
			}
			if sum.SchemaVersion != 3 || st.lastLoad != sum.LoadID {
				t.Errorf("load 2: summary schema version %d, want 3, stored with load %s, want %s", sum.SchemaVersion, st.lastLoad, sum.LoadID)
			}

			// Load 3: files' second record has no id. files fails before
			// anything of it is loaded; grants loads.
			sum, err = e.run(t, 2, "")
			var pe *pipeline.Error
			if !errors.As(err, &pe) {
				t.Fatalf("load 3: error %v, want a *pipeline.Error", err)
			}
			const wantErr = `resource files: page 1: record 2: no primary key "id"; fields that look like keys: fileId, ownerId (did you mean primary_key: fileId?)`
			if err.Error() != wantErr {
				t.Errorf("load 3: error\n  %s\nwant\n  %s", err, wantErr)
			}
			var mk *normalize.MissingKeyError
			if !errors.As(err, &mk) || mk.Resource != "files" {
				t.Errorf("load 3: error %v does not wrap a *normalize.MissingKeyError for files", err)
			}
			if sum.Resources[0].Status != "failed" || sum.Resources[1].Status != "loaded" {
				t.Errorf("load 3: statuses %s, %s; want failed, loaded", sum.Resources[0].Status, sum.Resources[1].Status)
			}
			prev := st
			st = e.state(t)
			sameList(t, "load 3: versions", st.versions, append(prev.versions, "v4: column grants.expires_at date"))
			if st.lastLoad != sum.LoadID {
				t.Errorf("load 3: version 4 stored with load %s, want %s", st.lastLoad, sum.LoadID)
			}
			sameList(t, "load 3: files (unchanged)", st.files, prev.files)
			sameList(t, "load 3: files__tags (unchanged)", st.tags, prev.tags)
			sameList(t, "load 3: files columns (no color)", st.columns["files"], prev.columns["files"])
			sameList(t, "load 3: files table in the database (no color)", st.dbCols["files"], prev.dbCols["files"])
			sameList(t, "load 3: grants", st.grants, []string{
				"file_id=1 member_id=m1 role=admin", "file_id=1 member_id=m2 role=edit", "file_id=2 member_id=m1 role=view",
				"file_id=3 member_id=m2 role=view expires_at=2025-01-01T00:00:00Z"})
		})
	}
}

// TestSchemaContractFreeze loads once, then loads records with new columns
// and a drifting type under schema_contract: freeze: the resource fails
// naming the table, the column and the record, and nothing of it is loaded.
func TestSchemaContractFreeze(t *testing.T) {
	e := newDriftEnv(t, driftDestinations(t)["duckdb"])
	if _, err := e.run(t, 0, ""); err != nil {
		t.Fatalf("load 1: %v", err)
	}
	before := e.state(t)
	_, err := e.run(t, 1, "\n      schema_contract: freeze")
	const wantErr = `resource files: page 1: record 1 (id 1): schema contract freezes columns: new column "created_at" in table "files"`
	if err == nil || err.Error() != wantErr {
		t.Fatalf("load 2: error\n  %v\nwant\n  %s", err, wantErr)
	}
	var ce *normalize.ContractError
	if !errors.As(err, &ce) || ce.Table != "files" || ce.Column != "created_at" || ce.Record != 1 {
		t.Errorf("load 2: error does not carry table, column and record: %#v", ce)
	}
	after := e.state(t)
	sameList(t, "files", after.files, before.files)
	sameList(t, "files__tags", after.tags, before.tags)
	sameList(t, "versions", after.versions, before.versions)
	sameList(t, "files columns", after.dbCols["files"], before.dbCols["files"])

	// A frozen data type alone: the drifting value is named too.
	e.api.phases = append(e.api.phases, map[string]string{
		"files":  `[{"id": 2, "name": "b", "sizeBytes": "2 KB", "owner": "bob", "tags": []}]`,
		"grants": `[]`,
	})
	_, err = e.run(t, 3, "\n      schema_contract: {data_type: freeze}")
	const wantType = `resource files: page 1: record 1 (id 2): schema contract freezes data_type: a text value does not fit column "size_bytes" (bigint) in table "files"`
	if err == nil || err.Error() != wantType {
		t.Fatalf("load 3: error\n  %v\nwant\n  %s", err, wantType)
	}
	sameList(t, "files after load 3", e.state(t).files, before.files)
}

// TestSchemaContractDiscard counts what discard_row and discard_value drop
// in the run summary.
func TestSchemaContractDiscard(t *testing.T) {
	for _, tc := range []struct {
		mode         string
		rows, values int64
		wantFiles    []string
		wantTags     []string
	}{
		// Record 1 brings new columns and a drifting type: its row (and
		// so its tags) goes; record 3 fits and loads.
		{"discard_row", 1, 0, []string{
			"id=1 name=a owner=ann size_bytes=100", "id=2 name=b owner=bob size_bytes=200",
			"id=3 name=c owner=carl size_bytes=300"},
			[]string{"file=1 idx=0 value=x", "file=1 idx=1 value=y", "file=3 idx=0 value=q"}},
		// Only the values that do not fit go: created_at, owner's two
		// fields, the text size, and the tag object's k and v.
		{"discard_value", 0, 6, []string{
			"id=1 name=a2", "id=2 name=b owner=bob size_bytes=200", "id=3 name=c owner=carl size_bytes=300"},
			[]string{"file=1 idx=0", "file=1 idx=1 value=z", "file=3 idx=0 value=q"}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			e := newDriftEnv(t, driftDestinations(t)["duckdb"])
			if _, err := e.run(t, 0, ""); err != nil {
				t.Fatalf("load 1: %v", err)
			}
			sum, err := e.run(t, 1, "\n      schema_contract: {tables: evolve, columns: "+tc.mode+", data_type: "+tc.mode+"}")
			if err != nil {
				t.Fatalf("load 2: %v", err)
			}
			fs := sum.Resources[0]
			if fs.DiscardedRows != tc.rows || fs.DiscardedValues != tc.values {
				t.Errorf("summary: %d rows and %d values discarded, want %d and %d", fs.DiscardedRows, fs.DiscardedValues, tc.rows, tc.values)
			}
			st := e.state(t)
			sameList(t, "files", st.files, tc.wantFiles)
			sameList(t, "files__tags", st.tags, tc.wantTags)
			// Nothing was added, so the schema did not change.
			sameList(t, "versions", st.versions, []string{"v2: table files, table files__tags, table grants"})
		})
	}
}

// TestColumnHintsAndNestingFromConfig checks that a resource's columns:
// hints, max_table_nesting and merge_key reach the tables.
func TestColumnHintsAndNestingFromConfig(t *testing.T) {
	e := newDriftEnv(t, driftDestinations(t)["duckdb"])
	const extra = `
      max_table_nesting: 0
      merge_key: name
      columns:
        size_bytes: {data_type: text}
        createdAt: {data_type: timestamp, nullable: true}`
	for phase := 0; phase < 2; phase++ {
		sum, err := e.run(t, phase, extra)
		if err != nil {
			t.Fatalf("load %d: %v", phase+1, err)
		}
		// The hint absorbs the size drift; owner, text in load 1, is an
		// object kept whole in load 2, and json does not fit text.
		if fs := sum.Resources[0]; fs.Variants != int64(phase) {
			t.Errorf("load %d: %d variant columns, want %d: %+v", phase+1, fs.Variants, phase, sum.Resources)
		}
	}
	ctx := context.Background()
	d, err := destination.Open(ctx, e.dest, e.dataset)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sch, err := load.StoredSchema(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tb := range sch.Tables {
		for _, c := range tb.Columns {
			if c.System {
				continue
			}
			desc := tb.Name + "." + c.Name + " " + string(c.Type)
			if c.MergeKey {
				desc += " merge key"
			}
			got = append(got, desc)
		}
	}
	// Hinted columns come first: they exist before any value is seen (the
	// hint size_bytes is the column of the field sizeBytes). With
	// max_table_nesting 0, owner and tags stay whole, as json, and no
	// child table is made.
	sameList(t, "columns", got, []string{
		"files.created_at timestamp", "files.size_bytes text", "files.id bigint", "files.name text merge key",
		"files.owner text", "files.tags json", "files.owner__v_json json",
		"grants.file_id bigint", "grants.member_id text", "grants.role text"})
	rows := tableRows(t, d, "files", "id", "size_bytes", "owner", "owner__v_json", "tags")
	sameList(t, "files", rows, []string{
		`id=1 size_bytes=12 KB owner__v_json={"email":"ann@example.com","name":"ann"} tags=[{"k":"env","v":"prod"},"z"]`,
		`id=2 size_bytes=200 owner=bob tags=[]`,
		`id=3 size_bytes=300 owner=carl tags=["q"]`})
}

// TestNameCollisionWarning loads records with two fields that normalize to
// one name: both keep their values, in distinct columns, and the rename is
// in the run summary and the log.
func TestNameCollisionWarning(t *testing.T) {
	e := newDriftEnv(t, driftDestinations(t)["duckdb"])
	e.api.phases = []map[string]string{{
		"files":  `[{"id": 1, "user_name": "exact", "userName": "camel"}, {"id": 2, "userName": "camel2"}]`,
		"grants": `[]`,
	}}
	var logs strings.Builder
	src := fmt.Sprintf(driftPipeline, e.dataset, e.srv.URL, "")
	p, err := config.Parse(filepath.Join(e.work, "drift.yaml"), []byte(src), config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := pipeline.Run(context.Background(), p, pipeline.Options{
		Destination: e.dest, WorkDir: e.work,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	const warning = `source "userName" in table "files" is named column "user_name_1" because "user_name" is already taken by "user_name"`
	if ws := sum.Resources[0].Warnings; len(ws) != 1 || ws[0] != warning {
		t.Errorf("summary warnings %q, want %q", ws, warning)
	}
	// The text handler quotes the message.
	if !strings.Contains(logs.String(), "msg="+strconv.Quote(warning)+" resource=files") {
		t.Errorf("log lacks the rename warning for files:\n%s", logs.String())
	}
	ctx := context.Background()
	d, err := destination.Open(ctx, e.dest, e.dataset)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sameList(t, "files", tableRows(t, d, "files", "id", "user_name", "user_name_1"), []string{
		"id=1 user_name=exact user_name_1=camel", "id=2 user_name_1=camel2"})
}
