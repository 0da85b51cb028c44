package files_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/schema"
)

// TestCommitLockTimeout: another process holds the dataset's lock file; a
// commit waits at most the lock timeout, then fails naming the lock file
// and --lock-timeout, instead of waiting forever.
func TestCommitLockTimeout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := destination.Open(ctx, "jsonl:"+dir, "ds")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	lockPath := filepath.Join(dir, "ds", ".restload.lock")
	if err := os.MkdirAll(filepath.Dir(lockPath), 0o755); err != nil {
		t.Fatal(err)
	}
	held, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := syscall.Flock(int(held.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	destination.SetLockWait(d, destination.LockWait{Timeout: 500 * time.Millisecond})
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tb := &schema.Table{Name: "items", Resource: "items", Columns: []*schema.Column{{Name: "id", Type: schema.BigInt, Nullable: true}}}
	if err := tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: tb}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Write(ctx, tb, destination.ModeAppend, destinationtest.NewRows([]any{int64(1)})); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- tx.Commit(ctx) }()
	select {
	case err := <-done:
		var lt *destination.LockTimeoutError
		if !errors.As(err, &lt) || !strings.Contains(err.Error(), lockPath) || !strings.Contains(err.Error(), "--lock-timeout") {
			t.Fatalf("commit while another holds the lock file: %v; want a lock timeout naming %s and --lock-timeout", err, lockPath)
		}
	case <-time.After(20 * time.Second):
		syscall.Flock(int(held.Fd()), syscall.LOCK_UN)
		<-done
		t.Fatal("commit waited for the lock file past its timeout")
	}
}
