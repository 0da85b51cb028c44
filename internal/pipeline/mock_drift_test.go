package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/paginate"
	"github.com/restload/restload/internal/pipeline"
	"github.com/restload/restload/internal/schema"
)

// TestMockRecordsLoseNoValue loads the mock API, whose sizeBytes is a
// string in some records and version a float in some, and whose records do
// not all have the same fields, and checks that every scalar value of every
// record (nested objects flattened) is in its row: in the field's column or
// in one of its variant columns.
func TestMockRecordsLoseNoValue(t *testing.T) {
	ctx := context.Background()
	const records = 120 // sizeBytes drifts at 37 and 87; version at 23, 63 and 103
	api, err := mockapi.Start(ctx, "127.0.0.1:0", mockapi.Options{Records: records})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	dir := t.TempDir()
	dest := "duckdb:" + filepath.Join(dir, "mock.duckdb")
	sum, err := pipeline.Run(ctx, examplePipeline(t, api), pipeline.Options{Destination: dest, WorkDir: filepath.Join(dir, "work")})
	if err != nil {
		t.Fatal(err)
	}
	d, err := destination.Open(ctx, dest, "analytics")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sch, err := load.StoredSchema(ctx, d)
	if err != nil {
		t.Fatal(err)
	}

	variantValues := map[string]int64{}
	for _, r := range sum.Resources {
		variantValues[r.Name] = r.VariantValues
	}
	// The drifting values, by resource and variant column.
	wantVariants := map[string]map[string]int{
		"files":     {"size_bytes__v_text": 2},
		"datasets":  {"size_bytes__v_text": 2},
		"templates": {"version__v_double": 3},
		"workbooks": {"size_bytes__v_text": 2, "version__v_double": 3},
	}
	for _, res := range api.Server.Resources() {
		n := api.Server.Count(res)
		tb := sch.Table(res)
		if n == 0 || tb == nil {
			continue
		}
		rows := map[string]map[string]any{}
		err := d.Read(ctx, res, func(row map[string]any) error {
			rows[fmt.Sprint(row["id"])] = row
			return nil
		})
		if err != nil {
			t.Fatalf("read %s: %v", res, err)
		}
		if len(rows) != n {
			t.Errorf("%s: %d rows, want %d", res, len(rows), n)
		}
		gotVariants := map[string]int{}
		checked := 0
		for i := 0; i < n; i++ {
			rec := api.Server.Record(res, i)
			row := rows[fmt.Sprint(rec["id"])]
			if row == nil {
				t.Errorf("%s: record %d (id %v) has no row", res, i, rec["id"])
				continue
			}
			for _, fv := range flatten(nil, rec) {
				col, ok := findValue(tb, row, fv.path, fv.v)
				if !ok {
					t.Errorf("%s: record %d: value %v of %s is in no column of its row", res, i, fv.v, strings.Join(fv.path, "."))
					continue
				}
				checked++
				if c := tb.Column(col); c.VariantOf != "" {
					gotVariants[col]++
				}
			}
		}
		want := wantVariants[res]
		if fmt.Sprint(gotVariants) != fmt.Sprint(want) {
			t.Errorf("%s: values found in variant columns %v, want %v", res, gotVariants, want)
		}
		var total int64
		for _, k := range want {
			total += int64(k)
		}
		if variantValues[res] != total {
			t.Errorf("%s: run summary counts %d variant values, want %d", res, variantValues[res], total)
		}
		if checked < n*5 {
			t.Errorf("%s: only %d values checked for %d records: the test is not looking", res, checked, n)
		}
	}
}

type fieldValue struct {
	path []string
	v    any
}

// flatten lists the scalar values of rec under their field paths, the way
// normalize flattens objects; lists (child tables) are left out.
func flatten(prefix []string, rec map[string]any) []fieldValue {
	var out []fieldValue
	for k, v := range rec {
		p := append(append([]string(nil), prefix...), k)
		switch x := v.(type) {
		case nil, []any:
		case map[string]any:
			out = append(out, flatten(p, x)...)
		default:
			out = append(out, fieldValue{p, v})
		}
	}
	return out
}

// findValue returns the column of row (the field's own or one of its
// variants) that holds v.
func findValue(tb *schema.Table, row map[string]any, path []string, v any) (string, bool) {
	name := schema.ColumnPath(path...)
	for _, c := range tb.Columns {
		if c.Name != name && c.VariantOf != name {
			continue
		}
		if sameValue(v, row[c.Name]) {
			return c.Name, true
		}
	}
	return "", false
}

// sameValue compares a value decoded from the API's JSON with one read back
// from the destination.
func sameValue(api, db any) bool {
	switch a := api.(type) {
	case string:
		switch b := db.(type) {
		case string:
			return a == b
		case time.Time:
			at, err := time.Parse(time.RFC3339Nano, a)
			return err == nil && at.Equal(b)
		}
	case float64:
		switch b := db.(type) {
		case int64:
			return float64(b) == a
		case float64:
			return b == a
		case string:
			f, err := strconv.ParseFloat(b, 64)
			return err == nil && f == a
		}
	case bool:
		return db == a
	}
	return false
}

// TestSigmaKeysMissing runs the seed pipeline (primary_key: id) against
// the mock in Sigma's flavor, whose records are keyed connectionId,
// memberId and so on: each such resource fails naming its key candidates,
// before any of its rows is loaded; files, keyed id, loads.
func TestSigmaKeysMissing(t *testing.T) {
	ctx := context.Background()
	api, err := mockapi.Start(ctx, "127.0.0.1:0", mockapi.Options{Flavor: mockapi.FlavorSigma, Records: 30})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	dir := t.TempDir()
	dest := "duckdb:" + filepath.Join(dir, "sigma.duckdb")
	p := examplePipeline(t, api)
	for i := range p.Source.Resources {
		// Sigma pages with an opaque nextPage token.
		p.Source.Resources[i].Endpoint.Paginator = &config.Paginator{Config: paginate.Config{Type: "cursor", CursorPath: "nextPage", CursorParam: "page"}}
	}
	sum, err := pipeline.Run(ctx, p, pipeline.Options{Destination: dest, WorkDir: filepath.Join(dir, "work")})
	const want = `7 resources failed:
  resource connections: page 1: record 1: no primary key "id"; fields that look like keys: connectionId (did you mean primary_key: connectionId?)
  resource datasets: page 1: record 1: no primary key "id"; fields that look like keys: datasetId, connectionId, urlId (did you mean primary_key: datasetId?)
  resource members: page 1: record 1: no primary key "id"; fields that look like keys: memberId, homeFolderId (did you mean primary_key: memberId?)
  resource teams: page 1: record 1: no primary key "id"; fields that look like keys: teamId (did you mean primary_key: teamId?)
  resource templates: page 1: record 1: no primary key "id"; fields that look like keys: templateId, urlId (did you mean primary_key: templateId?)
  resource workbooks: page 1: record 1: no primary key "id"; fields that look like keys: workbookId, workbookUrlId (did you mean primary_key: workbookId?)
  resource workspaces: page 1: record 1: no primary key "id"; fields that look like keys: workspaceId (did you mean primary_key: workspaceId?)`
	var pe *pipeline.Error
	if !errors.As(err, &pe) || err.Error() != want {
		t.Fatalf("error:\n%v\nwant a *pipeline.Error:\n%s", err, want)
	}
	d, err := destination.Open(ctx, dest, "analytics")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// Only files was loaded; no table of a failed resource exists.
	if got := readKeys(t, d, "files", "id"); len(got) != 30 {
		t.Errorf("files has %d rows, want 30", len(got))
	}
	for _, r := range sum.Resources {
		if r.Name == "files" {
			continue
		}
		err := d.Read(ctx, r.Name, func(map[string]any) error { return nil })
		if !errors.Is(err, destination.ErrNoTable) {
			t.Errorf("%s: table read gave %v, want no table", r.Name, err)
		}
	}
}
