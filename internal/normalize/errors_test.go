package normalize

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/restload/restload/internal/schema"
)

// TestRecordErrorsLeavePlaceToCaller: each error of a record names only the
// table, column and key in its own message; Normalize says the resource and
// record around it, and errors.Unwrap gives the bare error to a caller that
// says the place itself.
func TestRecordErrorsLeavePlaceToCaller(t *testing.T) {
	no := false
	stored := func() *schema.Schema {
		return &schema.Schema{Tables: []*schema.Table{{Name: "things", Resource: "things", Columns: []*schema.Column{
			{Name: "id", Type: schema.BigInt, PrimaryKey: true},
			{Name: "name", Type: schema.Text, Nullable: true},
		}}}}
	}
	for _, c := range []struct {
		name      string
		s         *schema.Schema
		spec      Spec
		rec       map[string]any
		bare      string
		where     Place
		whereType any
	}{
		{"missing key", &schema.Schema{}, Spec{Resource: "things", PrimaryKey: []string{"id"}},
			map[string]any{"thingId": "t"},
			`no primary key "id"; fields that look like keys: thingId (did you mean primary_key: thingId?)`,
			Place{Resource: "things", Record: 1}, &MissingKeyError{}},
		{"frozen column", stored(), Spec{Resource: "things", PrimaryKey: []string{"id"}, Contract: Contract{Columns: Freeze}},
			map[string]any{"id": json.Number("7"), "extra": true},
			`schema contract freezes columns: new column "extra" in table "things"`,
			Place{Resource: "things", Record: 1, Key: "id 7"}, &ContractError{}},
		{"frozen table", &schema.Schema{}, Spec{Resource: "things", PrimaryKey: []string{"id"}, Contract: Contract{Tables: Freeze}},
			map[string]any{"id": "a"},
			`schema contract freezes tables: new table "things"`,
			Place{Resource: "things", Record: 1, Key: `id "a"`}, &ContractError{}},
		{"not null", &schema.Schema{}, Spec{Resource: "things", Hints: map[string]schema.Hint{"name": {DataType: schema.Text, Nullable: &no}}},
			map[string]any{"other": 1.5},
			`column "name" of table "things" is not nullable but has no value`,
			Place{Resource: "things", Record: 1}, &NullError{}},
		{"key type", stored(), Spec{Resource: "things", PrimaryKey: []string{"id"}},
			map[string]any{"id": "x9"},
			`key column "id" of table "things" is bigint (it was created so by an earlier load) but this record's key is text`,
			Place{Resource: "things", Record: 1, Key: `id "x9"`}, &KeyTypeError{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, err := New(c.s, c.spec, "1.1")
			if err != nil {
				t.Fatal(err)
			}
			err = n.Normalize(c.rec, func(*schema.Table, []any) error { return nil })
			var re RecordError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v (%T), want a RecordError", err, err)
			}
			if re.Where() != c.where {
				t.Errorf("Where() = %+v, want %+v", re.Where(), c.where)
			}
			bare := errors.Unwrap(err)
			if bare == nil || !strings.HasPrefix(bare.Error(), c.bare) {
				t.Fatalf("bare error %v, want it to start with %q", bare, c.bare)
			}
			if strings.Contains(bare.Error(), `resource "things"`) || strings.Contains(bare.Error(), "record 1") {
				t.Errorf("bare error says its place: %q", bare)
			}
			want := `resource "things": record 1` + KeySuffix(c.where.Key) + ": " + bare.Error()
			if err.Error() != want {
				t.Errorf("err = %q\nwant  %q", err, want)
			}
			if got, ok := bare.(RecordError); !ok || got.Where() != c.where {
				t.Errorf("bare error %T does not carry its place", bare)
			}
		})
	}
}

// TestEmitErrorIsNotPlaced: an error of emit's comes back as it is, even
// one of this package's types (emit's, not the record's).
func TestEmitErrorIsNotPlaced(t *testing.T) {
	n, _ := New(&schema.Schema{}, Spec{Resource: "files"}, "l")
	mine := &NullError{Table: "elsewhere", Column: "c"}
	err := n.Normalize(map[string]any{"a": 1.0}, func(*schema.Table, []any) error { return mine })
	if err != mine || mine.Resource != "" {
		t.Errorf("err = %#v, want emit's error untouched", err)
	}
}
