package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/mockapi"
)

// dltFixture is what dlt 1.26 itself wrote to PostgreSQL loading the mock
// API twice (testdata/dlt-analytics/README.md): a pg_dump of schema
// dlt_analytics.
const dltFixture = "testdata/dlt-analytics/dlt_analytics.sql"

// dltBookkeeping are dlt's own tables that TestSameTablesAsDlt compares:
// their columns, types, indexes and rows (apart from dltGenerated) too.
var dltBookkeeping = []string{"_dlt_loads", "_dlt_version", "_dlt_pipeline_state"}

// dltGenerated are the columns whose values differ between any two loads
// (ids, load ids, times, hashes): rows are compared without them, children
// through their parents' rows.
var dltGenerated = map[string]bool{
	"_dlt_id": true, "_dlt_load_id": true, "_dlt_parent_id": true, "_dlt_root_id": true,
	"load_id": true, "inserted_at": true, "created_at": true, "schema_version_hash": true,
	"version_hash": true, "state": true, "schema": true,
}

// dltPipeline is testdata/dlt-analytics/dlt_pipeline.py as a restload
// pipeline: the seed's eight resources merging on id with client
// credentials and page_number until hasMore is false (total_path: null),
// the mock API at {{API}} (its URL ends in /v2),
// and files_incremental appending with a cursor on updatedAt.
func dltPipeline(dataset string) string {
	page := "{type: page_number, base_page: 1, page_param: page, total_path: null, has_more_path: hasMore}"
	var b strings.Builder
	fmt.Fprintf(&b, `pipeline: {name: analytics, dataset: %s, source_name: analytics}
source:
  client:
    base_url: "{{API}}/"
    auth:
      type: oauth2_client_credentials
      access_token_url: "{{API}}/auth/token"
      client_id: demo-client
      client_secret: demo-secret
  resource_defaults:
    primary_key: id
    write_disposition: merge
    endpoint:
      params: {limit: 100}
  resources:
`, dataset)
	for _, n := range []string{"files", "connections", "datasets", "members", "teams", "templates", "workspaces", "workbooks"} {
		fmt.Fprintf(&b, "    - {name: %s, endpoint: {path: %s, data_selector: entries, paginator: %s}}\n", n, n, page)
	}
	fmt.Fprintf(&b, `    - name: files_incremental
      table_name: files_incremental
      write_disposition: append
      endpoint:
        path: files
        data_selector: entries
        paginator: %s
        incremental: {cursor_path: updatedAt, initial_value: "2000-01-01T00:00:00Z"}
`, page)
	return b.String()
}

// TestSameTablesAsDlt is the first "done when" of issue 12: restload runs
// dlt's pipeline (dlt_pipeline.py) twice into PostgreSQL against the mock
// API with dlt's records (120 per resource, the default seed), and the
// dataset has dlt's tables, with dlt's columns, types, nullability and
// indexes, and dlt's rows apart from generated ids and load ids.
func TestSameTablesAsDlt(t *testing.T) {
	url := destinationtest.PostgresURL(t)
	ours := destinationtest.Dataset(t)
	theirs := ours + "_dlt"
	destinationtest.DropOnCleanup(t, url, ours)
	destinationtest.LoadPostgresDump(t, url, dltFixture, "dlt_analytics", theirs)

	conn := runOnMock(t, dltPipeline(ours), 120, url, 2) // twice, as dlt did
	want, got := dltTables(t, conn, theirs), dltTables(t, conn, ours)
	if len(want) != 24+len(dltBookkeeping) {
		t.Fatalf("the fixture has %d tables to compare, want 24 data tables and %v", len(want), dltBookkeeping)
	}
	if !slices.Equal(got, want) {
		t.Errorf("tables:\n  %s\nwant (dlt's):\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// Columns are compared by name: restload orders a record's fields by
	// name, dlt as the JSON has them (both put _dlt_load_id and _dlt_id
	// after the first record's fields, and a child's _dlt_ columns last).
	columns := `SELECT table_name || '.' || column_name || ' ' || data_type || ' ' ||
		CASE is_nullable WHEN 'YES' THEN 'NULL' ELSE 'NOT NULL' END
		FROM information_schema.columns WHERE table_schema = $1 AND table_name = ANY($2)
		ORDER BY table_name, column_name`
	diffLines(t, "columns", queryStrings(t, conn, columns, ours, want), queryStrings(t, conn, columns, theirs, want))
	indexes := `SELECT indexname || ': ' || replace(indexdef, $1 || '.', 'DATASET.') FROM pg_indexes
		WHERE schemaname = $1 AND tablename = ANY($2) ORDER BY 1`
	diffLines(t, "indexes", queryStrings(t, conn, indexes, ours, want), queryStrings(t, conn, indexes, theirs, want))
	for _, table := range want {
		rows := dltRows(t, conn, theirs, table)
		if len(rows) == 0 && !slices.Contains(dltBookkeeping, table) {
			t.Errorf("dlt's %s has no rows", table)
		}
		diffLines(t, table+" rows", dltRows(t, conn, ours, table), rows)
	}
}

// runOnMock runs the pipeline src (with {{API}} for the mock's URL) runs
// times into PostgreSQL at url against the mock API serving records per
// resource, and returns a connection to url, closed when the test ends.
func runOnMock(t *testing.T, src string, records int, url string, runs int) *pgx.Conn {
	t.Helper()
	api, err := mockapi.Start(context.Background(), "127.0.0.1:0", mockapi.Options{Records: records})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })
	file := writePipeline(t, src, api.URL)
	work := filepath.Join(t.TempDir(), "work")
	for range runs {
		if code, out, errOut := run(t, "run", file, "--dest", url, "--progress", "none", "--work-dir", work); code != 0 {
			t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
		}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// dltTables lists the dataset's data tables and the bookkeeping tables in
// dltBookkeeping, sorted.
func dltTables(t *testing.T, conn *pgx.Conn, dataset string) []string {
	t.Helper()
	var out []string
	for _, name := range queryStrings(t, conn, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = $1 ORDER BY 1`, dataset) {
		bookkeeping := strings.HasPrefix(name, "_dlt_") || strings.HasPrefix(name, "_restload_")
		if !bookkeeping || slices.Contains(dltBookkeeping, name) {
			out = append(out, name)
		}
	}
	return out
}

// dltRows returns each row of table as JSON without its generated values;
// a child's row holds its parent's, under "^", so children compare through
// their parents (whose own ids differ).
func dltRows(t *testing.T, conn *pgx.Conn, dataset, table string) []string {
	t.Helper()
	rows := readJSON(t, conn, dataset, table)
	parents := map[string]map[string]any{}
	if i := strings.LastIndex(table, "__"); i > 0 && !strings.HasPrefix(table, "_dlt_") {
		for _, p := range readJSON(t, conn, dataset, table[:i]) {
			parents[p["_dlt_id"].(string)] = p
		}
	}
	var out []string
	for _, r := range rows {
		key := stripGenerated(r)
		if pid, ok := r["_dlt_parent_id"].(string); ok {
			p, found := parents[pid]
			if !found {
				t.Errorf("%s.%s: row %v: no parent row %s", dataset, table, key, pid)
			}
			key["^"] = stripGenerated(p)
		}
		b, err := json.Marshal(key)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

func stripGenerated(r map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range r {
		if !dltGenerated[k] {
			out[k] = v
		}
	}
	return out
}

// readJSON reads every row of dataset.table as a JSON object.
func readJSON(t *testing.T, conn *pgx.Conn, dataset, table string) []map[string]any {
	t.Helper()
	q := fmt.Sprintf("SELECT to_jsonb(t)::text FROM %s t", pgx.Identifier{dataset, table}.Sanitize())
	var out []map[string]any
	for _, s := range queryStrings(t, conn, q) {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// queryStrings runs a query returning one text column.
func queryStrings(t *testing.T, conn *pgx.Conn, q string, args ...any) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// diffLines reports the lines only one of got and want (both sorted) has.
func diffLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	var extra, missing []string
	i, j := 0, 0
	for i < len(got) || j < len(want) {
		switch {
		case j == len(want) || (i < len(got) && got[i] < want[j]):
			extra = append(extra, got[i])
			i++
		case i == len(got) || want[j] < got[i]:
			missing = append(missing, want[j])
			j++
		default:
			i++
			j++
		}
	}
	if len(extra)+len(missing) == 0 {
		return
	}
	const show = 10
	t.Errorf("%s: %d lines only restload has, %d only dlt has", what, len(extra), len(missing))
	for k, l := range extra[:min(show, len(extra))] {
		t.Logf("  restload %d: %s", k, l)
	}
	for k, l := range missing[:min(show, len(missing))] {
		t.Logf("  dlt %d: %s", k, l)
	}
}

// TestDatasetFromOlderRestload: a dataset restload 9ba7f07 made (text
// columns, all nullable, no unique index on _dlt_id, _dlt_root_id in an
// append resource's child tables) keeps loading: its tables are neither
// retyped nor constrained, merge still replaces rows and their children,
// the append resource's child tables still get _dlt_root_id, and a new
// resource's tables are made as dlt makes them.
func TestDatasetFromOlderRestload(t *testing.T) {
	url := destinationtest.PostgresURL(t)
	dataset := destinationtest.Dataset(t)
	destinationtest.LoadPostgresDump(t, url, "testdata/restload-9ba7f07/dataset.sql", "restload_9ba7f07", dataset)
	// The pipeline that made the dataset (files, files_incremental), and
	// teams, new to it.
	src := dltPipeline(dataset)
	for _, r := range []string{"connections", "datasets", "members", "templates", "workspaces", "workbooks"} {
		src = regexp.MustCompile(`(?m)^    - \{name: `+r+`,.*\n`).ReplaceAllString(src, "")
	}
	conn := runOnMock(t, src, 40, url, 1)
	column := func(table, col string) string {
		return strings.Join(queryStrings(t, conn, `SELECT data_type || ' ' || is_nullable FROM information_schema.columns
			WHERE table_schema = $1 AND table_name = $2 AND column_name = $3`, dataset, table, col), "")
	}
	for _, c := range []struct{ table, column, want string }{
		{"files", "id", "text YES"}, {"files", "_dlt_id", "text YES"}, {"files", "created_at", "timestamp with time zone YES"},
		{"files_incremental__tags", "_dlt_root_id", "text YES"},
		{"teams", "id", "character varying NO"}, {"teams", "_dlt_id", "character varying NO"}, {"teams", "name", "character varying YES"},
		{"teams__tags", "_dlt_root_id", "character varying NO"},
	} {
		if got := column(c.table, c.column); got != c.want {
			t.Errorf("%s.%s is %q, want %q", c.table, c.column, got, c.want)
		}
	}
	indexes := queryStrings(t, conn, `SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY 1`, dataset)
	if want := []string{"_dlt_pipeline_state__dlt_id_key", "teams__dlt_id_key", "teams__members__dlt_id_key", "teams__tags__dlt_id_key"}; !slices.Equal(indexes, want) {
		t.Errorf("indexes %v, want %v (none on the older tables; dlt's state table made by the migration has dlt's)", indexes, want)
	}
	count := func(q string) string {
		return strings.Join(queryStrings(t, conn, fmt.Sprintf(q, pgx.Identifier{dataset}.Sanitize())), "")
	}
	for q, want := range map[string]string{
		// merge: the 40 records once each, and children only of rows kept
		`SELECT count(*) || ' ' || count(DISTINCT id) FROM %s.files`:                                                                       "40 40",
		`SELECT count(*)::text FROM %[1]s.files__tags c WHERE NOT EXISTS (SELECT 1 FROM %[1]s.files p WHERE p._dlt_id = c._dlt_parent_id)`: "0",
		// append: the older table's _dlt_root_id is still filled
		`SELECT count(*)::text FROM %s.files_incremental__tags WHERE _dlt_root_id IS NULL`: "0",
		`SELECT (count(*) > 0)::text FROM %s.teams__tags`:                                  "true",
	} {
		if got := count(q); got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
}
