package normalize

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/restload/restload/internal/schema"
)

type emitted struct {
	table string
	row   []any
	ncols int
}

func collect(t *testing.T, n *Normalizer, recs []map[string]any) []emitted {
	t.Helper()
	var out []emitted
	for i, r := range recs {
		err := n.Normalize(r, func(tb *schema.Table, row []any) error {
			out = append(out, emitted{tb.Name, slices.Clone(row), len(tb.Columns)})
			return nil
		})
		if err != nil {
			t.Fatalf("record %d: %v", i+1, err)
		}
	}
	return out
}

func records(t testing.TB, js string) []map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	var recs []map[string]any
	if err := dec.Decode(&recs); err != nil {
		t.Fatal(err)
	}
	return recs
}

const sample = `[
 {"id": 1, "name": "a", "owner": {"email": "x@y", "memberId": "m1"}, "tags": ["t1", "t2"], "perms": [{"who": "m1", "scopes": ["r", "w"]}]},
 {"id": 2, "name": "b", "size": 10, "tags": ["t3"], "perms": [{"who": "m2", "scopes": []}, {"who": "m3", "extra": true}]},
 {"id": 3, "name": "c", "size": "big", "owner": {"email": null, "teamId": "t"}}
]`

func TestNormalizeIsDeterministic(t *testing.T) {
	run := func() ([]emitted, []byte) {
		s := &schema.Schema{Name: "d"}
		n, err := New(s, Spec{Resource: "files", PrimaryKey: []string{"id"}}, "1712345678.1")
		if err != nil {
			t.Fatal(err)
		}
		rows := collect(t, n, records(t, sample))
		js, _ := json.Marshal(s)
		return rows, js
	}
	rows0, schema0 := run()
	// Map iteration order differs between runs; the output must not.
	for i := 0; i < 20; i++ {
		rows, js := run()
		if !reflect.DeepEqual(rows, rows0) || string(js) != string(schema0) {
			t.Fatalf("run %d differs:\n%v\n%s\nvs\n%v\n%s", i, rows, js, rows0, schema0)
		}
	}
}

func TestRowsAreAlignedAndIdsSort(t *testing.T) {
	s := &schema.Schema{Name: "d"}
	n, err := New(s, Spec{Resource: "files", WriteDisposition: schema.Merge, PrimaryKey: []string{"id"}}, "load-a")
	if err != nil {
		t.Fatal(err)
	}
	rows := collect(t, n, records(t, sample))
	lastID := map[string]string{}
	idsSeen := map[string]bool{}
	for _, e := range rows {
		if len(e.row) != e.ncols {
			t.Errorf("%s: row has %d values for %d columns", e.table, len(e.row), e.ncols)
		}
		tb := s.Table(e.table)
		id := e.row[indexOf(tb, schema.ColID)].(string)
		if id <= lastID[e.table] {
			t.Errorf("%s: id %s does not sort after %s", e.table, id, lastID[e.table])
		}
		if idsSeen[id] {
			t.Errorf("id %s used twice", id)
		}
		idsSeen[id] = true
		lastID[e.table] = id
	}
	// Children point at their parent's and root's ids.
	var rootID, permID string
	for _, e := range rows {
		tb := s.Table(e.table)
		switch e.table {
		case "files":
			rootID = e.row[indexOf(tb, schema.ColID)].(string)
		case "files__perms":
			permID = e.row[indexOf(tb, schema.ColID)].(string)
			if e.row[indexOf(tb, schema.ColParentID)] != rootID {
				t.Errorf("perms row parent %v, want %s", e.row[indexOf(tb, schema.ColParentID)], rootID)
			}
		case "files__perms__scopes":
			if e.row[indexOf(tb, schema.ColParentID)] != permID || e.row[indexOf(tb, schema.ColRootID)] != rootID {
				t.Errorf("scopes row %v: want parent %s root %s", e.row, permID, rootID)
			}
		}
	}
	// A later load gives other ids; the same load gives the same ones.
	other, _ := New(&schema.Schema{}, Spec{Resource: "files", WriteDisposition: schema.Merge, PrimaryKey: []string{"id"}}, "load-b")
	again, _ := New(&schema.Schema{}, Spec{Resource: "files", WriteDisposition: schema.Merge, PrimaryKey: []string{"id"}}, "load-a")
	o := collect(t, other, records(t, sample))
	a := collect(t, again, records(t, sample))
	if o[0].row[indexOf(s.Table("files"), schema.ColID)] == rows[0].row[indexOf(s.Table("files"), schema.ColID)] {
		t.Error("two loads produced the same _dlt_id")
	}
	if !reflect.DeepEqual(a, rows) {
		t.Error("reprocessing with the same load id changed the rows")
	}
}

func indexOf(t *schema.Table, col string) int {
	for i, c := range t.Columns {
		if c.Name == col {
			return i
		}
	}
	return -1
}

func TestSecondRunReusesSchema(t *testing.T) {
	s := &schema.Schema{Name: "d"}
	spec := Spec{Resource: "files", PrimaryKey: []string{"id"}}
	n1, _ := New(s, spec, "load-1")
	collect(t, n1, records(t, sample))
	before := s.Clone()

	// Same data with every contract frozen: nothing is new, so no error,
	// and the existing variant size__v_text is reused.
	spec.Contract = Contract{Tables: Freeze, Columns: Freeze, DataType: Freeze}
	n2, _ := New(s, spec, "load-2")
	rows := collect(t, n2, records(t, sample))
	if changes := schema.Diff(before, s); len(changes) != 0 {
		t.Errorf("second run changed the schema: %+v", changes)
	}
	if len(rows) == 0 {
		t.Fatal("no rows")
	}
	// A new field now fails, naming table, column and record.
	err := n2.Normalize(map[string]any{"id": json.Number("9"), "fresh": "x"}, func(*schema.Table, []any) error { return nil })
	var ce *ContractError
	if !errors.As(err, &ce) || ce.Entity != "columns" || ce.Column != "fresh" || ce.Table != "files" || ce.Record != 4 {
		t.Fatalf("err = %v", err)
	}
	err = n2.Normalize(map[string]any{"id": json.Number("9"), "name": true}, func(*schema.Table, []any) error { return nil })
	if !errors.As(err, &ce) || ce.Entity != "data_type" || !strings.Contains(err.Error(), `a bool value does not fit column "name" (text) in table "files"`) {
		t.Fatalf("err = %v", err)
	}
	err = n2.Normalize(map[string]any{"id": json.Number("9"), "labels": []any{"x"}}, func(*schema.Table, []any) error { return nil })
	if !errors.As(err, &ce) || ce.Entity != "tables" || ce.Table != "files__labels" {
		t.Fatalf("err = %v", err)
	}
}

func TestMissingPrimaryKey(t *testing.T) {
	for _, tc := range []struct {
		resource string
		key      []string
		rec      map[string]any
		want     string // "" means the record has its key
	}{
		{"connections", []string{"id"}, map[string]any{"connectionId": "c1", "createdBy": "u", "name": "n", "id": nil},
			`resource "connections": record 1: no primary key "id"; fields that look like keys: connectionId (did you mean primary_key: connectionId?)`},
		// The field named after the resource comes first.
		{"datasets", []string{"id"}, map[string]any{"connectionId": "c1", "datasetId": "d1", "urlId": "u"},
			`resource "datasets": record 1: no primary key "id"; fields that look like keys: datasetId, connectionId, urlId (did you mean primary_key: datasetId?)`},
		{"members", []string{"id"}, map[string]any{"homeFolderId": "f", "name": "n"},
			`resource "members": record 1: no primary key "id"; fields that look like keys: homeFolderId`},
		{"members", []string{"id"}, map[string]any{"name": "n"},
			`resource "members": record 1: no primary key "id"; no field looks like a key`},
		// Composite keys name every missing part and suggest nothing.
		{"grants", []string{"fileId", "memberId"}, map[string]any{"teamId": "t", "grantId": "g"},
			`resource "grants": record 1: no primary key "fileId", "memberId"; fields that look like keys: grantId, teamId`},
		// A key given as dlt's column name finds the camelCase field.
		{"connections", []string{"connection_id"}, map[string]any{"connectionId": "c1"}, ""},
		{"files", []string{"owner.id"}, map[string]any{"owner": map[string]any{"id": "o"}}, ""},
		{"files", []string{"owner__id"}, map[string]any{"owner": map[string]any{"id": "o"}}, ""},
	} {
		n, _ := New(&schema.Schema{}, Spec{Resource: tc.resource, PrimaryKey: tc.key}, "l")
		err := n.Normalize(tc.rec, func(*schema.Table, []any) error {
			if tc.want != "" {
				t.Errorf("%s: emitted a row", tc.resource)
			}
			return nil
		})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s %v: %v", tc.resource, tc.key, err)
			}
			continue
		}
		var mk *MissingKeyError
		if !errors.As(err, &mk) {
			t.Errorf("%s: err = %v, want a *MissingKeyError", tc.resource, err)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("err = %q\nwant  %q", err, tc.want)
		}
	}
}

func TestNestedPrimaryKeyAndNotNull(t *testing.T) {
	no := false
	spec := Spec{Resource: "r", PrimaryKey: []string{"owner.id"}, Hints: map[string]schema.Hint{"name": {DataType: schema.Text, Nullable: &no}}}
	s := &schema.Schema{}
	n, err := New(s, spec, "l")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Normalize(map[string]any{"owner": map[string]any{"id": "o1"}, "name": "x"}, func(*schema.Table, []any) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if c := s.Table("r").Column("owner__id"); c == nil || !c.PrimaryKey || c.Nullable {
		t.Errorf("owner__id = %+v", c)
	}
	err = n.Normalize(map[string]any{"owner": map[string]any{"id": "o2"}}, func(*schema.Table, []any) error { return nil })
	var ne *NullError
	if !errors.As(err, &ne) || ne.Column != "name" {
		t.Errorf("err = %v", err)
	}
}

func TestEmitErrorStops(t *testing.T) {
	n, _ := New(&schema.Schema{}, Spec{Resource: "files"}, "l")
	boom := errors.New("disk full")
	calls := 0
	err := n.Normalize(records(t, sample)[0], func(*schema.Table, []any) error { calls++; return boom })
	if !errors.Is(err, boom) || calls != 1 {
		t.Errorf("err = %v after %d calls", err, calls)
	}
}

func TestNewRejectsBadSpecs(t *testing.T) {
	neg := -1
	tests := map[string]Spec{
		"no resource":  {},
		"bad mode":     {Resource: "r", Contract: Contract{Columns: "strict"}},
		"bad dispo":    {Resource: "r", WriteDisposition: "upsert"},
		"bad nesting":  {Resource: "r", MaxNesting: &neg},
		"bad datatype": {Resource: "r", Hints: map[string]schema.Hint{"x": {DataType: "wei"}}},
	}
	for name, spec := range tests {
		if _, err := New(&schema.Schema{}, spec, "l"); err == nil {
			t.Errorf("%s: New accepted %+v", name, spec)
		}
	}
	if _, err := New(&schema.Schema{}, Spec{Resource: "r"}, ""); err == nil {
		t.Error("New accepted an empty load id")
	}
}

func TestSharedSchemaSerialized(t *testing.T) {
	// Two resources writing to one table through one schema, one at a time.
	s := &schema.Schema{}
	a, _ := New(s, Spec{Resource: "a", Table: "events"}, "l")
	b, _ := New(s, Spec{Resource: "b", Table: "events"}, "l")
	var rows []emitted
	emit := func(tb *schema.Table, row []any) error {
		rows = append(rows, emitted{tb.Name, slices.Clone(row), len(tb.Columns)})
		return nil
	}
	if err := a.Normalize(map[string]any{"x": json.Number("1")}, emit); err != nil {
		t.Fatal(err)
	}
	if err := b.Normalize(map[string]any{"y": "2", "x": json.Number("3")}, emit); err != nil {
		t.Fatal(err)
	}
	if err := a.Normalize(map[string]any{"x": json.Number("4"), "y": "5"}, emit); err != nil {
		t.Fatal(err)
	}
	tb := s.Table("events")
	if got := fmt.Sprint(columnNames(tb)); got != "[x _dlt_load_id _dlt_id y]" {
		t.Errorf("columns %s", got)
	}
	if last := rows[2].row; len(last) != 4 || last[3] != "5" || last[0] != int64(4) {
		t.Errorf("last row %v", last)
	}
	if rows[1].row[2] == rows[0].row[2] {
		t.Error("two resources gave the same _dlt_id")
	}
}

// TestReusedRowsDoNotLeak checks that a row's values do not show up in the
// table's next row, whose slice the Normalizer reuses.
func TestReusedRowsDoNotLeak(t *testing.T) {
	n, err := New(&schema.Schema{}, Spec{Resource: "r"}, "l")
	if err != nil {
		t.Fatal(err)
	}
	recs := []map[string]any{
		{"a": "1", "b": "2", "l": []any{map[string]any{"x": "x1", "y": "y1"}, map[string]any{"x": "x2"}}},
		{"a": "3", "l": []any{map[string]any{"y": "y3"}}},
	}
	got := map[string][]string{}
	for _, e := range collect(t, n, recs) {
		var vals []string
		for i, v := range e.row {
			if c := n.s.Table(e.table).Columns[i]; !c.System && v != nil {
				vals = append(vals, c.Name+"="+v.(string))
			}
		}
		got[e.table] = append(got[e.table], strings.Join(vals, " "))
	}
	want := map[string][]string{
		"r":    {"a=1 b=2", "a=3"},
		"r__l": {"x=x1 y=y1", "x=x2", "y=y3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
}

func columnNames(t *schema.Table) []string {
	var out []string
	for _, c := range t.Columns {
		out = append(out, c.Name)
	}
	return out
}

// benchRecord is shaped like a Sigma API file entry: flat fields with
// timestamps, a nested owner object, a list of scalars and a list of
// objects with a nested list.
const benchRecord = `{
 "id": "4f1c2a9e-7b7d-4c53-9d1e-1f2a3b4c5d6e", "urlId": "2XjhQk9sd8f7", "name": "Quarterly revenue",
 "type": "workbook", "parentId": "a9e7b7d4-c539-d1e1-f2a3-b4c5d6e4f1c2", "path": "My Documents/Finance",
 "isArchived": false, "badge": null, "sizeBytes": 123456, "score": 0.87,
 "createdBy": "member-17", "updatedBy": "member-42",
 "createdAt": "2024-03-01T10:20:30.123Z", "updatedAt": "2024-05-01T11:22:33.456Z",
 "owner": {"memberId": "member-17", "email": "owner@example.com", "firstName": "Ann", "lastName": "Lee",
           "team": {"teamId": "team-3", "name": "Finance"}},
 "tags": ["finance", "quarterly", "revenue"],
 "permissions": [
   {"memberId": "member-42", "role": "edit", "scopes": ["read", "write"]},
   {"memberId": "member-43", "role": "view", "scopes": ["read"]}
 ]
}`

func BenchmarkNormalize(b *testing.B) {
	dec := json.NewDecoder(strings.NewReader(benchRecord))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil {
		b.Fatal(err)
	}
	n, err := New(&schema.Schema{}, Spec{Resource: "files", PrimaryKey: []string{"id"}, WriteDisposition: schema.Merge}, "1712345678.123")
	if err != nil {
		b.Fatal(err)
	}
	rows := 0
	emit := func(*schema.Table, []any) error { rows++; return nil }
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := n.Normalize(rec, emit); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(rows)/float64(b.N), "rows/record")
}
