package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/schema"
)

// TestMergeIntoTableCreatedByTheLoad: a merge into a table its own load
// created finds the losers among the staged keys alone (the table holds
// nothing else), and gets what a merge into an existing table gets: one
// row per key, the last staged, in every shape a load takes: duplicate
// keys in one write, a resource merged in two parts in one transaction
// (the second part's keys meet the first part's winners), rows appended to
// the table before the merge in the same transaction, and a dedup_sort
// hint. A later load merges into the existing table the usual way.
func TestMergeIntoTableCreatedByTheLoad(t *testing.T) {
	ctx := context.Background()
	ds := destinationtest.Dataset(t)
	d := openDataset(t, ds)
	table := func(name string, sort bool) *schema.Table {
		tb := &schema.Table{Name: name, WriteDisposition: schema.Merge, Columns: []*schema.Column{
			{Name: "id", Type: schema.BigInt, PrimaryKey: true},
			{Name: "v", Type: schema.Text, Nullable: true},
			{Name: "n", Type: schema.BigInt, Nullable: true},
			{Name: schema.ColID, Type: schema.Text, Unique: true},
		}}
		if sort {
			tb.Merge = &schema.MergeSpec{DedupSort: "n", DedupDesc: true}
		}
		return tb
	}
	type step struct {
		mode destination.Mode
		rows [][]any
		then bool // merge after this write
	}
	row := func(id int, v string, n int, dltID string) []any { return []any{int64(id), v, int64(n), dltID} }
	cases := []struct {
		name  string
		sort  bool
		loads [][]step
		want  []string // id=v, by id
	}{
		{"duplicate keys in one write", false, [][]step{{
			{destination.ModeStage, [][]any{row(1, "a", 0, "d1"), row(1, "b", 0, "d2"), row(2, "c", 0, "d3")}, true},
		}}, []string{"1=b", "2=c"}},
		{"two parts in one load", false, [][]step{{
			{destination.ModeStage, [][]any{row(1, "a", 0, "d1"), row(2, "b", 0, "d2")}, true},
			{destination.ModeStage, [][]any{row(1, "c", 0, "d3")}, true},
		}}, []string{"1=c", "2=b"}},
		{"appended before the merge", false, [][]step{{
			{destination.ModeAppend, [][]any{row(1, "old", 0, "d1")}, false},
			{destination.ModeStage, [][]any{row(1, "new", 0, "d2")}, true},
		}}, []string{"1=new"}},
		{"dedup_sort", true, [][]step{{
			{destination.ModeStage, [][]any{row(1, "low", 1, "d1"), row(1, "high", 9, "d2"), row(1, "mid", 5, "d3")}, true},
		}}, []string{"1=high"}},
		{"then a load into the existing table", false, [][]step{
			{{destination.ModeStage, [][]any{row(1, "a", 0, "d1"), row(2, "b", 0, "d2")}, true}},
			{{destination.ModeStage, [][]any{row(2, "c", 0, "e1"), row(2, "d", 0, "e2"), row(3, "e", 0, "e3")}, true}},
		}, []string{"1=a", "2=d", "3=e"}},
	}
	conn, err := pgx.Connect(ctx, destinationtest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := table(fmt.Sprintf("t%d", i), c.sort)
			for _, load := range c.loads {
				tx, err := d.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if err := tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: tb}}); err != nil {
					t.Fatal(err)
				}
				for _, s := range load {
					if _, err := tx.Write(ctx, tb, s.mode, destinationtest.NewRows(s.rows...)); err != nil {
						t.Fatal(err)
					}
					if s.then {
						if err := tx.Merge(ctx, tb, nil); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := tx.Commit(ctx); err != nil {
					t.Fatal(err)
				}
			}
			r, err := conn.Query(ctx, fmt.Sprintf(`SELECT id, v FROM %s ORDER BY id, v`, pgx.Identifier{ds, tb.Name}.Sanitize()))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for r.Next() {
				var id int64
				var v string
				if err := r.Scan(&id, &v); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%d=%s", id, v))
			}
			if err := r.Err(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("rows %q, want %q", got, c.want)
			}
		})
	}
}
