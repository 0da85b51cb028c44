package pipeline_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha3"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/dltstate"
	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/pipeline"
)

// dltFixture is what dlt 1.26 wrote to PostgreSQL loading the bundled
// mock (see its README.md).
const dltFixture = "/work/shared/fixtures/dlt-analytics"

// loadDLTFixture loads the fixture's dump into PostgreSQL as schema ds
// (the dump's schema name rewritten), dropped when the test ends.
func loadDLTFixture(t *testing.T, url, ds string) {
	t.Helper()
	dump, err := os.ReadFile(filepath.Join(dltFixture, "dlt_analytics.sql"))
	if err != nil {
		t.Skipf("dlt fixture not available: %v", err)
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not installed")
	}
	destinationtest.DropOnCleanup(t, url, ds)
	sqlText := bytes.ReplaceAll(dump, []byte("dlt_analytics"), []byte(ds))
	cmd := exec.Command(psql, "-v", "ON_ERROR_STOP=1", "-q", url)
	cmd.Stdin = bytes.NewReader(sqlText)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
}

// dltFixturePipeline is the fixture's dlt_pipeline.py as a restload
// pipeline file against api.
func dltFixturePipeline(t *testing.T, api *mockapi.Running, ds string) *config.Pipeline {
	t.Helper()
	base := strings.TrimSuffix(api.URL, "/v2")
	page := `{type: page_number, base_page: 1, page_param: page, total_path: "", has_more_path: hasMore}`
	var b strings.Builder
	fmt.Fprintf(&b, `pipeline:
  name: analytics
  dataset: %s
source:
  client:
    base_url: %s/v2/
    auth:
      type: oauth2_client_credentials
      access_token_url: %s/v2/auth/token
      client_id: demo-client
      client_secret: demo-secret
  resource_defaults:
    primary_key: id
    write_disposition: merge
    endpoint:
      params:
        limit: 100
  resources:
`, ds, base, base)
	for _, n := range []string{"files", "connections", "datasets", "members", "teams", "templates", "workspaces", "workbooks"} {
		fmt.Fprintf(&b, "    - name: %s\n      endpoint: {path: %s, data_selector: entries, paginator: %s}\n", n, n, page)
	}
	fmt.Fprintf(&b, `    - name: files_incremental
      table_name: files_incremental
      write_disposition: append
      endpoint:
        path: files
        data_selector: entries
        paginator: %s
        incremental: {cursor_path: updatedAt, initial_value: "2000-01-01T00:00:00Z"}
    - name: workspaces_copy
      write_disposition: append
      endpoint: {path: workspaces, data_selector: entries, paginator: %s}
`, page, page)
	p, err := config.Parse("dlt_pipeline.yaml", []byte(b.String()), config.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	return p
}

// TestContinueDLTDataset runs restload on top of the dataset dlt made
// (the fixture, against the same mock data): it merges into dlt's tables
// without duplicates, adopts dlt's columns (variants included), resumes
// files_incremental from dlt's stored cursor so nothing is loaded twice,
// stores dlt's schema evolved as dlt would and adds a _dlt_loads row with
// status 0, whose state dlt's own decode steps read back.
func TestContinueDLTDataset(t *testing.T) {
	ctx := context.Background()
	url := destinationtest.PostgresURL(t)
	ds := destinationtest.Dataset(t)
	loadDLTFixture(t, url, ds)
	db, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	count := func(q string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(ctx, strings.ReplaceAll(q, "DS", ds)).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	columns := func() map[string]bool {
		rows, err := db.Query(ctx, `SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = $1`, ds)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]bool{}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out[s] = true
		}
		return out
	}
	before := columns()
	incBefore := count(`SELECT count(*) FROM DS.files_incremental`)

	api, err := mockapi.Start(ctx, "127.0.0.1:0", mockapi.Options{Records: 120})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	p := dltFixturePipeline(t, api, ds)
	if _, err := pipeline.Run(ctx, p, pipeline.Options{Destination: url, WorkDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}

	// Merge tables: every record once, dlt's rows replaced, not doubled.
	for _, res := range api.Server.Resources() {
		if n := count(`SELECT count(*) FROM DS.` + res); n != api.Server.Count(res) {
			t.Errorf("%s: %d rows, the API has %d records", res, n, api.Server.Count(res))
		}
		if n := count(`SELECT count(*) FROM (SELECT id FROM DS.` + res + ` GROUP BY id HAVING count(*) > 1) d`); n != 0 {
			t.Errorf("%s: %d ids more than once", res, n)
		}
	}
	// The incremental resource resumed from dlt's cursor: nothing new.
	if n := count(`SELECT count(*) FROM DS.files_incremental`); n != incBefore {
		t.Errorf("files_incremental: %d rows after restload's run, %d before: it refetched what dlt loaded", n, incBefore)
	}
	// dlt's tables and columns adopted: nothing restload would have named
	// differently.
	for c := range columns() {
		if !before[c] && !strings.HasPrefix(c, "workspaces_copy") {
			t.Errorf("restload added column %s to dlt's tables", c)
		}
	}
	// _dlt_loads gained one row, status 0, with the new schema hash.
	if n := count(`SELECT count(*) FROM DS._dlt_loads WHERE status = 0`); n != 3 {
		t.Errorf("_dlt_loads: %d rows with status 0, want dlt's 2 and restload's 1", n)
	}
	var loadID, schemaName, loadHash string
	if err := db.QueryRow(ctx, fmt.Sprintf(`SELECT load_id, schema_name, schema_version_hash FROM %s._dlt_loads ORDER BY load_id DESC LIMIT 1`, ds)).Scan(&loadID, &schemaName, &loadHash); err != nil {
		t.Fatal(err)
	}
	if schemaName != "analytics" {
		t.Errorf("restload's load has schema_name %q, want dlt's schema analytics", schemaName)
	}
	// The schema: dlt's newest version, the same or evolved as dlt does it.
	var version int
	var hash, schemaJSON string
	if err := db.QueryRow(ctx, fmt.Sprintf(`SELECT version, version_hash, schema FROM %s._dlt_version WHERE schema_name = 'analytics' ORDER BY inserted_at DESC LIMIT 1`, ds)).Scan(&version, &hash, &schemaJSON); err != nil {
		t.Fatal(err)
	}
	doc, err := dltstate.ParseSchema([]byte(schemaJSON))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := dltstate.SchemaVersionHash(doc); got != hash || doc.Str("version_hash") != hash || loadHash != hash {
		t.Errorf("stored schema hash %s, recomputed %s, load's %s", hash, got, loadHash)
	}
	// A table dlt did not have (workspaces_copy) evolved dlt's schema:
	// version 3, dlt's hash first in previous_hashes, dlt's tables and
	// settings as dlt stored them.
	if version != 3 || doc.Int("version") != 3 {
		t.Errorf("schema version %d (JSON %d), want 3: dlt's 2 and one change", version, doc.Int("version"))
	}
	if prev, _ := doc.Get("previous_hashes"); len(prev.([]any)) == 0 || prev.([]any)[0] != dltSchemaHash {
		t.Errorf("previous_hashes = %v, want dlt's %s first", prev, dltSchemaHash)
	}
	var dltJSON string
	if err := db.QueryRow(ctx, fmt.Sprintf(`SELECT schema FROM %s._dlt_version WHERE version_hash = $1`, ds), dltSchemaHash).Scan(&dltJSON); err != nil {
		t.Fatal(err)
	}
	dltDoc, err := dltstate.ParseSchema([]byte(dltJSON))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"settings", "normalizers"} {
		a, _ := dltDoc.Get(k)
		b, _ := doc.Get(k)
		if x, y := mustMarshal(t, a), mustMarshal(t, b); x != y {
			t.Errorf("%s changed:\n dlt      %s\n restload %s", k, x, y)
		}
	}
	for _, tn := range dltDoc.Obj("tables").Keys() {
		if x, y := mustMarshal(t, dltDoc.Obj("tables").Obj(tn)), mustMarshal(t, doc.Obj("tables").Obj(tn)); x != y {
			t.Errorf("table %s changed:\n dlt      %s\n restload %s", tn, x, y)
		}
	}
	if w := doc.Obj("tables").Obj("workspaces_copy"); w == nil || w.Obj("columns").Obj("_dlt_id") == nil || w.Str("write_disposition") != "append" {
		t.Errorf("workspaces_copy not in the stored schema as dlt would store it: %v", mustMarshal(t, w))
	}

	// The state restload stored decodes as dlt decodes it and keeps the
	// cursor where dlt reads it.
	var stateStr, stateHash string
	var stateVersion int
	q := fmt.Sprintf(`SELECT s.state, s.version_hash, s.version FROM %[1]s._dlt_pipeline_state s JOIN %[1]s._dlt_loads l ON l.load_id = s._dlt_load_id
		WHERE s.pipeline_name = 'analytics' AND l.status = 0 ORDER BY l.load_id DESC LIMIT 1`, ds)
	if err := db.QueryRow(ctx, q).Scan(&stateStr, &stateHash, &stateVersion); err != nil {
		t.Fatal(err)
	}
	st := decodeLikeDLT(t, stateStr)
	inc := dig(t, st, "sources", "analytics", "resources", "files_incremental", "incremental", "updatedAt").(map[string]any)
	if h, _ := inc["unique_hashes"].([]any); len(h) != 1 || h[0] != "8jSUHPUzr9NCrGBzcld4" {
		t.Errorf("unique_hashes = %v, want dlt's [8jSUHPUzr9NCrGBzcld4]", inc["unique_hashes"])
	}
	if inc["last_value"] != "2024-06-11T06:10:57.783Z" {
		t.Errorf("last_value = %v, want dlt's 2024-06-11T06:10:57.783Z", inc["last_value"])
	}
	for _, k := range []string{"initial_value", "last_value", "unique_hashes", "start_value"} {
		if _, ok := inc[k]; !ok {
			t.Errorf("incremental state lacks %s: %v", k, inc)
		}
	}
	for _, k := range []string{"_state_version", "_state_engine_version", "_version_hash", "pipeline_name", "dataset_name", "schema_names", "default_schema_name"} {
		if _, ok := st[k]; !ok {
			t.Errorf("state lacks %s", k)
		}
	}
	// Nothing new came, so the state did not change and, as dlt, restload
	// stored none: dlt's version 1 is still the newest.
	if st["_version_hash"] != stateHash || stateVersion != 1 {
		t.Errorf("state row version %d hash %s, state says %v; want dlt's version 1", stateVersion, stateHash, st["_version_hash"])
	}
}

// dltSchemaHash is the version_hash of the schema dlt stored.
const dltSchemaHash = "gOycyjBR4iPhiGwjxw3VSbDunNCWoa/Q8H2EtC+OjZA="

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := dltstate.Marshal(v, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decodeLikeDLT decodes a _dlt_pipeline_state.state value with dlt's
// decompress_state steps, written again here apart from dltstate: strict
// base64, zlib, JSON. It also recomputes the state's version hash as
// generate_state_version_hash does (SHA3-256 of the sorted, compact JSON
// without the version keys) and checks it against _version_hash.
func decodeLikeDLT(t *testing.T, s string) map[string]any {
	t.Helper()
	raw, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		t.Fatalf("state is not base64: %v", err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("state is not zlib: %v", err)
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("state is not zlib: %v", err)
	}
	var st map[string]any
	if err := json.Unmarshal(js, &st); err != nil {
		t.Fatalf("state is not JSON: %v", err)
	}
	c := map[string]any{}
	for k, v := range st {
		switch k {
		case "_state_version", "_state_engine_version", "_version_hash", "_local":
		default:
			c[k] = v
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		t.Fatal(err)
	}
	sum := sha3.Sum256(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	if h := base64.StdEncoding.EncodeToString(sum[:]); h != st["_version_hash"] {
		t.Errorf("state _version_hash %v, recomputed %s", st["_version_hash"], h)
	}
	return st
}

// dig returns the value at path in a decoded JSON object.
func dig(t *testing.T, v any, path ...string) any {
	t.Helper()
	for i, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("state: %s is not an object", strings.Join(path[:i], "."))
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("state: no %s", strings.Join(path[:i+1], "."))
		}
	}
	return v
}
