package dltstate

import (
	"testing"

	"github.com/restload/restload/internal/schema"
)

// TestFixtureSchemaAdopted: dlt's stored schema reads as restload's
// tables (variants, children, dispositions), and writing those tables
// back into it changes nothing, so restload adopts dlt's tables and
// columns instead of adding its own.
func TestFixtureSchemaAdopted(t *testing.T) {
	rows := fixtureRows(t, "_dlt_version")
	doc, err := ParseSchema([]byte(rows[len(rows)-1][5]))
	if err != nil {
		t.Fatal(err)
	}
	s := ToSchema(doc)
	if s.Name != "analytics" || s.Version != 2 || len(s.Tables) != 24 {
		t.Fatalf("ToSchema: name %q version %d, %d tables; want analytics 2 24", s.Name, s.Version, len(s.Tables))
	}
	files := s.Table("files")
	if v := files.Column("size_bytes__v_text"); v == nil || v.VariantOf != "size_bytes" || v.Type != schema.Text {
		t.Errorf("files.size_bytes__v_text = %+v, want a text variant of size_bytes", v)
	}
	if id := files.Column("id"); !id.PrimaryKey || id.Nullable || files.WriteDisposition != schema.Merge {
		t.Errorf("files.id = %+v, disposition %s", id, files.WriteDisposition)
	}
	tags := s.Table("files__tags")
	if tags.Parent != "files" || tags.Resource != "files" || tags.WriteDisposition != schema.Merge {
		t.Errorf("files__tags = parent %q resource %q disposition %q", tags.Parent, tags.Resource, tags.WriteDisposition)
	}
	for i, tb := range s.Tables { // parents first
		if tb.Parent != "" && s.Table(tb.Parent) == nil {
			t.Errorf("table %d %s: parent %s missing", i, tb.Name, tb.Parent)
		}
	}
	c := doc.Clone()
	if AddTables(c, s) {
		t.Error("adding dlt's own tables back changed the schema")
	}
	if h, _ := SchemaVersionHash(c); h != rows[len(rows)-1][4] {
		t.Errorf("hash after adding nothing = %s, want dlt's %s", h, rows[len(rows)-1][4])
	}
}

// TestNewSchemaRoundTrip: restload's tables written into a new dlt schema
// read back the same, with dlt's hints on the row-linking columns.
func TestNewSchemaRoundTrip(t *testing.T) {
	in := &schema.Schema{Tables: []*schema.Table{
		{Name: "orders", Resource: "orders", WriteDisposition: schema.Merge, Columns: []*schema.Column{
			{Name: "id", Type: schema.BigInt, PrimaryKey: true},
			{Name: "total", Type: schema.Decimal, Nullable: true, Precision: ptr(12), Scale: ptr(2)},
			{Name: "sku", Type: schema.Text, Nullable: true, Unique: true, Precision: ptr(32)},
			{Name: "placed_at", Type: schema.Timestamp, Nullable: true, Timezone: ptr(false), Precision: ptr(3)},
			{Name: "opens", Type: schema.Time, Nullable: true},
			{Name: "blob", Type: schema.Binary, Nullable: true},
			{Name: "total__v_text", Type: schema.Text, Nullable: true, VariantOf: "total"},
			{Name: schema.ColLoadID, Type: schema.Text, System: true},
			{Name: schema.ColID, Type: schema.Text, System: true},
		}},
		{Name: "orders__lines", Parent: "orders", Resource: "orders", WriteDisposition: schema.Merge, Columns: []*schema.Column{
			{Name: "sku", Type: schema.Text, Nullable: true},
			{Name: schema.ColRootID, Type: schema.Text, System: true},
			{Name: schema.ColParentID, Type: schema.Text, System: true},
			{Name: schema.ColListIdx, Type: schema.BigInt, System: true},
			{Name: schema.ColID, Type: schema.Text, System: true},
		}},
	}}
	doc := NewSchema("shop")
	if !AddTables(doc, in) {
		t.Fatal("AddTables reported no change")
	}
	v, h, err := BumpSchemaVersion(doc)
	if err != nil || v != 1 || h == "" {
		t.Fatalf("first bump = %d %q %v, want version 1", v, h, err)
	}
	back, err := ParseSchema(mustMarshal(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	out := ToSchema(back)
	for _, want := range in.Tables {
		got := out.Table(want.Name)
		if got == nil || got.Parent != want.Parent || got.WriteDisposition != want.WriteDisposition || len(got.Columns) != len(want.Columns) {
			t.Fatalf("table %s read back as %+v", want.Name, got)
		}
		for i, wc := range want.Columns {
			gc := got.Columns[i]
			if gc.Name != wc.Name || gc.Type != wc.Type || gc.Nullable != wc.Nullable || gc.PrimaryKey != wc.PrimaryKey ||
				gc.VariantOf != wc.VariantOf || !samePtr(gc.Precision, wc.Precision) || !samePtr(gc.Scale, wc.Scale) ||
				!samePtr(gc.Timezone, wc.Timezone) || gc.Unique != wc.Unique {
				t.Errorf("%s.%s read back as %+v, want %+v", want.Name, wc.Name, gc, wc)
			}
		}
	}
	cols := back.Obj("tables").Obj("orders__lines").Obj("columns")
	if !flag(cols.Obj(schema.ColRootID), "root_key", false) || !flag(cols.Obj(schema.ColParentID), "parent_key", false) ||
		!flag(cols.Obj(schema.ColID), "row_key", false) || !flag(cols.Obj(schema.ColID), "unique", false) {
		t.Errorf("row-linking hints missing: %s", mustMarshal(t, cols))
	}
	prop := back.Obj("normalizers").Obj("json").Obj("config").Obj("propagation").Obj("tables").Obj("orders")
	if prop.Str(schema.ColID) != schema.ColRootID {
		t.Errorf("merge root propagation missing")
	}
	// A column added: version 2, the old hash kept.
	in.Tables[0].Columns = append(in.Tables[0].Columns, &schema.Column{Name: "note", Type: schema.Text, Nullable: true})
	AddTables(doc, in)
	if v, h2, _ := BumpSchemaVersion(doc); v != 2 || h2 == h {
		t.Errorf("after a new column: version %d", v)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := Marshal(v, false)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func samePtr[T comparable](a, b *T) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
