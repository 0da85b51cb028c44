package schema

import (
	"fmt"
	"strings"
	"testing"
)

func tbl(name, parent string, cols ...string) *Table {
	t := &Table{Name: name, Parent: parent}
	for _, c := range cols {
		n, typ, _ := strings.Cut(c, " ")
		t.Columns = append(t.Columns, &Column{Name: n, Type: DataType(typ)})
	}
	return t
}

func describe(cs []Change) string {
	var out []string
	for _, c := range cs {
		if c.Kind == AddTable {
			out = append(out, "+"+c.Table.Name)
		} else {
			out = append(out, fmt.Sprintf("+%s.%s %s", c.Table.Name, c.Column.Name, c.Column.Type))
		}
	}
	return strings.Join(out, ", ")
}

func TestDiff(t *testing.T) {
	base := &Schema{Tables: []*Table{
		tbl("files", "", "id bigint", "size_bytes bigint"),
		tbl("files__tags", "files", "value text"),
	}}
	for _, tc := range []struct {
		name     string
		old, new *Schema
		want     string
	}{
		{"first load", nil, base, "+files, +files__tags"},
		{"same", base, base.Clone(), ""},
		{"new field and variant, in the new schema's order", base, &Schema{Tables: []*Table{
			tbl("files", "", "id bigint", "size_bytes bigint", "created_at timestamp", "size_bytes__v_text text"),
			tbl("files__tags", "files", "value text", "k text"),
		}}, "+files.created_at timestamp, +files.size_bytes__v_text text, +files__tags.k text"},
		{"deeper nesting", base, &Schema{Tables: []*Table{
			tbl("files", "", "id bigint", "size_bytes bigint"),
			tbl("files__tags", "files", "value text"),
			tbl("files__tags__scopes", "files__tags", "value text"),
		}}, "+files__tags__scopes"},
		// Nothing is ever dropped or retyped: a table or column the new
		// schema lacks, or a changed type, is not a change.
		{"no drops or retypes", base, &Schema{Tables: []*Table{
			tbl("files", "", "id text"),
		}}, ""},
	} {
		old := tc.old
		if old == nil {
			old = &Schema{}
		}
		if got := describe(Diff(old, tc.new)); got != tc.want {
			t.Errorf("%s: Diff = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestNamerHold checks that a held name goes to the first source that asks
// for it, and that Hold does not take a name a source owns.
func TestNamerHold(t *testing.T) {
	n := NewNamer()
	if !n.Hold("files", "size_bytes") {
		t.Fatal("Hold of a free name failed")
	}
	if name, renamed := n.Column("files", "sizeBytes"); name != "size_bytes" || renamed {
		t.Errorf("sizeBytes got %q (renamed %v), want the held size_bytes", name, renamed)
	}
	if name, _ := n.Column("files", "size_bytes"); name != "size_bytes_1" {
		t.Errorf("size_bytes got %q, want size_bytes_1", name)
	}
	if n.Hold("files", "size_bytes") {
		t.Error("Hold took a name a source owns")
	}
	n.Reserve("files", ColID)
	if n.Hold("files", ColID) {
		t.Error("Hold took a reserved name")
	}
	if ws := n.Warnings(); len(ws) != 1 || !strings.Contains(ws[0], `"size_bytes" is already taken by "sizeBytes"`) {
		t.Errorf("warnings %q", ws)
	}
}
