package iceberg_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/iceberg-go/catalog"
	_ "github.com/apache/iceberg-go/catalog/hadoop"
	"github.com/apache/iceberg-go/table"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/pipeline"
)

// seedPipeline loads examples/analytics/pipeline.yaml pointed at api, with
// retry waits shortened.
func seedPipeline(t *testing.T, api *mockapi.Running) *config.Pipeline {
	t.Helper()
	creds := map[string]string{
		"CLIENT_ID":            mockapi.DefaultClientID,
		"CLIENT_SECRET":        mockapi.DefaultClientSecret,
		"CLIENT_REFRESH_TOKEN": mockapi.DefaultRefreshToken,
	}
	p, err := config.Load(filepath.Join("..", "..", "..", "examples", "analytics", "pipeline.yaml"), config.LoadOptions{
		LookupEnv: func(k string) (string, bool) { v, ok := creds[k]; return v, ok },
	})
	if err != nil {
		t.Fatal(err)
	}
	p.Source.Client.BaseURL = api.URL
	p.Source.Client.Auth.TokenURL = api.TokenURL
	factor := 0.001
	p.Retry.BackoffFactor = &factor
	p.Retry.MaxDelay = config.Duration(10 * time.Millisecond)
	return p
}

// TestSeedPipelineTwice runs the seed pipeline (eight resources, merge on
// id, child tables) from the bundled mock API into an Iceberg warehouse
// twice, with 5xx faults, 429s and records shifting between pages: every
// record is in its table exactly once after each run, read back both
// through the destination and with iceberg-go's own catalog and scan, and
// each run added exactly one snapshot to each table it loaded, tagged with
// its load id.
func TestSeedPipelineTwice(t *testing.T) {
	ctx := context.Background()
	opts := mockapi.Options{
		Records:        300,
		RecordsPer:     map[string]int{"teams": 0, "templates": 37},
		FaultEvery:     9,
		RateLimitEvery: 13,
		BurstLen:       2,
		RetryAfter:     "0",
		ShiftRecords:   true,
	}
	dir := t.TempDir()
	warehouse := filepath.Join(dir, "warehouse")
	dest := "iceberg:" + warehouse
	cat, err := catalog.Load(ctx, "check", map[string]string{"type": string(catalog.Hadoop), "warehouse": "file://" + warehouse})
	if err != nil {
		t.Fatal(err)
	}
	var loadIDs []string
	for run := 1; run <= 2; run++ {
		api, err := mockapi.Start(ctx, "127.0.0.1:0", opts)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := pipeline.Run(ctx, seedPipeline(t, api), pipeline.Options{Destination: dest, WorkDir: filepath.Join(dir, "work")})
		api.Close()
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		loadIDs = append(loadIDs, sum.LoadID)
		d, err := destination.Open(ctx, dest, "analytics")
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range api.Server.Resources() {
			n := api.Server.Count(res)
			if n == 0 {
				if err := d.Read(ctx, res, func(map[string]any) error { return nil }); err == nil {
					t.Errorf("run %d: table %s exists for a resource with no records", run, res)
				}
				continue
			}
			got := map[string]int{}
			if err := d.Read(ctx, res, func(row map[string]any) error {
				id, _ := row["id"].(string)
				got[id]++
				return nil
			}); err != nil {
				t.Fatalf("run %d: read %s: %v", run, res, err)
			}
			for i := 0; i < n; i++ {
				id, _ := api.Server.Record(res, i)["id"].(string)
				if got[id] != 1 {
					t.Errorf("run %d: %s id %q is in the table %d times, want once", run, res, id, got[id])
				}
			}
			if len(got) != n {
				t.Errorf("run %d: %s has %d distinct ids, the API has %d records", run, res, len(got), n)
			}

			// The same table through iceberg-go alone.
			tbl, err := cat.LoadTable(ctx, table.Identifier{"analytics", res})
			if err != nil {
				t.Fatalf("run %d: iceberg-go load %s: %v", run, res, err)
			}
			arrowTable, err := tbl.Scan().ToArrowTable(ctx)
			if err != nil {
				t.Fatalf("run %d: iceberg-go scan %s: %v", run, res, err)
			}
			if rows := arrowTable.NumRows(); rows != int64(n) {
				t.Errorf("run %d: iceberg-go scan of %s: %d rows, want %d", run, res, rows, n)
			}
			arrowTable.Release()
			var tagged []string
			for _, s := range tbl.Metadata().Snapshots() {
				if s.Summary != nil {
					tagged = append(tagged, s.Summary.Properties["restload.load-id"])
				}
			}
			if len(tagged) != run || tagged[run-1] != sum.LoadID {
				t.Errorf("run %d: %s has snapshots of loads %q, want one per run ending with %s", run, res, tagged, sum.LoadID)
			}
		}
		d.Close()
	}
	if loadIDs[0] == loadIDs[1] {
		t.Errorf("both runs have load id %s", loadIDs[0])
	}
}
