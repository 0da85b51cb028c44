package sqlgen_test

import (
	"strings"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// TestMergeStagedRefuses: a merge that stages rows whole says what its
// rows lack instead of running SQL that cannot work.
func TestMergeStagedRefuses(t *testing.T) {
	id := &schema.Column{Name: schema.ColID, Type: schema.Text, System: true}
	cases := []struct {
		name string
		tb   *schema.Table
		want string
	}{
		{"insert-only without a key", &schema.Table{Name: "items", Columns: []*schema.Column{{Name: "v", Type: schema.Text}, id},
			Merge: &schema.MergeSpec{Strategy: schema.InsertOnly}}, "the insert-only merge strategy needs a primary key"},
		{"scd2 without validity columns", &schema.Table{Name: "items", Columns: []*schema.Column{{Name: "v", Type: schema.Text}, id},
			Merge: &schema.MergeSpec{Strategy: schema.Scd2, ValidFrom: "from", ValidTo: "to", RowVersion: schema.ColID}}, "scd2: the rows staged lack the from column"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := dataset(qualify, "ds").NewStaging()
			if _, _, err := st.PrepareWrite(c.tb, destination.ModeStage); err != nil {
				t.Fatal(err)
			}
			if got := st.Into(c.tb, destination.ModeStage); got != `temp.main."items"` {
				t.Errorf("rows go into %s, want the staging table", got)
			}
			_, err := st.Merge(c.tb, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// TestWinners: the dedup_sort column orders a key's records (NULLs last),
// then _dlt_id; a hard_delete column adds whether the winner deletes.
func TestWinners(t *testing.T) {
	tb := &schema.Table{Name: "items", Columns: []*schema.Column{
		{Name: "id", Type: schema.BigInt, PrimaryKey: true}, {Name: "seq", Type: schema.BigInt}, {Name: "gone", Type: schema.Bool},
		{Name: schema.ColID, Type: schema.Text}},
		Merge: &schema.MergeSpec{HardDelete: "gone", DedupSort: "seq", DedupDesc: true}}
	q, deletes := dataset(onCommitDrop, "ds").Winners(tb, "k", tb.Columns)
	want := `SELECT "id", "_dlt_id" AS "_restload_winner", "_restload_deleted" FROM (SELECT "id", "_dlt_id", CASE WHEN "gone" THEN 1 ELSE 0 END AS "_restload_deleted", ` +
		`ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY CASE WHEN "seq" IS NULL THEN 1 ELSE 0 END, "seq" DESC, "_dlt_id" COLLATE "C" DESC) AS "_restload_rn" FROM k) s WHERE "_restload_rn" = 1`
	if q != want || !deletes {
		t.Errorf("Winners = %s, %v\nwant %s, true", q, deletes, want)
	}
}
