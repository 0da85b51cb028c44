package normalize

import (
	"runtime"
	"strings"
	"testing"

	"github.com/restload/restload/internal/schema"
)

// TestDeepNesting: a record nested thousands of levels deep (objects, or
// lists of objects) costs time and memory linear in its size: without
// max_table_nesting, flattening stops at DefaultMaxNesting levels and the
// rest stays JSON in a column, as dlt does beyond max_table_nesting.
func TestDeepNesting(t *testing.T) {
	const depth = 5000
	cases := map[string]struct {
		js        string
		wantLevel int // tables made: root and children
	}{
		"objects": {"[" + strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth) + "]", 1},
		// Two JSON levels a step: 2*depth/2 levels, within the decoder's 10000.
		"lists": {`[{"a":` + strings.Repeat(`[{"a":`, depth/2) + "1" + strings.Repeat("}]", depth/2) + "}]", DefaultMaxNesting + 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rec := records(t, c.js)[0]
			s := &schema.Schema{Name: "d"}
			n, err := New(s, Spec{Resource: "d"}, "1.1")
			if err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var jsonCols int
			err = n.Normalize(rec, func(tb *schema.Table, row []any) error {
				for i, col := range tb.Columns {
					if col.Type == schema.JSON && row[i] != nil {
						jsonCols++
						if js, ok := row[i].(string); !ok || strings.Count(js, `"a"`) < depth/2-DefaultMaxNesting-1 {
							t.Errorf("table %s column %s: %.80v, want the rest of the record as JSON", tb.Name, col.Name, row[i])
						}
					}
				}
				return nil
			})
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if jsonCols != 1 {
				t.Errorf("%d JSON values, want 1", jsonCols)
			}
			if len(s.Tables) != c.wantLevel {
				t.Errorf("%d tables, want %d", len(s.Tables), c.wantLevel)
			}
			// The body is ~30 KB; the old walk allocated hundreds of MB.
			if mb := (after.TotalAlloc - before.TotalAlloc) >> 20; mb > 16 {
				t.Errorf("normalizing allocated %d MB, want it linear in the record", mb)
			}
		})
	}
}
