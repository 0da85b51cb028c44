package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/schema"
)

// TestLockTimeout: another session holds the dataset's advisory lock, then
// a lock on one of its tables. A load waits for each at most the lock
// timeout, says after a few seconds what it waits for and which backend
// holds it, and then fails naming the lock and the setting to change,
// instead of waiting forever.
func TestLockTimeout(t *testing.T) {
	ctx := context.Background()
	dataset := destinationtest.Dataset(t)
	d := openDataset(t, dataset)
	tb := &schema.Table{Name: "items", Resource: "items", Columns: []*schema.Column{{Name: "id", Type: schema.BigInt, Nullable: true}}}
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: tb}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	other, err := pgx.Connect(ctx, destinationtest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	var otherPID int
	if err := other.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&otherPID); err != nil {
		t.Fatal(err)
	}

	timeout := destination.LockNoticeAfter + time.Second
	t.Run("advisory", func(t *testing.T) {
		h := fnv.New64a()
		h.Write([]byte("restload dataset " + dataset))
		if _, err := other.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(h.Sum64())); err != nil {
			t.Fatal(err)
		}
		defer other.Exec(ctx, "SELECT pg_advisory_unlock_all()")
		tx, wctx, logs := destinationtest.BeginWaiting(t, d, timeout)
		start := time.Now()
		err = tx.(destination.Serializer).Serialize(wctx)
		var lt *destination.LockTimeoutError
		if !errors.As(err, &lt) || !strings.Contains(err.Error(), "--lock-timeout") || !strings.Contains(err.Error(), dataset) {
			t.Fatalf("Serialize while another session holds the lock: %v after %s; want a lock timeout naming the dataset and --lock-timeout", err, time.Since(start))
		}
		if el := time.Since(start); el < timeout || el > timeout+5*time.Second {
			t.Errorf("gave up after %s, want about %s", el, timeout)
		}
		pid := fmt.Sprintf("pid %d", otherPID)
		if !strings.Contains(err.Error(), pid) || !strings.Contains(logs.String(), "waiting for a lock") || !strings.Contains(logs.String(), pid) {
			t.Errorf("neither the error nor the log name the holder (%s): %v\n%s", pid, err, logs.String())
		}
	})

	t.Run("table", func(t *testing.T) {
		otx, err := other.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer otx.Rollback(ctx)
		if _, err := otx.Exec(ctx, "LOCK TABLE "+pgx.Identifier{dataset, "items"}.Sanitize()+" IN ACCESS EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
		tx, wctx, logs := destinationtest.BeginWaiting(t, d, timeout)
		col := &schema.Column{Name: "name", Type: schema.Text, Nullable: true}
		err = tx.Apply(wctx, []schema.Change{{Kind: schema.AddColumn, Table: tb, Column: col}})
		var lt *destination.LockTimeoutError
		if !errors.As(err, &lt) || !strings.Contains(err.Error(), `"items"`) || !strings.Contains(err.Error(), "--lock-timeout") {
			t.Fatalf("ALTER TABLE while another session locks the table: %v; want a lock timeout naming the table and --lock-timeout", err)
		}
		if !strings.Contains(logs.String(), fmt.Sprintf("pid %d", otherPID)) {
			t.Errorf("the log does not name the session holding the table lock (pid %d):\n%s", otherPID, logs.String())
		}
	})
}
