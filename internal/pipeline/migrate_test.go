package pipeline_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/pipeline"
	"github.com/restload/restload/internal/schema"
)

// legacyTables are the bookkeeping tables restload kept up to commit
// 9ba7f07, spelled out as that code declared them.
func legacyTables() (loads, versions, state *schema.Table) {
	col := func(name string, typ schema.DataType) *schema.Column {
		return &schema.Column{Name: name, Type: typ, Nullable: true}
	}
	key := func(name string, typ schema.DataType) *schema.Column {
		return &schema.Column{Name: name, Type: typ, PrimaryKey: true}
	}
	loads = &schema.Table{Name: "_restload_loads", Resource: "_restload", WriteDisposition: schema.Append, Columns: []*schema.Column{
		key("load_id", schema.Text), col("pipeline_name", schema.Text), col("status", schema.Text),
		col("started_at", schema.Timestamp), col("finished_at", schema.Timestamp), col("schema_version", schema.BigInt),
		col("rows", schema.JSON), col("resources", schema.JSON), col(schema.ColID, schema.Text)}}
	versions = &schema.Table{Name: "_restload_versions", Resource: "_restload", WriteDisposition: schema.Append, Columns: []*schema.Column{
		key("version", schema.BigInt), col("hash", schema.Text), col("load_id", schema.Text), col("inserted_at", schema.Timestamp),
		col("changes", schema.JSON), col("schema", schema.JSON), col(schema.ColID, schema.Text)}}
	state = &schema.Table{Name: "_restload_state", Resource: "_restload", WriteDisposition: schema.Replace, Columns: []*schema.Column{
		key("pipeline_name", schema.Text), key("key", schema.Text), col("value", schema.JSON),
		col("load_id", schema.Text), col("updated_at", schema.Timestamp), col(schema.ColID, schema.Text)}}
	return loads, versions, state
}

// TestMigrateLegacyBookkeeping: a dataset an earlier restload wrote (its
// _restload_* tables, as at 9ba7f07) is migrated into dlt's tables when
// first opened: its loads, schema version and incremental cursor carry
// over, so the next run fetches only what is new (the boundary record,
// known by its old-style hash, is not loaded again), and the cursor is
// then stored where dlt keeps it.
func TestMigrateLegacyBookkeeping(t *testing.T) {
	ctx := context.Background()
	dest := filepath.Join(t.TempDir(), "legacy.duckdb")
	d, err := destination.Open(ctx, "duckdb:"+dest, "legacy")
	if err != nil {
		t.Fatal(err)
	}
	items := &schema.Table{Name: "items", Resource: "items", WriteDisposition: schema.Append, Columns: []*schema.Column{
		{Name: "id", Type: schema.Text, PrimaryKey: true}, {Name: "updated_at", Type: schema.Timestamp, Nullable: true},
		{Name: schema.ColLoadID, Type: schema.Text, System: true}, {Name: schema.ColID, Type: schema.Text, System: true}}}
	const oldLoad = "1700000000.000001"
	at := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	destinationtest.CommitRows(t, d, items, []schema.Change{{Kind: schema.AddTable, Table: items}}, destination.ModeAppend,
		[]any{"a", at, oldLoad, oldLoad + ".1"})
	loads, versions, state := legacyTables()
	stored, _ := json.Marshal(&schema.Schema{Name: "legacy", Version: 1, Tables: []*schema.Table{items}})
	destinationtest.CommitRows(t, d, versions, []schema.Change{{Kind: schema.AddTable, Table: versions}}, destination.ModeAppend,
		[]any{int64(1), "oldhash", oldLoad, at, "[]", string(stored), oldLoad + ".2"})
	destinationtest.CommitRows(t, d, loads, []schema.Change{{Kind: schema.AddTable, Table: loads}}, destination.ModeAppend,
		[]any{oldLoad, "legacy", "loaded", at, at, int64(1), `{"items": 1}`, `[]`, oldLoad + ".3"})
	// The old cursor: record a at the last value, by the hash restload
	// kept then (12 bytes of SHA-256 of the primary key's JSON, hex).
	sum := sha256.Sum256([]byte(`["a"]`))
	cursor := `{"last_value": "2024-01-02T00:00:00Z", "unique_hashes": ["` + hex.EncodeToString(sum[:12]) + `"]}`
	destinationtest.CommitRows(t, d, state, []schema.Change{{Kind: schema.AddTable, Table: state}}, destination.ModeReplace,
		[]any{"legacy", "incremental.items", cursor, oldLoad, at, oldLoad + ".4"})
	d.Close()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"items": [{"id": "b", "updated_at": "2024-01-01T00:00:00Z"}, {"id": "a", "updated_at": "2024-01-02T00:00:00Z"}, {"id": "c", "updated_at": "2024-01-03T00:00:00Z"}]}`))
	}))
	defer srv.Close()
	p := cursorPipeline(t, "legacy", srv.URL)
	if _, err := pipeline.Run(ctx, p, pipeline.Options{Destination: "duckdb:" + dest, WorkDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}

	d, err = destination.Open(ctx, "duckdb:"+dest, "legacy")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ids := readKeys(t, d, "items", "id")
	if ids["a"] != 1 || ids["c"] != 1 || ids["b"] != 0 || len(ids) != 2 {
		t.Errorf("items after the run: %v, want a (loaded before) and c (new) once each", ids)
	}
	ls, err := load.Loads(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || ls[0].LoadID != oldLoad || ls[0].Status != load.Loaded {
		t.Errorf("loads = %+v, want the migrated %s and the new one", ls, oldLoad)
	}
	vs, err := load.Versions(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 || vs[0].Version != 1 || vs[0].Schema.Table("items") == nil {
		t.Errorf("versions = %+v, want the migrated version 1 with table items", vs)
	}
	st, err := load.State(ctx, d, "legacy")
	if err != nil {
		t.Fatal(err)
	}
	var cur map[string]any
	if err := json.Unmarshal(st["incremental.items"], &cur); err != nil {
		t.Fatal(err)
	}
	if cur["last_value"] != "2024-01-03T00:00:00Z" || cur["cursor_path"] != "updated_at" {
		t.Errorf("cursor after the run = %v, want last_value 2024-01-03T00:00:00Z at cursor_path updated_at", cur)
	}
	// Where dlt keeps it, and nowhere else.
	rows := destinationtest.ReadAll(t, d, load.StateTable)
	newest := rows[0]
	for _, r := range rows {
		if r[schema.ColLoadID].(string) > newest[schema.ColLoadID].(string) {
			newest = r
		}
	}
	doc := decodeLikeDLT(t, newest["state"].(string))
	inc := dig(t, doc, "sources", "rest_api", "resources", "items", "incremental", "updated_at").(map[string]any)
	if inc["last_value"] != "2024-01-03T00:00:00Z" {
		t.Errorf("dlt's cursor = %v", inc)
	}
	if own, ok := doc["restload"].(map[string]any)["state"].(map[string]any); ok && own["incremental.items"] != nil {
		t.Errorf("the migrated cursor is still kept apart: %v", own)
	}
}

// cursorPipeline is a pipeline named name (its dataset too) with one
// resource, items, read from base with an incremental cursor on
// updated_at.
func cursorPipeline(t *testing.T, name, base string) *config.Pipeline {
	t.Helper()
	src := strings.NewReplacer("NAME", name, "BASE", base).Replace(`
pipeline: {name: NAME, dataset: NAME}
retry: {max_retries: 0}
source:
  client: {base_url: BASE}
  resources:
    - name: items
      primary_key: id
      endpoint:
        path: items
        data_selector: items
        paginator: single_page
        incremental: {cursor_path: updated_at, initial_value: "2000-01-01T00:00:00Z"}
`)
	p, err := config.Parse(name+".yaml", []byte(src), config.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
