package mysql_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	mysqldest "github.com/restload/restload/internal/destination/mysql"
	"github.com/restload/restload/internal/schema"
)

// TestLockTimeout: another session holds the dataset's named lock, then a
// lock on one of its tables. A load waits for each at most the lock
// timeout (for the named lock it says after a few seconds what it waits
// for and which connection holds it) and then fails naming the lock and
// the setting to change, instead of waiting forever.
func TestLockTimeout(t *testing.T) {
	ctx := context.Background()
	dataset := destinationtest.Dataset(t)
	d := openDataset(t, dataset)
	tb := &schema.Table{Name: "items", Columns: []*schema.Column{{Name: "id", Type: schema.BigInt, Nullable: true}}}
	destinationtest.CommitRows(t, d, tb, []schema.Change{{Kind: schema.AddTable, Table: tb}}, destination.ModeAppend, []any{int64(1)})

	cfg, err := mysqldest.Config(destinationtest.MySQLURL(t))
	if err != nil {
		t.Fatal(err)
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	other, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var otherID int64
	if err := other.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&otherID); err != nil {
		t.Fatal(err)
	}

	timeout := destination.LockNoticeAfter + time.Second
	t.Run("dataset", func(t *testing.T) {
		h := fnv.New64a()
		h.Write([]byte("restload dataset " + dataset))
		name := fmt.Sprintf("restload:%016x", h.Sum64())
		if _, err := other.ExecContext(ctx, "DO GET_LOCK(?, 0)", name); err != nil {
			t.Fatal(err)
		}
		defer other.ExecContext(ctx, "DO RELEASE_ALL_LOCKS()")
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
		holder := fmt.Sprintf("connection id %d", otherID)
		if !strings.Contains(err.Error(), holder) || !strings.Contains(logs.String(), "waiting for a lock") || !strings.Contains(logs.String(), holder) {
			t.Errorf("neither the error nor the log name the holder (%s): %v\n%s", holder, err, logs.String())
		}
	})

	t.Run("table", func(t *testing.T) {
		otx, err := other.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer otx.Rollback()
		if _, err := otx.ExecContext(ctx, "SELECT * FROM `"+dataset+"`.items FOR UPDATE"); err != nil {
			t.Fatal(err)
		}
		tx, wctx, _ := destinationtest.BeginWaiting(t, d, timeout)
		col := &schema.Column{Name: "name", Type: schema.Text, Nullable: true}
		wider := tb.Clone()
		wider.Columns = append(wider.Columns, col)
		if err := tx.Apply(wctx, []schema.Change{{Kind: schema.AddColumn, Table: wider, Column: col}}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = tx.Commit(wctx)
		var lt *destination.LockTimeoutError
		if !errors.As(err, &lt) || !strings.Contains(err.Error(), `"items"`) || !strings.Contains(err.Error(), "--lock-timeout") {
			t.Fatalf("ALTER TABLE while another session holds the table: %v; want a lock timeout naming the table and --lock-timeout", err)
		}
		if el := time.Since(start); el < timeout-time.Second || el > timeout+5*time.Second {
			t.Errorf("gave up after %s, want about %s", el, timeout)
		}
	})
}
