package normalize

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/restload/restload/internal/schema"
)

// FuzzNormalize feeds the normalizer any JSON list of records (with a
// primary key or not, a nesting limit or not) and checks what must hold
// for every input: no panic; every row fits its table; the schema is valid,
// with unique names of at most 63 bytes; and a second run over the same
// records, against the schema the first stored, adds no column and no
// table: names and types are decided once. The seed corpus is under
// testdata/fuzz/FuzzNormalize.
func FuzzNormalize(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, withKey bool, nesting int8) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var recs []map[string]any
		if err := dec.Decode(&recs); err != nil || len(recs) > 64 {
			return
		}
		spec := Spec{Resource: "r"}
		if withKey {
			spec.PrimaryKey = []string{"id"}
			spec.WriteDisposition = schema.Merge
		}
		if nesting >= 0 {
			m := int(nesting % 8)
			spec.MaxNesting = &m
		}
		run := func(s *schema.Schema) (*schema.Schema, bool) {
			n, err := New(s, spec, "1.1")
			if err != nil {
				t.Fatal(err)
			}
			ok := true
			for _, rec := range recs {
				err := n.Normalize(rec, func(tb *schema.Table, row []any) error {
					if len(row) > len(tb.Columns) {
						t.Fatalf("table %s: row of %d values, %d columns", tb.Name, len(row), len(tb.Columns))
					}
					return nil
				})
				if err != nil {
					if _, isRecordError := err.(RecordError); !isRecordError {
						t.Fatalf("normalize: %v (%T)", err, err)
					}
					ok = false
				}
			}
			if err := s.Validate(); err != nil {
				t.Fatalf("schema: %v", err)
			}
			for _, tb := range s.Tables {
				for _, c := range tb.Columns {
					if len(c.Name) > schema.MaxIdentifierLength {
						t.Fatalf("column %q is longer than %d bytes", c.Name, schema.MaxIdentifierLength)
					}
				}
			}
			return s, ok
		}
		first, ok := run(&schema.Schema{Name: "d"})
		if !ok {
			return
		}
		b, err := json.Marshal(first)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := schema.FromJSON(b)
		if err != nil {
			t.Fatalf("stored schema: %v", err)
		}
		before := string(b)
		second, _ := run(stored)
		after, _ := json.Marshal(second)
		if string(after) != before {
			t.Fatalf("the second run changed the schema:\n%s\n%s", before, after)
		}
	})
}
