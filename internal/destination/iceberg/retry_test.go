package iceberg_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/schema"
)

func textCol(name string) *schema.Column {
	return &schema.Column{Name: name, Type: schema.Text, Nullable: true}
}

// TestRetriedLoadCommitsOnce commits the same load (the same id in the
// loads table) twice, as a retry does after a crash between two tables'
// commits: the second commit adds no rows to a table that already holds a
// snapshot of that load, and adds those of a load not seen before.
func TestRetriedLoadCommitsOnce(t *testing.T) {
	ctx := context.Background()
	d := open(t, "iceberg:"+t.TempDir(), "retry")
	events := &schema.Table{Name: "events", WriteDisposition: schema.Append, Columns: []*schema.Column{textCol(schema.ColID), textCol("v")}}
	loads := &schema.Table{Name: load.LoadsTable, WriteDisposition: schema.Append, Columns: []*schema.Column{textCol("load_id"), textCol(schema.ColID)}}
	commit := func(loadID string, changes []schema.Change) {
		t.Helper()
		tx, err := d.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if err := tx.Apply(ctx, changes); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Write(ctx, events, destination.ModeAppend, destinationtest.NewRows([]any{loadID + "a", "x"}, []any{loadID + "b", "y"})); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Write(ctx, loads, destination.ModeAppend, destinationtest.NewRows([]any{loadID, loadID + "z"})); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	commit("L1", []schema.Change{{Kind: schema.AddTable, Table: events}, {Kind: schema.AddTable, Table: loads}})
	commit("L1", nil)
	if rows := destinationtest.ReadAll(t, d, "events"); len(rows) != 2 {
		t.Errorf("events after a retried load: %d rows, want 2: %v", len(rows), rows)
	}
	if rows := destinationtest.ReadAll(t, d, load.LoadsTable); len(rows) != 1 {
		t.Errorf("%s after a retried load: %d rows, want 1", load.LoadsTable, len(rows))
	}
	commit("L2", nil)
	if rows := destinationtest.ReadAll(t, d, "events"); len(rows) != 4 {
		t.Errorf("events after a second load: %d rows, want 4", len(rows))
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		url, dataset, want string
	}{
		{"iceberg:s3://bucket/wh", "ds", "want iceberg:DIR"},
		{"iceberg:", "ds", "empty warehouse directory"},
		{"iceberg:file://", "ds", "empty warehouse directory"},
		{"iceberg:postgres://u:sekrit@127.0.0.1:1/db", "ds", "needs ?warehouse=DIR"},
		{"iceberg:postgres://u:sekrit@127.0.0.1:1/db?warehouse=s3://b/w", "ds", "only local folders"},
		{"iceberg:" + t.TempDir(), "../up", "not usable"},
	} {
		_, err := destination.Open(ctx, tc.url, tc.dataset)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q, %q) = %v, want an error containing %q", tc.url, tc.dataset, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "sekrit") {
			t.Errorf("Open(%q) error shows the password: %v", tc.url, err)
		}
		if tc.dataset == "ds" && !errors.Is(err, destination.ErrBadURL) {
			t.Errorf("Open(%q) = %v, want ErrBadURL", tc.url, err)
		}
	}
}
