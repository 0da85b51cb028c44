package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/pipeline"
)

func startMock(t *testing.T, opts mockapi.Options) *mockapi.Running {
	t.Helper()
	api, err := mockapi.Start(context.Background(), "127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })
	return api
}

// TestSharesIntoNewPostgresDataset runs two shares of a pipeline's
// resources (--resource) at once into a PostgreSQL dataset that does not
// exist yet, several times: both create the schema and the bookkeeping
// tables, and both must load, every record once.
func TestSharesIntoNewPostgresDataset(t *testing.T) {
	url := destinationtest.PostgresURL(t)
	sharesIntoNewDataset(t, url, func(dataset string) { destinationtest.DropOnCleanup(t, url, dataset) })
}

// sharesIntoNewDataset is TestSharesIntoNewPostgresDataset into the server
// at url; drop drops a dataset when the test ends. Each round then runs
// both shares at once again, into the dataset that now exists: every
// record is still there once.
func sharesIntoNewDataset(t *testing.T, url string, drop func(dataset string)) {
	api := startMock(t, mockapi.Options{Records: 30})
	shares := [][]string{{"files", "connections", "datasets", "members"}, {"teams", "templates", "workspaces", "workbooks"}}
	for round := range 4 {
		p := examplePipeline(t, api)
		p.Pipeline.Dataset = destinationtest.Dataset(t)
		drop(p.Pipeline.Dataset)
		for again := range 2 {
			var wg sync.WaitGroup
			errs := make([]error, len(shares))
			for i, share := range shares {
				wg.Go(func() {
					_, errs[i] = pipeline.Run(context.Background(), p, pipeline.Options{Destination: url,
						WorkDir: filepath.Join(t.TempDir(), "work"), Resources: share})
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d.%d: share %v: %v", round, again, shares[i], err)
				}
			}
			d, err := destination.Open(context.Background(), url, p.Pipeline.Dataset)
			if err != nil {
				t.Fatal(err)
			}
			loads, err := load.Loads(context.Background(), d)
			if err != nil || len(loads) != 2*(again+1) {
				t.Errorf("round %d.%d: %d loads recorded (%v), want %d", round, again, len(loads), err, 2*(again+1))
			}
			for _, share := range shares {
				for _, res := range share {
					keys := readKeys(t, d, res, "id")
					if got, want := len(keys), api.Server.Count(res); got != want {
						t.Errorf("round %d.%d: %s has %d ids, want %d", round, again, res, got, want)
					}
					for id, n := range keys {
						if n != 1 {
							t.Errorf("round %d.%d: %s id %q is there %d times, want once", round, again, res, id, n)
						}
					}
				}
			}
			d.Close()
		}
	}
}

// TestSamePipelineTwice starts a run while another run of the same
// pipeline holds the work dir: the second fails at once, naming the
// pipeline and the lock file, and the first is not disturbed. A run of
// another pipeline in the same work dir is not held up.
func TestSamePipelineTwice(t *testing.T) {
	api := startMock(t, mockapi.Options{Records: 30})
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	p := examplePipeline(t, api)
	ctx := context.Background()
	entered := make(chan struct{})
	release := make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		_, err := pipeline.Run(ctx, p, pipeline.Options{Destination: "duckdb:" + filepath.Join(dir, "a.duckdb"), WorkDir: work,
			AfterExtract: func(string) { close(entered); <-release }})
		firstDone <- err
	}()
	select {
	case <-entered:
	case err := <-firstDone:
		t.Fatalf("first run ended early: %v", err)
	}
	start := time.Now()
	_, err := pipeline.Run(ctx, p, pipeline.Options{Destination: "duckdb:" + filepath.Join(dir, "b.duckdb"), WorkDir: work})
	if err == nil {
		t.Fatal("second run of the same pipeline in the same work dir succeeded while the first ran")
	}
	lockFile := filepath.Join(work, "analytics.lock")
	for _, want := range []string{`pipeline "analytics"`, lockFile, fmt.Sprintf("pid %d", os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("second run's error does not name %q: %v", want, err)
		}
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("second run took %s to fail, want at once", time.Since(start))
	}
	// Another pipeline in the same work dir runs meanwhile.
	other := examplePipeline(t, api)
	other.Pipeline.Name = "other"
	if _, err := pipeline.Run(ctx, other, pipeline.Options{Destination: "duckdb:" + filepath.Join(dir, "c.duckdb"), WorkDir: work,
		Resources: []string{"teams"}}); err != nil {
		t.Errorf("another pipeline in the same work dir: %v", err)
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatalf("first run failed: %v", err)
	}
	// The lock is released with the run.
	if _, err := pipeline.Run(ctx, p, pipeline.Options{Destination: "duckdb:" + filepath.Join(dir, "a.duckdb"), WorkDir: work}); err != nil {
		t.Fatalf("a run after the first ended: %v", err)
	}
}

// TestPackageBoundToDestination leaves a sealed package of a run into one
// DuckDB file, then runs the pipeline into another file (and another
// dataset): the package is left alone, with a warning naming it, its
// destination and dataset and how to load or discard it. A run into the
// package's own destination, with --resource naming one resource, loads
// the whole package there, and says so.
func TestPackageBoundToDestination(t *testing.T) {
	api := startMock(t, mockapi.Options{Records: 30})
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	destA := "duckdb:" + filepath.Join(dir, "a.duckdb")
	destB := "duckdb:" + filepath.Join(dir, "b.duckdb")
	p := examplePipeline(t, api)
	ctx := context.Background()
	crash := errors.New("crash")
	_, err := runCatching(ctx, p, pipeline.Options{Destination: destA, WorkDir: work, Resources: []string{"files", "teams"},
		AfterExtract: func(string) { panic(crash) }})
	if err != crash {
		t.Fatalf("first run: %v, want the simulated crash", err)
	}
	sealed, _ := filepath.Glob(filepath.Join(work, "packages", "*", "manifest.json"))
	if len(sealed) != 1 {
		t.Fatalf("%d packages left, want 1", len(sealed))
	}
	pkgDir := filepath.Dir(sealed[0])
	loadID := filepath.Base(pkgDir)

	for _, other := range []struct{ dest, dataset string }{{destB, "analytics"}, {destA, "elsewhere"}} {
		var logs bytes.Buffer
		q := examplePipeline(t, api)
		q.Pipeline.Dataset = other.dataset
		sum, err := pipeline.Run(ctx, q, pipeline.Options{Destination: other.dest, WorkDir: work, Resources: []string{"members"},
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("run into %s %s: %v", other.dest, other.dataset, err)
		}
		if len(sum.Pending) != 0 {
			t.Errorf("run into %s %s loaded the package of a run into %s analytics: %v", other.dest, other.dataset, destA, sum.Pending)
		}
		if _, err := os.Stat(pkgDir); err != nil {
			t.Fatalf("package gone after a run into another destination: %v", err)
		}
		for _, want := range []string{loadID, filepath.Join(dir, "a.duckdb"), "dataset=analytics", "--dest", "rm -r"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("run into %s %s: the log does not say %q:\n%s", other.dest, other.dataset, want, logs.String())
			}
		}
		d, err := destination.Open(ctx, other.dest, other.dataset)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := destination.Count(ctx, d, "files"); n != 0 {
			t.Errorf("%s %s: files has %d rows, want none (the package is not its to load)", other.dest, other.dataset, n)
		}
		d.Close()
	}

	var logs bytes.Buffer
	sum, err := pipeline.Run(ctx, p, pipeline.Options{Destination: destA, WorkDir: work, Resources: []string{"members"},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Pending) != 1 || sum.Pending[0] != loadID {
		t.Errorf("run into the package's destination loaded %v, want [%s]", sum.Pending, loadID)
	}
	if !strings.Contains(logs.String(), "whatever --resource says") {
		t.Errorf("the log does not say the package loads whole whatever --resource says:\n%s", logs.String())
	}
	d, err := destination.Open(ctx, destA, "analytics")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, res := range []string{"files", "teams", "members"} {
		if got, want := len(readKeys(t, d, res, "id")), api.Server.Count(res); got != want {
			t.Errorf("%s has %d ids, want %d", res, got, want)
		}
	}
}

// runCatching runs p, turning a panic with an error (a simulated crash)
// into that error.
func runCatching(ctx context.Context, p *config.Pipeline, opts pipeline.Options) (_ *pipeline.Summary, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(error)
			if !ok {
				panic(r)
			}
			err = e
		}
	}()
	return pipeline.Run(ctx, p, opts)
}
