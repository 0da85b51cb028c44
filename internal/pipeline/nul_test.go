package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	_ "github.com/restload/restload/internal/destination/files"
	"github.com/restload/restload/internal/pipeline"
)

// TestNULInStrings: records whose strings hold NUL (U+0000), in a text
// column and in a JSON column, land the same in every destination, with
// NUL removed (PostgreSQL text and jsonb cannot hold it, and silently
// dropped it from text), and the run warns once with the count and the
// rule.
func TestNULInStrings(t *testing.T) {
	body := `[{"id": 1, "name": "x\u0000y", "meta": {"k": "a\u0000b", "esc": "\\u0000"}},
	          {"id": 2, "name": "\u0000", "meta": {"k": "plain"}},
	          {"id": 3, "name": "no nul", "meta": {"k": "c"}}]`
	dests := map[string]func(t *testing.T, dataset string) string{
		"duckdb":  func(t *testing.T, _ string) string { return "duckdb:" + filepath.Join(t.TempDir(), "nul.duckdb") },
		"parquet": func(t *testing.T, _ string) string { return "parquet:" + t.TempDir() },
		"jsonl":   func(t *testing.T, _ string) string { return "jsonl:" + t.TempDir() },
		"postgres": func(t *testing.T, dataset string) string {
			url := destinationtest.PostgresURL(t)
			destinationtest.DropOnCleanup(t, url, dataset)
			return url
		},
		"mysql": func(t *testing.T, dataset string) string {
			url := destinationtest.MySQLURL(t)
			destinationtest.DropMySQLOnCleanup(t, url, dataset)
			return url
		},
	}
	for name, dest := range dests {
		t.Run(name, func(t *testing.T) {
			dataset := destinationtest.Dataset(t)
			p := servedPipeline(t, strings.ReplaceAll(`
pipeline: {name: nul, dataset: DATASET}
source:
  client: {base_url: BASE}
  resources:
    - name: items
      endpoint: {path: items, paginator: single_page}
      columns: {meta: {data_type: json}}
`, "DATASET", dataset), func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(body))
			})
			url := dest(t, dataset)
			var logs bytes.Buffer
			if _, err := pipeline.Run(context.Background(), p, pipeline.Options{Destination: url, WorkDir: filepath.Join(t.TempDir(), "work"),
				Logger: slog.New(slog.NewTextHandler(&logs, nil))}); err != nil {
				t.Fatal(err)
			}
			d, err := destination.Open(context.Background(), url, dataset)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			got := map[string]string{}
			if err := d.Read(context.Background(), "items", func(row map[string]any) error {
				name, _ := row["name"].(string)
				meta, _ := row["meta"].(string)
				got[name] = strings.ReplaceAll(meta, " ", "")
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"xy": `{"esc":"\\u0000","k":"ab"}`, "": `{"k":"plain"}`, "no nul": `{"k":"c"}`}
			if len(got) != len(want) {
				t.Errorf("rows %q, want %q", got, want)
			}
			for k, v := range want {
				if g, ok := got[k]; !ok || !jsonEqual(g, v) {
					t.Errorf("name %q: meta %q (present %v), want %q; all rows %q", k, g, ok, v, got)
				}
			}
			l := logs.String()
			if n := strings.Count(l, "NUL"); n == 0 || !strings.Contains(l, "values=3") || !strings.Contains(l, "items.name=2") || !strings.Contains(l, "items.meta=1") {
				t.Errorf("the log does not warn of 3 values changed (items.name 2, items.meta 1) with the rule:\n%s", l)
			}
		})
	}
}

// jsonEqual compares two JSON texts by their canonical form (key order
// and spacing aside).
func jsonEqual(a, b string) bool {
	ca, ea := canonicalJSON(a)
	cb, eb := canonicalJSON(b)
	return ea == nil && eb == nil && ca == cb
}

func canonicalJSON(s string) (string, error) {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	return string(b), err
}
