package iceberg_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// genRows yields rows [from, from+n) of a table (_dlt_id, id, payload)
// without holding them: payload is payloadLen bytes that differ per row.
type genRows struct {
	from, i, n int
	vals       []any
}

const payloadLen = 1000

func (g *genRows) Next() bool {
	if g.i >= g.n {
		return false
	}
	k := g.from + g.i
	g.i++
	p := strings.Repeat(fmt.Sprintf("%016x", uint64(k)*0x9e3779b97f4a7c15), payloadLen/16)
	g.vals = []any{fmt.Sprintf("id%09d", k), int64(k), p}
	return true
}
func (g *genRows) Values() []any { return g.vals }
func (g *genRows) Err() error    { return nil }

// peakHeap samples the heap in use until stop is called and returns the
// greatest value seen.
func peakHeap() (stop func() uint64) {
	var (
		mu   sync.Mutex
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		peak = max(peak, ms.HeapInuse)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				sample()
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		sample()
		return peak
	}
}

// TestMemoryBounded loads 100,000 rows of about 1 kB (100 MB of text) in
// writes of 5,000 rows, appended and merged: the heap in use while writing
// and committing stays under 80 MB above where it started, as the rows go
// to spill files and from there to iceberg-go a few at a time; every row
// is in the table after; the spill files are mode 0600 while the load runs
// and gone after Commit and after Rollback.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100 MB")
	}
	const (
		rows  = 100_000
		batch = 5_000
		bound = 80 << 20
	)
	for _, mode := range []destination.Mode{destination.ModeAppend, destination.ModeStage} {
		t.Run(fmt.Sprint("mode", mode), func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			d := open(t, "iceberg:"+t.TempDir(), "mem")
			tb := &schema.Table{Name: "big", Resource: "big", WriteDisposition: schema.Append, Columns: []*schema.Column{
				{Name: schema.ColID, Type: schema.Text, Nullable: true, System: true},
				{Name: "id", Type: schema.BigInt, PrimaryKey: mode == destination.ModeStage},
				{Name: "payload", Type: schema.Text, Nullable: true},
			}}
			if mode == destination.ModeStage {
				tb.WriteDisposition = schema.Merge
			}
			ctx := context.Background()
			// Collect garbage often, so that the heap in use follows what
			// the load holds rather than what it has dropped.
			defer debug.SetGCPercent(debug.SetGCPercent(10))
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapInuse
			stop := peakHeap()
			tx, err := d.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if err := tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: tb}}); err != nil {
				t.Fatal(err)
			}
			for from := 0; from < rows; from += batch {
				n, err := tx.Write(ctx, tb, mode, &genRows{from: from, n: batch})
				if err != nil || n != batch {
					t.Fatalf("Write: %d rows, %v", n, err)
				}
			}
			spilled := spillFiles(t, tmp)
			if len(spilled) == 0 {
				t.Errorf("no spill files in %s while the load runs", tmp)
			}
			for _, f := range spilled {
				if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("spill file %s: mode %v, %v; want 0600", f, fi.Mode().Perm(), err)
				}
			}
			if mode == destination.ModeStage {
				if err := tx.Merge(ctx, tb, nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			peak := stop()
			if peak > base+bound {
				t.Errorf("heap in use peaked at %d MB above the start, want under %d MB", (peak-base)>>20, bound>>20)
			}
			t.Logf("heap peak %d MB above the start", (peak-base)>>20)
			if left := spillFiles(t, tmp); len(left) > 0 {
				t.Errorf("spill files left after Commit: %v", left)
			}
			var got int
			if err := d.Read(ctx, "big", func(map[string]any) error { got++; return nil }); err != nil {
				t.Fatal(err)
			}
			if got != rows {
				t.Errorf("table holds %d rows, want %d", got, rows)
			}

			// A load rolled back leaves no spill files either.
			tx, err = d.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Write(ctx, tb, mode, &genRows{n: 10}); err != nil {
				t.Fatal(err)
			}
			if len(spillFiles(t, tmp)) == 0 {
				t.Errorf("no spill files in %s while the load runs", tmp)
			}
			if err := tx.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			if left := spillFiles(t, tmp); len(left) > 0 {
				t.Errorf("spill files left after Rollback: %v", left)
			}
		})
	}
}

// spillFiles lists the files under dir.
func spillFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
