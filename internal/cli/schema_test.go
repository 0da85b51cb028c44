package cli_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"gopkg.in/yaml.v3"
)

// schemaFixture loads twice from an API whose records change in between
// (a new field, a type drift, a list gaining objects) and returns the
// pipeline file.
func schemaFixture(t *testing.T) (file, dest string) {
	t.Helper()
	var phase atomic.Int32
	bodies := []string{
		`[{"id": 1, "sizeBytes": 100, "tags": ["a"]}, {"id": 2, "sizeBytes": 5}]`,
		`[{"id": 1, "sizeBytes": "12 KB", "createdAt": "2024-05-01T10:00:00Z", "tags": [{"k": "env"}]}]`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, bodies[phase.Load()])
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	dest = "duckdb:" + filepath.Join(dir, "s.duckdb")
	file = filepath.Join(dir, "p.yaml")
	src := fmt.Sprintf(`pipeline: {name: s, dataset: analytics, destination: %q}
source:
  client: {base_url: %q, paginator: single_page}
  resources:
    - name: files
      primary_key: id
      write_disposition: merge
`, dest, srv.URL)
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range bodies {
		phase.Store(int32(i))
		code, out, errOut := run(t, "run", file)
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s\n%s", i+1, code, out, errOut)
		}
		// The run summary tells where the drifting size went.
		const variants = "  files: 1 value(s) went to variant columns (their type did not fit their column)\n"
		if got := strings.Contains(out, variants); got != (i == 1) {
			t.Errorf("run %d: output says %q: %v, want %v:\n%s", i+1, variants, got, i == 1, out)
		}
	}
	return file, dest
}

func TestSchemaCommand(t *testing.T) {
	file, dest := schemaFixture(t)

	t.Run("text", func(t *testing.T) {
		code, out, errOut := run(t, "schema", file)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		// Columns are padded by a tabwriter; compare with single spaces.
		got := regexp.MustCompile(`(\S) {2,}`).ReplaceAllString(out, "$1  ")
		got = regexp.MustCompile(`load \S+  \S+ \S+`).ReplaceAllString(got, "load L  T")
		for _, want := range []string{
			"dataset analytics, schema version 3\n",
			"\nfiles [resource files, merge, primary key id]\n  id  bigint  primary key\n  size_bytes  bigint\n",
			"  size_bytes__v_text  text  variant of size_bytes\n",
			"\nfiles__tags (child of files) [resource files, merge]\n  value  text\n",
			"versions:\n  v2  load L  T\n      + table files (4 columns)\n      + table files__tags (5 columns, child of files)\n" +
				"  v3  load L  T\n      + column files.created_at timestamp\n      + column files.size_bytes__v_text text, variant of size_bytes\n      + column files__tags.k text\n",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	// json and yaml carry the same document.
	var docs []map[string]any
	for _, format := range []string{"json", "yaml"} {
		code, out, errOut := run(t, "schema", "--dest", dest, "--dataset", "analytics", "--format", format)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, errOut)
		}
		var doc map[string]any
		var err error
		if format == "json" {
			err = json.Unmarshal([]byte(out), &doc)
		} else {
			err = yaml.Unmarshal([]byte(out), &doc)
			if strings.Contains(out, "{") {
				t.Errorf("yaml output is not block style:\n%s", out)
			}
		}
		if err != nil {
			t.Fatalf("%s: %v\n%s", format, err, out)
		}
		docs = append(docs, doc)
	}
	j, _ := json.Marshal(docs[0])
	y, _ := json.Marshal(docs[1])
	if string(j) != string(y) {
		t.Errorf("json and yaml differ:\n%s\n%s", j, y)
	}
	doc := docs[0]
	// dlt stores a new schema first as version 2.
	if doc["version"] != float64(3) || doc["dataset"] != "analytics" {
		t.Errorf("version %v dataset %v, want 3 analytics", doc["version"], doc["dataset"])
	}
	versions, _ := doc["versions"].([]any)
	if len(versions) != 2 {
		t.Fatalf("%d versions, want 2: %s", len(versions), j)
	}
	v2, _ := versions[1].(map[string]any)
	changes, _ := json.Marshal(v2["changes"])
	const want = `[{"column":"created_at","data_type":"timestamp","kind":"add_column","table":"files"},` +
		`{"column":"size_bytes__v_text","data_type":"text","kind":"add_column","table":"files","variant_of":"size_bytes"},` +
		`{"column":"k","data_type":"text","kind":"add_column","table":"files__tags"}]`
	if string(changes) != want {
		t.Errorf("v2 changes:\n%s\nwant\n%s", changes, want)
	}
	tables, _ := doc["tables"].([]any)
	if len(tables) != 2 {
		t.Fatalf("%d tables, want 2", len(tables))
	}
	if child, _ := tables[1].(map[string]any); child["parent"] != "files" {
		t.Errorf("files__tags parent %v, want files", child["parent"])
	}
}

func TestSchemaCommandErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"schema", "--dest", "duckdb:" + filepath.Join(dir, "x.duckdb"), "--format", "xml"}, 2, `--format "xml": want text, json or yaml`},
		{[]string{"schema", "--dest", "duckdb:" + filepath.Join(dir, "empty.duckdb")}, 1, "empty.duckdb does not exist (nothing was loaded there; this command creates nothing)"},
	} {
		code, _, errOut := run(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}
