package pipeline_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/apitest"
	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/pipeline"
)

// TestRunReadsSchemaVersionsOnce: a run into a dataset loaded before reads
// the stored schema versions once, and loads its rows.
func TestRunReadsSchemaVersionsOnce(t *testing.T) {
	api := apitest.New(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"items": [{"id": 1}, {"id": 2}]}`))
	})
	src := strings.ReplaceAll(`
pipeline: {name: once, dataset: once}
source:
  client: {base_url: BASE}
  resources:
    - name: items
      endpoint: {path: items, data_selector: items, paginator: single_page}
`, "BASE", api.URL)
	dir := t.TempDir()
	p, err := config.Parse(filepath.Join(dir, "once.yaml"), []byte(src), config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dest := "duckdb:" + filepath.Join(dir, "once.duckdb")
	for run := 1; run <= 2; run++ {
		rc := &destinationtest.ReadCounter{}
		open := func(ctx context.Context, url, dataset string) (destination.Destination, error) {
			d, err := destination.Open(ctx, url, dataset)
			rc.Destination = d
			return rc, err
		}
		sum, err := pipeline.Run(context.Background(), p, pipeline.Options{Destination: dest, OpenDestination: open, WorkDir: filepath.Join(dir, "work")})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if sum.Resources[0].Status != "loaded" || sum.Resources[0].Rows["items"] != 2 {
			t.Errorf("run %d: %+v, want items loaded with 2 rows", run, sum.Resources[0])
		}
		if got := rc.Reads(load.VersionsTable); run == 2 && got != 1 {
			t.Errorf("run %d read the schema versions %d times, want once", run, got)
		}
	}
}
