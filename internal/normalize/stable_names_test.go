package normalize

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/restload/restload/internal/schema"
)

// runNames normalizes recs against stored (a schema as a previous run
// stored it, round-tripped through JSON) and returns the schema after, and
// for each record "field=column" of every top-level field.
func runNames(t *testing.T, stored *schema.Schema, recs []map[string]any) (*schema.Schema, []string) {
	t.Helper()
	s := &schema.Schema{Name: "d"}
	if stored != nil {
		b, err := json.Marshal(stored)
		if err != nil {
			t.Fatal(err)
		}
		if s, err = schema.FromJSON(b); err != nil {
			t.Fatal(err)
		}
	}
	n, err := New(s, Spec{Resource: "things"}, "1.1")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, rec := range recs {
		var got []string
		err := n.Normalize(rec, func(tb *schema.Table, row []any) error {
			if tb.Name != "things" {
				return nil
			}
			for j, v := range row {
				if v == nil || tb.Columns[j].System {
					continue
				}
				for k, rv := range rec {
					if m, ok := rv.(map[string]any); ok {
						for k2, rv2 := range m {
							if fmt.Sprint(rv2) == fmt.Sprint(v) {
								got = append(got, k+"."+k2+"="+tb.Columns[j].Name)
							}
						}
					} else if fmt.Sprint(rv) == fmt.Sprint(v) {
						got = append(got, k+"="+tb.Columns[j].Name)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("record %d: %v", i+1, err)
		}
		sort.Strings(got)
		out = append(out, strings.Join(got, " "))
	}
	return s, out
}

// TestNamesStableAcrossRuns: the stored schema decides which field owns a
// column, not the order in which fields first arrive in a later run.
func TestNamesStableAcrossRuns(t *testing.T) {
	cases := []struct {
		name        string
		first, next string // JSON records of run 1 and run 2
		want        []string
	}{
		{"camel first, then both", `[{"fooBar": 1}]`, `[{"foo_bar": 2, "fooBar": 3}]`,
			[]string{"fooBar=foo_bar foo_bar=foo_bar_1"}},
		{"camel first, then literal alone", `[{"fooBar": 1}]`, `[{"foo_bar": 2}, {"fooBar": 3}]`,
			[]string{"foo_bar=foo_bar_1", "fooBar=foo_bar"}},
		{"literal first, then both", `[{"foo_bar": 1}]`, `[{"fooBar": 2, "foo_bar": 3}]`,
			[]string{"fooBar=foo_bar_1 foo_bar=foo_bar"}},
		{"nested camel first, then both", `[{"ownerInfo": {"eMail": 1}}]`, `[{"owner_info": {"e_mail": 2}, "ownerInfo": {"eMail": 3}}]`,
			[]string{"ownerInfo.eMail=owner_info__e_mail owner_info.e_mail=owner_info__e_mail_1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stored, _ := runNames(t, nil, records(t, c.first))
			// Three later runs agree, whatever order the fields come in.
			for range 3 {
				_, got := runNames(t, stored, records(t, c.next))
				if !slices.Equal(got, c.want) {
					t.Fatalf("run 2 names: %q, want %q", got, c.want)
				}
			}
		})
	}
}

// TestNamesIndependentOfOrder: within a run, which field gets foo_bar
// depends neither on record order nor on which of two resources sharing
// the table (one Layout) writes first: the field spelled foo_bar does, and
// fooBar gets foo_bar_1, its values already written moving with it.
func TestNamesIndependentOfOrder(t *testing.T) {
	a := records(t, `[{"fooBar": "camel", "n": 1}, {"fooBar": "camel2", "n": 2}]`)
	b := records(t, `[{"foo_bar": "snake", "n": 3}]`)
	for _, order := range []string{"ab", "ba"} {
		t.Run(order, func(t *testing.T) {
			s := &schema.Schema{Name: "d"}
			l := NewLayout(s)
			na, err := l.New(Spec{Resource: "a", Table: "things"}, "1.1")
			if err != nil {
				t.Fatal(err)
			}
			nb, err := l.New(Spec{Resource: "b", Table: "things"}, "1.1")
			if err != nil {
				t.Fatal(err)
			}
			type row struct {
				tb   *schema.Table
				vals []any
			}
			var rows []row
			emit := func(tb *schema.Table, r []any) error {
				rows = append(rows, row{tb, slices.Clone(r)})
				return nil
			}
			batches := map[byte]func(){
				'a': func() {
					for _, r := range a {
						if err := na.Normalize(r, emit); err != nil {
							t.Fatal(err)
						}
					}
				},
				'b': func() {
					for _, r := range b {
						if err := nb.Normalize(r, emit); err != nil {
							t.Fatal(err)
						}
					}
				},
			}
			batches[order[0]]()
			batches[order[1]]()
			// Rows are positional: read them with the final columns.
			var got []string
			for _, r := range rows {
				var parts []string
				for i, v := range r.vals {
					if c := r.tb.Columns[i]; v != nil && !c.System {
						parts = append(parts, fmt.Sprintf("%s=%v", c.Name, v))
					}
				}
				sort.Strings(parts)
				got = append(got, strings.Join(parts, " "))
			}
			sort.Strings(got)
			want := []string{"foo_bar=snake n=3", "foo_bar_1=camel n=1", "foo_bar_1=camel2 n=2"}
			if !slices.Equal(got, want) {
				t.Errorf("rows %q, want %q", got, want)
			}
			if c := s.Table("things").Column("foo_bar_1"); c == nil || c.Source != "fooBar" {
				t.Errorf("foo_bar_1 = %+v, want fooBar's", c)
			}
		})
	}
}

// TestDottedKeysAreOwnFields: JSON keys may hold any bytes, so the key
// "a.b" and the field b under a are two fields with two columns, and a key
// spelled like a variant column's bookkeeping ("variant:a__b:text") is an
// ordinary field: a text value of a.b still goes to a__b's variant column.
// Before, both fields were recorded as source "a.b" and got one column name
// twice (the fuzz target found it as "____" from the keys "" and ".").
func TestDottedKeysAreOwnFields(t *testing.T) {
	recs := records(t, `[{"a.b": 1, "a": {"b": 2}, "variant:a__b:text": 3, "": {"": 4}, ".": 5},
		{"a": {"b": "x"}}]`)
	want := []string{
		".=____ .=x a.b=a__b a.b=a_b variant:a__b:text=variant_a_b_text",
		"a.b=a__b__v_text",
	}
	stored, got := runNames(t, nil, recs)
	if !slices.Equal(got, want) {
		t.Fatalf("names: %q, want %q", got, want)
	}
	if err := stored.Validate(); err != nil {
		t.Fatal(err)
	}
	// A later run over the stored schema gives every field the same column
	// and adds none.
	again, got := runNames(t, stored, recs)
	if !slices.Equal(got, want) {
		t.Fatalf("second run names: %q, want %q", got, want)
	}
	if d := schema.Diff(stored, again); len(d) != 0 {
		t.Fatalf("second run changed the schema: %+v", d)
	}
}

// TestLegacyDottedSources: schemas stored before field names were escaped
// in sources recorded "user.name" for the key "user.name" and for the
// field name under user alike. The stored column names tell them apart,
// so a dataset loaded by an earlier restload keeps its columns.
func TestLegacyDottedSources(t *testing.T) {
	stored := &schema.Schema{Name: "d", Tables: []*schema.Table{{Name: "things", Columns: []*schema.Column{
		{Name: "user_name", Type: schema.BigInt, Nullable: true, Source: "user.name"},
		{Name: "owner__first_name", Type: schema.BigInt, Nullable: true, Source: "owner.firstName"},
		{Name: "a_b", Type: schema.BigInt, Nullable: true, Source: "a:b"},
		{Name: "a_b_1", Type: schema.BigInt, Nullable: true, Source: "a.b"},
	}}}}
	recs := records(t, `[{"user.name": 1, "owner": {"firstName": 2}, "a:b": 3, "a.b": 4}]`)
	after, got := runNames(t, stored, recs)
	want := []string{"a.b=a_b_1 a:b=a_b owner.firstName=owner__first_name user.name=user_name"}
	if !slices.Equal(got, want) {
		t.Fatalf("names: %q, want %q", got, want)
	}
	for _, c := range after.Tables[0].Columns {
		if !c.System && !slices.Contains([]string{"user_name", "owner__first_name", "a_b", "a_b_1"}, c.Name) {
			t.Errorf("new column %q", c.Name)
		}
	}
}
