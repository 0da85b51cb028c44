package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	_ "github.com/restload/restload/internal/destination/duckdb"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/pipeline"
)

var demoCreds = map[string]string{
	"CLIENT_ID":            mockapi.DefaultClientID,
	"CLIENT_SECRET":        mockapi.DefaultClientSecret,
	"CLIENT_REFRESH_TOKEN": mockapi.DefaultRefreshToken,
}

// examplePipeline loads examples/analytics/pipeline.yaml pointed at api,
// with retry waits shortened so faults cost milliseconds, not seconds.
func examplePipeline(t *testing.T, api *mockapi.Running) *config.Pipeline {
	t.Helper()
	p, err := config.Load(filepath.Join("..", "..", "examples", "analytics", "pipeline.yaml"), config.LoadOptions{
		SecretsFile: "",
		LookupEnv:   func(k string) (string, bool) { v, ok := demoCreds[k]; return v, ok },
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

// readKeys returns how many rows of table carry each value of column.
func readKeys(t *testing.T, d destination.Destination, table, column string) map[string]int {
	t.Helper()
	out := map[string]int{}
	err := d.Read(context.Background(), table, func(row map[string]any) error {
		s, _ := row[column].(string)
		out[s]++
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return out
}

// TestSeedPipelineEndToEnd runs the example pipeline against the mock API
// with expiring tokens, 5xx faults, 429 bursts and records that shift between
// pages, and checks every record lands in its table exactly once, twice over.
// Resources load in parts of 200 rows while they extract, so a record
// served twice (shifted pages) is often in two parts of one merge.
func TestSeedPipelineEndToEnd(t *testing.T) {
	dir := t.TempDir()
	seedEndToEnd(t, dir, "duckdb:"+filepath.Join(dir, "e2e.duckdb"), "analytics")
}

// seedEndToEnd is TestSeedPipelineEndToEnd into dataset of dest, with its
// work dir in dir.
func seedEndToEnd(t *testing.T, dir, dest, dataset string) {
	ctx := context.Background()
	const records = 750
	opts := mockapi.Options{
		Records:            records,
		RecordsPer:         map[string]int{"teams": 0, "templates": 99},
		TokenTTL:           500 * time.Millisecond, // shorter than a run: ~10 requests one after another per resource x 80 ms latency; 200 ms tokens got 401s on a loaded machine
		RotateRefreshToken: true,
		Latency:            80 * time.Millisecond,
		FaultEvery:         9,
		RateLimitEvery:     13,
		BurstLen:           2,
		RetryAfter:         "0",
		ShiftRecords:       true,
	}
	for run := 1; run <= 2; run++ {
		if run == 2 {
			// The first run's server rotated the refresh token, and
			// restload does not persist rotated tokens (they are
			// secrets): the second run talks to a fresh server with the
			// same data.
			opts.RotateRefreshToken = false
		}
		api, err := mockapi.Start(ctx, "127.0.0.1:0", opts)
		if err != nil {
			t.Fatal(err)
		}
		defer api.Close()
		p := examplePipeline(t, api)
		p.Pipeline.Dataset = dataset
		// One page at a time, so a run outlasts the tokens: with pages
		// fetched 8 ahead, all of a resource's pages took two round trips
		// and a run could end before its first token expired.
		one := 1
		if p.Limits == nil {
			p.Limits = &config.Limits{}
		}
		p.Limits.Prefetch = &config.Prefetch{Pages: &one}
		sum, err := pipeline.Run(ctx, p, pipeline.Options{Parts: partRows(200), Destination: dest, WorkDir: filepath.Join(dir, "work")})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if len(sum.Resources) != 8 {
			t.Fatalf("run %d: %d resources in summary, want 8", run, len(sum.Resources))
		}
		d, err := destination.Open(ctx, dest, dataset)
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range api.Server.Resources() {
			n := api.Server.Count(res)
			if res == "teams" {
				// No records: no table, and that is not an error.
				if err := d.Read(ctx, res, func(map[string]any) error { return nil }); err == nil {
					t.Errorf("run %d: table teams exists for a resource with no records", run)
				}
				continue
			}
			got := readKeys(t, d, res, "id")
			if len(got) != n {
				t.Errorf("run %d: %s has %d distinct ids, the API has %d records", run, res, len(got), n)
			}
			for i := 0; i < n; i++ {
				id, _ := api.Server.Record(res, i)["id"].(string)
				if got[id] != 1 {
					t.Errorf("run %d: %s id %q is in the table %d times, want once", run, res, id, got[id])
				}
			}
		}
		// Child rows point at parent rows that exist.
		parents := readKeys(t, d, "files", "_dlt_id")
		tags := readKeys(t, d, "files__tags", "_dlt_parent_id")
		if len(tags) == 0 {
			t.Errorf("run %d: files__tags is empty", run)
		}
		for pid := range tags {
			if parents[pid] != 1 {
				t.Errorf("run %d: files__tags row points at parent %q, which is not in files", run, pid)
			}
		}
		assertNoSecrets(t, d)
		d.Close()
		st := api.Server.Stats()
		if st.Served5xx == 0 || st.Served429 == 0 {
			t.Errorf("run %d: the mock served %d 5xx and %d 429: the test did not exercise retries", run, st.Served5xx, st.Served429)
		}
		if st.TokenRequests < 2 {
			t.Errorf("run %d: %d token requests: tokens did not expire during the run", run, st.TokenRequests)
		}
		var retries int64
		for _, r := range sum.Resources {
			retries += r.Retries
		}
		if want := st.Served5xx + st.Served429; retries != want {
			t.Errorf("run %d: summary counts %d retries, the mock answered %d 5xx/429", run, retries, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "work", "packages")); err == nil {
		entries, _ := os.ReadDir(filepath.Join(dir, "work", "packages"))
		if len(entries) != 0 {
			t.Errorf("%d load packages left on disk after successful runs", len(entries))
		}
	}
}

// assertNoSecrets reads every table, bookkeeping included, and fails if a
// credential appears in any value.
func assertNoSecrets(t *testing.T, d destination.Destination) {
	t.Helper()
	ctx := context.Background()
	sch, err := load.StoredSchema(ctx, d)
	if err != nil || sch == nil {
		t.Fatalf("stored schema: %v, %v", sch, err)
	}
	tables := []string{load.LoadsTable, load.VersionsTable, load.StateTable}
	for _, tb := range sch.Tables {
		tables = append(tables, tb.Name)
	}
	secrets := []string{mockapi.DefaultClientSecret, mockapi.DefaultRefreshToken}
	for _, tb := range tables {
		err := d.Read(ctx, tb, func(row map[string]any) error {
			for col, v := range row {
				s := fmt.Sprint(v)
				for _, sec := range secrets {
					if strings.Contains(s, sec) {
						t.Errorf("secret %q found in %s.%s", sec, tb, col)
					}
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, destination.ErrNoTable) {
			t.Fatalf("read %s: %v", tb, err)
		}
	}
}
