package pipeline_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/pipeline"
)

// dltDataTypes are the data types dlt 1.26 accepts in a stored schema
// (dlt/common/schema/typing.py, TDataType).
var dltDataTypes = []string{"text", "double", "bool", "timestamp", "bigint", "binary", "json", "decimal", "wei", "date", "time"}

// TestNewDatasetReadableByDLT: the bookkeeping restload writes into a new
// DuckDB dataset has what dlt's next run reads, checked apart from
// restload's own codec: the stored schema has dlt's top-level keys, every
// table a name and columns, every column a name, one of dlt's data types
// and nullability, root tables their resource and write disposition, and
// its bookkeeping tables; the state decodes with dlt's steps, carries
// dlt's keys and the cursor where dlt's incremental looks for it; the
// load row has status 0 and the schema's hash.
func TestNewDatasetReadableByDLT(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"items": [{"id": "a", "updated_at": "2024-01-01T00:00:00Z", "tags": ["x"], "owner": {"name": "n"}}]}`))
	}))
	defer srv.Close()
	dest := "duckdb:" + filepath.Join(t.TempDir(), "r.duckdb")
	if _, err := pipeline.Run(context.Background(), cursorPipeline(t, "rev", srv.URL), pipeline.Options{Destination: dest, WorkDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	d, err := destination.Open(context.Background(), dest, "rev")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	versions := destinationtest.ReadAll(t, d, load.VersionsTable)
	loads := destinationtest.ReadAll(t, d, load.LoadsTable)
	states := destinationtest.ReadAll(t, d, load.StateTable)
	if len(versions) != 1 || len(loads) != 1 || len(states) != 1 {
		t.Fatalf("%d versions, %d loads, %d states; want one each", len(versions), len(loads), len(states))
	}
	var sch map[string]any
	if err := json.Unmarshal([]byte(versions[0]["schema"].(string)), &sch); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "version_hash", "engine_version", "name", "tables", "settings", "normalizers", "previous_hashes"} {
		if _, ok := sch[k]; !ok {
			t.Errorf("stored schema lacks %s", k)
		}
	}
	if sch["engine_version"] != 11.0 || sch["name"] != "rest_api" || sch["version_hash"] != versions[0]["version_hash"] {
		t.Errorf("stored schema engine %v name %v hash %v (row %v)", sch["engine_version"], sch["name"], sch["version_hash"], versions[0]["version_hash"])
	}
	tables := sch["tables"].(map[string]any)
	for _, want := range []string{"_dlt_version", "_dlt_loads", "_dlt_pipeline_state", "items", "items__tags"} {
		if tables[want] == nil {
			t.Errorf("stored schema lacks table %s", want)
		}
	}
	for name, v := range tables {
		tb := v.(map[string]any)
		if tb["name"] != name {
			t.Errorf("table %s: name %v", name, tb["name"])
		}
		if tb["parent"] == nil && (tb["write_disposition"] == nil || tb["resource"] == nil) {
			t.Errorf("root table %s lacks write_disposition or resource: %v", name, tb)
		}
		for cn, cv := range tb["columns"].(map[string]any) {
			c := cv.(map[string]any)
			if _, ok := c["nullable"].(bool); c["name"] != cn || !slices.Contains(dltDataTypes, c["data_type"].(string)) || !ok {
				t.Errorf("column %s.%s = %v", name, cn, c)
			}
		}
	}
	if l := loads[0]; l["status"] != int64(0) || l["schema_version_hash"] != versions[0]["version_hash"] || l["schema_name"] != "rest_api" {
		t.Errorf("load row %v", l)
	}
	st := decodeLikeDLT(t, states[0]["state"].(string))
	if states[0]["_dlt_load_id"] != loads[0]["load_id"] || states[0]["version_hash"] != st["_version_hash"] {
		t.Errorf("state row %v does not match its load or its state", states[0])
	}
	if st["_state_engine_version"] != 4.0 || st["pipeline_name"] != "rev" || st["default_schema_name"] != "rest_api" {
		t.Errorf("state %v", st)
	}
	inc := dig(t, st, "sources", "rest_api", "resources", "items", "incremental", "updated_at").(map[string]any)
	if inc["last_value"] != "2024-01-01T00:00:00Z" || inc["initial_value"] != "2000-01-01T00:00:00Z" {
		t.Errorf("cursor %v", inc)
	}
	if h, _ := inc["unique_hashes"].([]any); len(h) != 1 {
		t.Errorf("unique_hashes %v, want the one record at the last value", inc["unique_hashes"])
	}
}
