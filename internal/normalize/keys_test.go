package normalize

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/restload/restload/internal/schema"
)

// TestKeyTypeFlips: a key column whose values change type in the run that
// creates it becomes text and holds every key; none goes to a variant.
// When the column came from a stored schema (or a hint fixed its type) the
// record fails with a *KeyTypeError instead.
func TestKeyTypeFlips(t *testing.T) {
	cases := []struct {
		name    string
		stored  *schema.Table
		hints   map[string]schema.Hint
		recs    string
		want    string // "type: keys" of column id, or the error's text
		wantErr bool
	}{
		{name: "int then string", recs: `[{"id": 1}, {"id": "a"}, {"id": 2}]`, want: "text: [1 a 2]"},
		{name: "string then int", recs: `[{"id": "a"}, {"id": 1}]`, want: "text: [a 1]"},
		{name: "int then numeric string", recs: `[{"id": 1}, {"id": "2"}]`, want: "bigint: [1 2]"},
		{name: "int then double", recs: `[{"id": 1}, {"id": 1.5}]`, want: "text: [1 1.5]"},
		{name: "stored bigint", stored: &schema.Table{Name: "things", Resource: "things", Columns: []*schema.Column{
			{Name: "id", Type: schema.BigInt, PrimaryKey: true},
		}}, recs: `[{"id": 1}, {"id": "a"}]`, wantErr: true,
			want: `resource "things": record 2 (id "a"): key column "id" of table "things" is bigint (it was created so by an earlier load) but this record's key is text`},
		{name: "stored text", stored: &schema.Table{Name: "things", Resource: "things", Columns: []*schema.Column{
			{Name: "id", Type: schema.Text, PrimaryKey: true},
		}}, recs: `[{"id": 1}, {"id": "a"}]`, want: "text: [1 a]"},
		{name: "hinted bigint", hints: map[string]schema.Hint{"id": {DataType: schema.BigInt}}, recs: `[{"id": 1}, {"id": "a"}]`, wantErr: true,
			want: `key column "id" of table "things" is bigint (its data_type hint says so) but this record's key is text`},
		{name: "hinted bigint first", hints: map[string]schema.Hint{"id": {DataType: schema.BigInt}}, recs: `[{"id": "a"}]`, wantErr: true,
			want: `key column "id" of table "things" is bigint (its data_type hint says so)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &schema.Schema{Name: "d"}
			if c.stored != nil {
				s.Tables = append(s.Tables, c.stored)
			}
			n, err := New(s, Spec{Resource: "things", PrimaryKey: []string{"id"}, Hints: c.hints, WriteDisposition: schema.Merge}, "1.1")
			if err != nil {
				t.Fatal(err)
			}
			var keys []any
			for i, rec := range records(t, c.recs) {
				err = n.Normalize(rec, func(tb *schema.Table, row []any) error {
					for j, col := range tb.Columns {
						if col.Name == "id" {
							keys = append(keys, row[j])
						} else if col.VariantOf == "id" {
							t.Errorf("record %d: id has a variant column %s", i+1, col.Name)
						}
					}
					return nil
				})
				if err != nil {
					break
				}
			}
			if c.wantErr {
				var kerr *KeyTypeError
				if !errors.As(err, &kerr) || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v, want a *KeyTypeError saying %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%s: %v", s.Table("things").Column("id").Type, keys)
			if got != c.want {
				t.Errorf("id is %s, want %s", got, c.want)
			}
		})
	}
}
