package cli_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/apitest"
	"github.com/restload/restload/internal/destination/destinationtest"
)

// hintsPipeline uses dlt's column hints unique, timezone, precision and
// scale, the data types time and binary, and a references hint.
const hintsPipeline = `
pipeline: {name: hints, dataset: %s}
source:
  client: {base_url: "{{API}}/"}
  resources:
    - name: items
      primary_key: id
      write_disposition: merge
      endpoint: {path: items, paginator: single_page}
      columns:
        name: {unique: true}
        port: {data_type: bigint, precision: 16}
        created: {data_type: timestamp, timezone: false, precision: 3}
        opens: {data_type: time}
        blob: {data_type: binary}
        avatar: {data_type: binary}
        price: {data_type: decimal, precision: 10, scale: 2}
      references:
        - {columns: [ownerId], referenced_table: members, referenced_columns: [id], cardinality: many_to_one}
`

const hintsRecords = `[
 {"id": 1, "name": "a", "port": 8080, "created": "2024-05-01T10:20:30.123456Z", "opens": "08:30:15.25",
  "blob": "0x68656c6c6f", "avatar": "aGk=", "price": "12.345", "ownerId": "m1"},
 {"id": 2, "name": "b", "port": 22, "created": "2024-05-02T00:00:00Z", "opens": "23:59",
  "blob": "0x00ff0a2c22", "avatar": null, "price": 7, "ownerId": "m2"}]`

// TestColumnHintsAsDlt: dlt's column hints make the types dlt's postgres
// and duckdb destinations make (timestamp (3) without time zone and
// TIMESTAMP_MS, smallint, numeric(10,2), time, bytea and BLOB), unique
// makes a unique index in PostgreSQL, time and binary values load (binary
// from 0x-hex or base64 text, as dlt reads it), and references are kept in
// the schema.
func TestColumnHintsAsDlt(t *testing.T) {
	api := apitest.New(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, hintsRecords)
	})
	for _, c := range []struct {
		name, types, values string
	}{
		{
			name: "duckdb",
			types: "_dlt_id VARCHAR NO|_dlt_load_id VARCHAR NO|avatar BLOB YES|blob BLOB YES|created TIMESTAMP_MS YES|id BIGINT NO|" +
				"name VARCHAR YES|opens TIME YES|owner_id VARCHAR YES|port SMALLINT YES|price DECIMAL(10,2) YES",
			values: "SELECT id, lower(hex(blob)) AS blob, CAST(avatar AS VARCHAR) AS avatar, CAST(opens AS VARCHAR) AS opens, CAST(created AS VARCHAR) AS created, port, CAST(price AS VARCHAR) AS price FROM items ORDER BY id",
		},
		{
			name: "postgres",
			types: "_dlt_id character varying NO|_dlt_load_id character varying NO|avatar bytea YES|blob bytea YES|" +
				"created timestamp without time zone YES|id bigint NO|name character varying YES|opens time without time zone YES|" +
				"owner_id character varying YES|port smallint YES|price numeric YES",
			values: "SELECT id, encode(blob, 'hex') AS blob, convert_from(avatar, 'UTF8') AS avatar, opens::text AS opens, created::text AS created, port, price::text AS price FROM items ORDER BY id",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			dataset := destinationtest.Dataset(t)
			dest := "duckdb:" + filepath.Join(t.TempDir(), "out.duckdb")
			if c.name == "postgres" {
				dest = destinationtest.PostgresURL(t)
				destinationtest.DropOnCleanup(t, dest, dataset)
			}
			file := writePipeline(t, fmt.Sprintf(hintsPipeline, dataset), api.URL)
			if code, out, errOut := run(t, "run", file, "--dest", dest, "--progress", "none"); code != 0 {
				t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
			}
			query := func(sql string) []map[string]any {
				t.Helper()
				code, out, errOut := run(t, "query", file, "--dest", dest, "--json", sql)
				if code != 0 {
					t.Fatalf("query %s: exit %d\n%s", sql, code, errOut)
				}
				var rows []map[string]any
				if err := json.Unmarshal([]byte(out), &rows); err != nil {
					t.Fatalf("query %s: %v\n%s", sql, err, out)
				}
				return rows
			}
			var types []string
			for _, r := range query(fmt.Sprintf(`SELECT column_name AS c, data_type AS t, is_nullable AS n FROM information_schema.columns
				WHERE table_schema = '%s' AND table_name = 'items' ORDER BY column_name`, dataset)) {
				types = append(types, fmt.Sprintf("%s %s %s", r["c"], r["t"], r["n"]))
			}
			if got := strings.Join(types, "|"); got != c.types {
				t.Errorf("columns:\n%s\nwant\n%s", strings.ReplaceAll(got, "|", "\n"), strings.ReplaceAll(c.types, "|", "\n"))
			}
			got, _ := json.Marshal(query(c.values))
			want := `[{"avatar":"hi","blob":"68656c6c6f","created":"2024-05-01 10:20:30.123","id":1,"opens":"08:30:15.25","port":8080,"price":"12.35"},` +
				`{"avatar":null,"blob":"00ff0a2c22","created":"2024-05-02 00:00:00","id":2,"opens":"23:59:00","port":22,"price":"7.00"}]`
			if string(got) != want {
				t.Errorf("rows:\n%s\nwant\n%s", got, want)
			}
			if c.name == "postgres" {
				idx, _ := json.Marshal(query(fmt.Sprintf("SELECT indexname FROM pg_indexes WHERE schemaname = '%s' ORDER BY 1", dataset)))
				if want := `[{"indexname":"_dlt_pipeline_state__dlt_id_key"},{"indexname":"items__dlt_id_key"},{"indexname":"items_name_key"}]`; string(idx) != want {
					t.Errorf("indexes %s, want %s", idx, want)
				}
			}
			code, out, errOut := run(t, "schema", file, "--dest", dest, "--format", "json")
			if code != 0 {
				t.Fatalf("schema: exit %d\n%s", code, errOut)
			}
			ref := `"references":` + compactJSON(t, `[{"columns":["owner_id"],"referenced_table":"members","referenced_columns":["id"],"cardinality":"many_to_one"}]`)
			if compact := compactJSON(t, out); !strings.Contains(compact, ref) {
				t.Errorf("schema lacks %s:\n%s", ref, out)
			}
		})
	}
}

func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
