package pipeline_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/normalize"
)

// TestDeeplyNestedRecords: a record nested 5,000 levels loads in well
// under a second, flattened DefaultMaxNesting levels deep and the rest kept
// as JSON; a body nested 1,000,000 levels fails the resource with a clear
// error, without crashing, and the other resource loads.
func TestDeeplyNestedRecords(t *testing.T) {
	const depth = 5000
	deep := `[{"id": 1, "a": ` + strings.Repeat(`{"a": `, depth) + "1" + strings.Repeat("}", depth) + "}]"
	api := &pagesAPI{pages: [][]string{{deep}}}
	bomb := &pagesAPI{pages: [][]string{{strings.Repeat("[", 1_000_000) + strings.Repeat("]", 1_000_000)}}}
	srv := httptest.NewServer(muxOf(map[string]*pagesAPI{"/items": api, "/bomb": bomb}))
	defer srv.Close()
	dest := "duckdb:" + filepath.Join(t.TempDir(), "deep.duckdb")
	r := newItemsRun(t, dest, "deep", srv.URL, "    - name: bomb\n      endpoint: {path: bomb}\n")
	start := time.Now()
	err := r.run()
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "resource bomb") || !strings.Contains(err.Error(), "exceeded max depth") {
		t.Fatalf("run: %v; want resource bomb to fail on its nesting depth", err)
	}
	if took > 5*time.Second {
		t.Errorf("run took %v", took)
	}
	d, err := destination.Open(context.Background(), dest, "deep")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var cols []string
	var jsonText string
	err = d.Read(context.Background(), "items", func(row map[string]any) error {
		for k, v := range row {
			if s, ok := v.(string); ok && strings.HasPrefix(s, `{"a":`) {
				jsonText = s
			}
			cols = append(cols, k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(jsonText, `"a"`); n < depth-normalize.DefaultMaxNesting {
		t.Errorf("items holds %d levels as JSON, want the %d beyond %d (columns %v)", n, depth-normalize.DefaultMaxNesting, normalize.DefaultMaxNesting, cols)
	}
}
