package files_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/schema"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// TestCrashLeftoversIgnored plays the files a load killed in the middle of
// Commit leaves (data files renamed into place but never named by a
// manifest, temporary files) and checks that Read shows only committed
// loads and that the next commit removes the leftovers.
func TestCrashLeftoversIgnored(t *testing.T) {
	for _, format := range []string{"parquet", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			d, err := destination.Open(context.Background(), format+":"+dir, "ds")
			if err != nil {
				t.Fatal(err)
			}
			tb := &schema.Table{Name: "events", Columns: []*schema.Column{{Name: schema.ColID, Type: schema.Text}, {Name: "n", Type: schema.BigInt}}}
			destinationtest.CommitRows(t, d, tb, []schema.Change{{Kind: schema.AddTable, Table: tb}}, destination.ModeAppend, []any{"a", int64(1)})

			// A second load whose commit died after its renames: a data file
			// with a final-looking name, and a temporary file.
			tdir := filepath.Join(dir, "ds", "events")
			committed := dirNames(t, tdir)
			crashed := filepath.Join(t.TempDir(), "crashed")
			cd, err := destination.Open(context.Background(), format+":"+crashed, "ds")
			if err != nil {
				t.Fatal(err)
			}
			destinationtest.CommitRows(t, cd, tb, []schema.Change{{Kind: schema.AddTable, Table: tb}}, destination.ModeAppend, []any{"b", int64(2)})
			for _, n := range dirNames(t, filepath.Join(crashed, "ds", "events")) {
				if filepath.Ext(n) == "."+format {
					b, err := os.ReadFile(filepath.Join(crashed, "ds", "events", n))
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(tdir, "99999999999999999999-0000-orphan."+format), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			// A crashed load's temporary file, a day and more old, and one
			// of a load still running on this machine, just written.
			old := filepath.Join(tdir, ".tmp-123."+format)
			if err := os.WriteFile(old, []byte("partial"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(old, time.Now().Add(-25*time.Hour), time.Now().Add(-25*time.Hour)); err != nil {
				t.Fatal(err)
			}
			running := filepath.Join(tdir, ".tmp-456."+format)
			if err := os.WriteFile(running, []byte("being written"), 0o644); err != nil {
				t.Fatal(err)
			}

			rows := destinationtest.ReadAll(t, d, "events")
			if len(rows) != 1 || rows[0]["n"] != int64(1) {
				t.Fatalf("with a crashed commit's files present, Read = %v, want only the committed row n=1", rows)
			}

			destinationtest.CommitRows(t, d, tb, nil, destination.ModeAppend, []any{"c", int64(3)})
			rows = destinationtest.ReadAll(t, d, "events")
			if len(rows) != 2 || rows[0]["n"] != int64(1) || rows[1]["n"] != int64(3) {
				t.Fatalf("after the next commit Read = %v, want n=1 and n=3", rows)
			}
			if _, err := os.Stat(running); err != nil {
				t.Errorf("a running load's temporary file was removed: %v", err)
			}
			os.Remove(running)
			after := dirNames(t, tdir)
			if len(after) != len(committed)+1 {
				t.Errorf("after the next commit the folder holds %v; want the leftovers gone (before the crash: %v)", after, committed)
			}
			for _, n := range after {
				if n == ".tmp-123."+format || n == "99999999999999999999-0000-orphan."+format {
					t.Errorf("leftover %s was not removed", n)
				}
			}
		})
	}
}

// TestReplaceKeepsOldFilesUntilCommit checks that a replace leaves the old
// data files in place until its manifest is written, so that a crash before
// the commit loses nothing.
func TestReplaceKeepsOldFilesUntilCommit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := destination.Open(ctx, "parquet:"+dir, "ds")
	if err != nil {
		t.Fatal(err)
	}
	tb := &schema.Table{Name: "snap", Columns: []*schema.Column{{Name: schema.ColID, Type: schema.Text}, {Name: "v", Type: schema.Text}}}
	destinationtest.CommitRows(t, d, tb, []schema.Change{{Kind: schema.AddTable, Table: tb}}, destination.ModeReplace, []any{"1", "old"})

	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Write(ctx, tb, destination.ModeReplace, destinationtest.NewRows([]any{"2", "new"})); err != nil {
		t.Fatal(err)
	}
	// The process dies here: no Commit, no Rollback. A fresh handle (the next
	// process) must see the old rows.
	d2, err := destination.Open(ctx, "parquet:"+dir, "ds")
	if err != nil {
		t.Fatal(err)
	}
	rows := destinationtest.ReadAll(t, d2, "snap")
	if len(rows) != 1 || rows[0]["v"] != "old" {
		t.Fatalf("after a replace died before Commit, Read = %v, want the old row", rows)
	}
	_ = tx.Rollback(ctx)
}

// TestConcurrentCommits: loads of one dataset committing at the same time
// (processes on one machine, or machines on one bucket; here handles in
// goroutines) each keep their table: commits queue on the dataset's lock
// (a folder) or retry on top of the winner of the conditional write of the
// commit record (object storage) instead of writing over each other.
func TestConcurrentCommits(t *testing.T) {
	s3 := startFakeS3(t)
	for _, c := range []struct{ name, url string }{
		{"parquet", "parquet:" + t.TempDir()},
		{"jsonl", "jsonl:" + t.TempDir()},
		{"parquet/s3", "parquet:" + s3.bucket(t, "lake", "")},
		{"jsonl/file", "jsonl:file://" + filepath.ToSlash(t.TempDir())},
	} {
		t.Run(c.name, func(t *testing.T) {
			const loads = 8
			var wg sync.WaitGroup
			for i := range loads {
				wg.Go(func() {
					d, err := destination.Open(context.Background(), c.url, "ds")
					if err != nil {
						t.Error(err)
						return
					}
					defer d.Close()
					tb := &schema.Table{Name: fmt.Sprintf("t%d", i), Columns: []*schema.Column{{Name: schema.ColID, Type: schema.Text}}}
					destinationtest.CommitRows(t, d, tb, []schema.Change{{Kind: schema.AddTable, Table: tb}}, destination.ModeAppend, []any{"x"})
				})
			}
			wg.Wait()
			d := openDest(t, c.url, "ds")
			for i := range loads {
				if rows := destinationtest.ReadAll(t, d, fmt.Sprintf("t%d", i)); len(rows) != 1 {
					t.Errorf("table t%d: %d rows, want 1", i, len(rows))
				}
			}
		})
	}
}
