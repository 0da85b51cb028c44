package schema

import (
	"encoding/json"
	"testing"
)

// TestNumbersBeyondDecimal: a JSON number that neither a double (without
// overflowing or vanishing to 0) nor DECIMAL(38,9) holds is text: it goes
// to a text column or a text variant, kept as written, never into a
// numeric column where loading it would fail (or lose it).
func TestNumbersBeyondDecimal(t *testing.T) {
	cases := []struct {
		num  string
		typ  DataType
		fits map[DataType]bool // Coerce into these types
	}{
		{"123456789012345678901234567890", Text, map[DataType]bool{BigInt: false, Double: false, Decimal: false, Text: true}},
		{"-123456789012345678901234567890", Text, map[DataType]bool{Decimal: false, Text: true}},
		{"12345678901234567890123456789", Decimal, map[DataType]bool{BigInt: false, Decimal: true, Text: false}},
		{"1e400", Text, map[DataType]bool{Double: false, Decimal: false, Text: true}},
		{"-1e400", Text, map[DataType]bool{Double: false, Decimal: false, Text: true}},
		{"1E400", Text, map[DataType]bool{Double: false, Decimal: false, Text: true}},
		{"1e-400", Text, map[DataType]bool{Double: false, Decimal: false, Text: true}},
		{"-2.5e-330", Text, map[DataType]bool{Double: false, Decimal: false, Text: true}},
		{"1e99999999999999999999", Text, map[DataType]bool{Double: false, Decimal: false, Text: true}},
		{"0e-400", Double, map[DataType]bool{Double: true, Decimal: true, Text: false}},
		{"1e20", Double, map[DataType]bool{Double: true, Decimal: true, Text: false}},
		{"42", BigInt, map[DataType]bool{BigInt: true, Double: true, Decimal: true, Text: false}},
		{"1.5", Double, map[DataType]bool{Double: true, Decimal: true, Text: false}},
	}
	for _, c := range cases {
		v := json.Number(c.num)
		if got := InferType(v); got != c.typ {
			t.Errorf("InferType(%s) = %s, want %s", c.num, got, c.typ)
		}
		for typ, want := range c.fits {
			out, ok := Coerce(v, typ)
			if ok != want {
				t.Errorf("Coerce(%s, %s) = %v, %v; want ok=%v", c.num, typ, out, ok, want)
			}
			if ok && typ == Text && out != c.num {
				t.Errorf("Coerce(%s, text) = %v, want the number as written", c.num, out)
			}
		}
	}
	// A value already typed by a destination converter, and Convert.
	if _, ok := Coerce(float64(1e300), Decimal); ok {
		t.Errorf("Coerce(1e300 float, decimal) fits, want not: 301 digits")
	}
	if out, ok := Convert(json.Number("1e400"), Text); !ok || out != "1e400" {
		t.Errorf("Convert(1e400, text) = %v, %v", out, ok)
	}
	if _, ok := Convert(json.Number("1e-400"), Double); ok {
		t.Errorf("Convert(1e-400, double) fits, want not: it would be 0")
	}
}
