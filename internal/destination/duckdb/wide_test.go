package duckdb_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/destination/duckdb"
	"github.com/restload/restload/internal/schema"
)

// TestWideAndLongRows loads, at the default settings (memory_limit 128MB,
// one thread), rows of 5,000 text columns and rows holding a 50 MB string:
// DuckDB needs several times the limit to insert them, however few they
// are. Afterwards the database is back at its limit: an ordinary load
// does not run with more memory than it was given.
func TestWideAndLongRows(t *testing.T) {
	ctx := context.Background()
	wide := &schema.Table{Name: "wide", Resource: "wide"}
	row := make([]any, 5000)
	for i := range row {
		wide.Columns = append(wide.Columns, &schema.Column{Name: fmt.Sprintf("c%04d", i), Type: schema.Text, Nullable: true})
		row[i] = fmt.Sprintf("value %d", i)
	}
	long := &schema.Table{Name: "long", Resource: "long", Columns: []*schema.Column{
		{Name: "id", Type: schema.BigInt, Nullable: true}, {Name: "body", Type: schema.Text, Nullable: true}}}
	big := strings.Repeat("0123456789", 5<<20)
	for _, c := range []struct {
		tb  *schema.Table
		row []any
	}{{wide, row}, {long, []any{int64(1), big}}} {
		t.Run(c.tb.Name, func(t *testing.T) {
			d, err := destination.Open(ctx, "duckdb:"+filepath.Join(t.TempDir(), "w.duckdb"), "ds")
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			tx, err := d.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if err := tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: c.tb}}); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Write(ctx, c.tb, destination.ModeAppend, destinationtest.NewRows(c.row, c.row)); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if n, err := destination.Count(ctx, d, c.tb.Name); err != nil || n != 2 {
				t.Fatalf("%d rows (%v), want 2", n, err)
			}
			if got := memoryLimit(t, d); got != "122.0 MiB" {
				t.Errorf("memory_limit after the load is %s, want the default 128MB (122.0 MiB) back", got)
			}
		})
	}
}

func memoryLimit(t *testing.T, d destination.Destination) string {
	t.Helper()
	s, err := duckdb.MemoryLimit(d.(*duckdb.DuckDB))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
