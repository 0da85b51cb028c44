package schema

import (
	"reflect"
	"testing"
)

func columnsByTable(s *Schema) map[string][]string {
	out := map[string][]string{}
	for _, t := range s.Tables {
		for _, c := range t.Columns {
			out[t.Name] = append(out[t.Name], c.Name+":"+string(c.Type))
		}
	}
	return out
}

// TestUnion: base's tables and columns win and keep their order; over adds
// the columns and tables base lacks; neither input changes.
func TestUnion(t *testing.T) {
	base := &Schema{Name: "d", Tables: []*Table{
		{Name: "a", Columns: []*Column{{Name: "id", Type: BigInt}, {Name: "x", Type: Text}}},
	}}
	over := &Schema{Name: "other", Tables: []*Table{
		{Name: "b", Columns: []*Column{{Name: "id", Type: Text}}},
		{Name: "a", Columns: []*Column{{Name: "y", Type: Double}, {Name: "x", Type: BigInt}, {Name: "id", Type: BigInt}}},
	}}
	got := Union(base, over)
	want := map[string][]string{"a": {"id:bigint", "x:text", "y:double"}, "b": {"id:text"}}
	if !reflect.DeepEqual(columnsByTable(got), want) || got.Name != "d" || got.Tables[0].Name != "a" || got.Tables[1].Name != "b" {
		t.Errorf("Union = %v (name %q), want %v in order a, b", columnsByTable(got), got.Name, want)
	}
	if len(base.Tables) != 1 || len(base.Tables[0].Columns) != 2 || len(over.Tables[1].Columns) != 3 {
		t.Error("Union changed its arguments")
	}
	if got := Union(nil, over); !reflect.DeepEqual(columnsByTable(got), columnsByTable(over)) {
		t.Errorf("Union(nil, over) = %v, want over's tables", columnsByTable(got))
	}
}
