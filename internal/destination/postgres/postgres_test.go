package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	_ "github.com/restload/restload/internal/destination/postgres"
	"github.com/restload/restload/internal/schema"
)

// openDataset opens the test server for dataset and drops the dataset's
// schema when the test ends.
func openDataset(tb testing.TB, dataset string) destination.Destination {
	tb.Helper()
	url := destinationtest.PostgresURL(tb)
	d, err := destination.Open(context.Background(), url, dataset)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	destinationtest.DropOnCleanup(tb, url, dataset) // runs after the Close below
	tb.Cleanup(func() {
		if err := d.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return d
}

func TestConformance(t *testing.T) {
	destinationtest.Run(t, func(t *testing.T, dataset string) destination.Destination {
		return openDataset(t, dataset)
	}, destinationtest.Caps{Merge: true, IsolatedRead: true, MergeHints: true})
}

func BenchmarkWrite(b *testing.B) {
	destinationtest.BenchmarkWrite(b, func(b *testing.B, dataset string) destination.Destination {
		return openDataset(b, dataset)
	})
}

// TestLongIdentifiers checks that names PostgreSQL would truncate are
// refused with a message saying so, instead of two long names silently
// becoming one table.
func TestLongIdentifiers(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("a", 60) + "_long_name"
	t.Run("dataset", func(t *testing.T) {
		url := destinationtest.PostgresURL(t)
		_, err := destination.Open(ctx, url, long)
		if err == nil || !strings.Contains(err.Error(), "only the first 63") {
			t.Fatalf("Open with a 70-byte dataset: %v, want a truncation error", err)
		}
	})
	for _, c := range []struct {
		name string
		tb   *schema.Table
	}{
		{"table", &schema.Table{Name: long, Columns: []*schema.Column{{Name: "a", Type: schema.Text}}}},
		{"column", &schema.Table{Name: "t", Columns: []*schema.Column{{Name: long, Type: schema.Text}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := openDataset(t, destinationtest.Dataset(t))
			tx, err := d.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			err = tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: c.tb}})
			if err == nil || !strings.Contains(err.Error(), c.name+" name \""+long+"\" is 70 bytes") {
				t.Fatalf("Apply: %v, want an error naming the %s", err, c.name)
			}
			_, err = tx.Write(ctx, c.tb, destination.ModeAppend, destinationtest.NewRows())
			if err == nil || !strings.Contains(err.Error(), "only the first 63") {
				t.Fatalf("Write: %v, want a truncation error", err)
			}
		})
	}
}

// TestSerialize: a second load of the same dataset waits in Serialize
// until the first load's transaction ends; a load of another dataset does
// not. The waiting is read from pg_locks, not timed.
func TestSerialize(t *testing.T) {
	ctx := context.Background()
	ds := destinationtest.Dataset(t)
	d := openDataset(t, ds)
	other := openDataset(t, ds+"_other")
	begin := func(d destination.Destination) destination.Tx {
		tx, err := d.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tx.Rollback(ctx) })
		return tx
	}
	first, second, elsewhere := begin(d), begin(d), begin(other)
	if err := first.(destination.Serializer).Serialize(ctx); err != nil {
		t.Fatal(err)
	}
	if err := elsewhere.(destination.Serializer).Serialize(ctx); err != nil {
		t.Fatalf("another dataset's load: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- second.(destination.Serializer).Serialize(ctx) }()

	conn, err := pgx.Connect(ctx, destinationtest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for waiting := 0; waiting == 0; {
		select {
		case err := <-done:
			t.Fatalf("second load got past Serialize while the first holds it (err %v)", err)
		default:
		}
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // poll; nothing is asserted about time
	}
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("second load after the first committed: %v", err)
	}
}

// TestIdleLoadSurvivesServerTimeout: a load's transaction stays open, idle,
// while resources extract. A server (or role) with
// idle_in_transaction_session_timeout would end it; the load turns the
// timeout off for its own transaction.
func TestIdleLoadSurvivesServerTimeout(t *testing.T) {
	ctx := context.Background()
	url := destinationtest.PostgresURL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	ds := destinationtest.Dataset(t)
	openDataset(t, ds) // drops the dataset at the end
	d, err := destination.Open(ctx, url+sep+"options=-c%20idle_in_transaction_session_timeout%3D200", ds)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tb := &schema.Table{Name: "t", Columns: []*schema.Column{{Name: "v", Type: schema.Text}}}
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: tb}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond) // idle in transaction for three times the server's limit
	if _, err := tx.Write(ctx, tb, destination.ModeAppend, destinationtest.NewRows([]any{"a"})); err != nil {
		t.Fatalf("write after idling: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("commit after idling: %v", err)
	}
	if n, err := destination.Count(ctx, d, "t"); err != nil || n != 1 {
		t.Errorf("count = %d, %v; want 1", n, err)
	}
}
