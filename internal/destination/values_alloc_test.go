//go:build !race

package destination_test

import (
	"testing"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// TestConvertersDoNotAllocate keeps the bulk paths cheap: a value already in
// canonical form goes through as it is, without being boxed again. (Not
// under -race, which changes allocation counts.)
func TestConvertersDoNotAllocate(t *testing.T) {
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		typ schema.DataType
		v   any
	}{{schema.Timestamp, ts}, {schema.Text, "x y"}, {schema.JSON, `["a","b"]`}, {schema.BigInt, int64(5)}, {schema.Double, 1.5}, {schema.Bool, true}} {
		conv, _ := destination.ConverterFor(&schema.Column{Type: c.typ})
		if n := testing.AllocsPerRun(100, func() { conv(c.v) }); n != 0 {
			t.Errorf("%s: %v allocs", c.typ, n)
		}
	}
}
