package pipeline_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/restload/restload/internal/destination"
	_ "github.com/restload/restload/internal/destination/duckdb"
	_ "github.com/restload/restload/internal/destination/files"
	"github.com/restload/restload/internal/pipeline"
)

// limitRecorder is a destination whose MemoryLimiter call is recorded
// before it reaches the real one.
type limitRecorder struct {
	destination.Destination
	got *atomic.Int64
}

func (l limitRecorder) LimitMemory(ctx context.Context, bytes int64) error {
	l.got.Store(bytes)
	return l.Destination.(destination.MemoryLimiter).LimitMemory(ctx, bytes)
}

// TestMemoryBudget: a run's memory budget (limits.memory, or
// Options.Memory, which wins) sets Go's soft memory limit while the run
// extracts, and sets it back after; DuckDB gets its share as its
// memory_limit, and Go then a smaller share than beside a file
// destination.
func TestMemoryBudget(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name, dest, limits string
		opt                int64
		wantGo, wantDest   int64
	}{
		{name: "duckdb, from the file", dest: "duckdb", limits: "limits: {memory: 512MiB}\n", wantGo: 96 * mib, wantDest: 144 * mib},
		{name: "duckdb, the option wins", dest: "duckdb", limits: "limits: {memory: 512MiB}\n", opt: 1024 * mib, wantGo: 224 * mib, wantDest: 336 * mib},
		{name: "jsonl", dest: "jsonl", limits: "limits: {memory: 512MiB}\n", wantGo: 288 * mib},
		{name: "no budget", dest: "jsonl", wantGo: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := debug.SetMemoryLimit(-1)
			gcBefore := debug.SetGCPercent(-1)
			debug.SetGCPercent(gcBefore)
			var during, gcDuring atomic.Int64
			p := servedPipeline(t, tc.limits+`
pipeline: {name: mem, dataset: mem}
source:
  client: {base_url: BASE}
  resources:
    - name: items
      endpoint: {path: items, paginator: single_page}
`, func(w http.ResponseWriter, r *http.Request) {
				during.Store(debug.SetMemoryLimit(-1))
				gc := debug.SetGCPercent(-1)
				debug.SetGCPercent(gc)
				gcDuring.Store(int64(gc))
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`[{"id": 1}, {"id": 2}]`))
			})
			url := "jsonl:" + t.TempDir()
			if tc.dest == "duckdb" {
				url = "duckdb:" + filepath.Join(t.TempDir(), "mem.duckdb")
			}
			var destGot atomic.Int64
			open := func(ctx context.Context, url, dataset string) (destination.Destination, error) {
				d, err := destination.Open(ctx, url, dataset)
				if _, ok := d.(destination.MemoryLimiter); ok && err == nil {
					return limitRecorder{d, &destGot}, nil
				}
				return d, err
			}
			if _, err := pipeline.Run(context.Background(), p, pipeline.Options{Destination: url, WorkDir: filepath.Join(t.TempDir(), "work"),
				Memory: tc.opt, OpenDestination: open}); err != nil {
				t.Fatal(err)
			}
			want := tc.wantGo
			if want < 0 {
				want = before
			}
			if got := during.Load(); got != want {
				t.Errorf("Go's memory limit during the run = %d MiB, want %d MiB", got/mib, want/mib)
			}
			if got := destGot.Load(); got != tc.wantDest {
				t.Errorf("destination's limit = %d MiB, want %d MiB", got/mib, tc.wantDest/mib)
			}
			// With a budget the collector runs at Go's limit only (GOGC
			// off), unless the environment sets GOGC.
			wantGC := int64(gcBefore)
			if tc.wantGo >= 0 && os.Getenv("GOGC") == "" {
				wantGC = -1
			}
			if got := gcDuring.Load(); got != wantGC {
				t.Errorf("GOGC during the run = %d, want %d", got, wantGC)
			}
			if gc := debug.SetGCPercent(gcBefore); gc != gcBefore {
				t.Errorf("GOGC after the run = %d, want it set back to %d", gc, gcBefore)
			}
			if after := debug.SetMemoryLimit(-1); after != before {
				t.Errorf("Go's memory limit after the run = %d, want it set back to %d", after, before)
			}
			if strings.Contains(tc.name, "no budget") && destGot.Load() != 0 {
				t.Error("a run without a budget limited the destination")
			}
		})
	}
}
