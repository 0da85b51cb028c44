package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/schema"
)

// TestIDUniqueAfterFirstCopy: a table a load creates gets _dlt_id's UNIQUE
// constraint after its first COPY (faster than keeping the index during
// it), named as dlt's inline one; a table created without rows still gets
// it at commit; a later load into the same table adds no second one, and
// the constraint holds.
func TestIDUniqueAfterFirstCopy(t *testing.T) {
	ctx := context.Background()
	ds := destinationtest.Dataset(t)
	d := openDataset(t, ds)
	table := func(name string) *schema.Table {
		return &schema.Table{Name: name, Columns: []*schema.Column{
			{Name: "v", Type: schema.Text, Nullable: true},
			{Name: schema.ColID, Type: schema.Text, Unique: true},
		}}
	}
	rows, empty := table("rows"), table("empty")
	load := func(vals ...[]any) error {
		tx, err := d.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if err := tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: rows}, {Kind: schema.AddTable, Table: empty}}); err != nil {
			return err
		}
		if _, err := tx.Write(ctx, rows, destination.ModeAppend, destinationtest.NewRows(vals...)); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
	if err := load([]any{"a", "id1"}, []any{"b", "id2"}); err != nil {
		t.Fatalf("first load: %v", err)
	}
	if err := load([]any{"c", "id3"}); err != nil {
		t.Fatalf("second load: %v", err)
	}

	conn, err := pgx.Connect(ctx, destinationtest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	r, err := conn.Query(ctx, `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY 1, 2`, ds)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for r.Next() {
		var tb, name, def string
		if err := r.Scan(&tb, &name, &def); err != nil {
			t.Fatal(err)
		}
		_, using, _ := strings.Cut(def, " USING ")
		got = append(got, tb+" "+name+"  USING "+using)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"empty empty__dlt_id_key  USING btree (_dlt_id)",
		"rows rows__dlt_id_key  USING btree (_dlt_id)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("indexes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n, err := destination.Count(ctx, d, "rows"); err != nil || n != 3 {
		t.Errorf("rows holds %d rows (%v), want 3", n, err)
	}
	// The constraint holds: a _dlt_id already stored is refused.
	err = load([]any{"dup", "id1"})
	if err == nil || !strings.Contains(err.Error(), "rows__dlt_id_key") {
		t.Errorf("a duplicate _dlt_id loaded with error %v, want a violation of rows__dlt_id_key", err)
	}
}
