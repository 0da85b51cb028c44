package files_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/pipeline"
)

// seedPipeline is examples/analytics/pipeline.yaml with replace instead of
// merge (files do not merge), pointed at api, retry waits shortened.
func seedPipeline(t *testing.T, api *mockapi.Running) *config.Pipeline {
	t.Helper()
	file := filepath.Join("..", "..", "..", "examples", "analytics", "pipeline.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "write_disposition: merge", "write_disposition: replace")
	creds := map[string]string{
		"CLIENT_ID":            mockapi.DefaultClientID,
		"CLIENT_SECRET":        mockapi.DefaultClientSecret,
		"CLIENT_REFRESH_TOKEN": mockapi.DefaultRefreshToken,
	}
	p, err := config.Parse(file, []byte(text), config.LoadOptions{
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

// TestSeedPipelineIntoS3 runs the seed pipeline (the bundled mock API,
// with expiring tokens, 5xx faults and 429 bursts) into parquet on the
// fake S3: once with the store failing after a few uploads (the run
// fails), then twice healthy, and checks after each healthy run that every
// record is in its table exactly once and child rows point at parents.
func TestSeedPipelineIntoS3(t *testing.T) {
	ctx := context.Background()
	s3 := startFakeS3(t)
	dest := "parquet:" + s3.bucket(t, "lake", "")
	work := t.TempDir()
	opts := mockapi.Options{
		Records:        600,
		RecordsPer:     map[string]int{"teams": 0, "templates": 99},
		TokenTTL:       time.Second, // 200 ms tokens got 401s when a loaded machine held pages fetched ahead past the renewal margin
		Latency:        5 * time.Millisecond,
		FaultEvery:     9,
		RateLimitEvery: 13,
		BurstLen:       2,
		RetryAfter:     "0",
	}
	for run := 0; run <= 2; run++ {
		api, err := mockapi.Start(ctx, "127.0.0.1:0", opts)
		if err != nil {
			t.Fatal(err)
		}
		defer api.Close()
		if run == 0 {
			s3.failUploadsAfter(5)
		} else {
			s3.fault.Store(nil)
		}
		_, err = pipeline.Run(ctx, seedPipeline(t, api), pipeline.Options{Destination: dest, WorkDir: work})
		if run == 0 {
			if err == nil || !strings.Contains(err.Error(), "injected crash") {
				t.Fatalf("run with the store failing: err %v, want the injected crash", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		d := openDest(t, dest, "analytics")
		for _, res := range api.Server.Resources() {
			n := api.Server.Count(res)
			if n == 0 {
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
			if len(got) != n {
				t.Errorf("run %d: %s has %d distinct ids, the API has %d records", run, res, len(got), n)
			}
			for i := range n {
				id, _ := api.Server.Record(res, i)["id"].(string)
				if got[id] != 1 {
					t.Errorf("run %d: %s id %q is in the table %d times, want once", run, res, id, got[id])
				}
			}
		}
		parents := map[string]bool{}
		_ = d.Read(ctx, "files", func(row map[string]any) error { parents[row["_dlt_id"].(string)] = true; return nil })
		var tags int
		err = d.Read(ctx, "files__tags", func(row map[string]any) error {
			tags++
			if pid, _ := row["_dlt_parent_id"].(string); !parents[pid] {
				t.Errorf("run %d: files__tags row points at parent %q, which is not in files", run, pid)
			}
			return nil
		})
		if err != nil || tags == 0 {
			t.Errorf("run %d: files__tags: %d rows, %v", run, tags, err)
		}
		if _, err := destination.Count(ctx, d, load.LoadsTable); err != nil {
			t.Errorf("run %d: the loads table is not in the bucket: %v", run, err)
		}
	}
}
