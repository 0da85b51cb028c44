package duckdb

import (
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

func TestToDecimal(t *testing.T) {
	tests := []struct {
		in          any
		prec, scale int
		want        string // unscaled value; "" means an error
	}{
		{"12.345", 10, 2, "1235"},
		{"-12.345", 10, 2, "-1235"},
		{"-12.344", 10, 2, "-1234"},
		{"+7", 10, 2, "700"},
		{".5", 10, 0, "1"},
		{"5.", 10, 1, "50"},
		{"1e3", 10, 2, "100000"},
		{"-2.5E-1", 10, 1, "-3"},
		{"12345678901234567890.123456789", 38, 9, "12345678901234567890123456789"},
		{int64(-3), 10, 2, "-300"},
		{0.125, 10, 2, "13"},
		{"123456", 5, 0, ""},
		{"abc", 10, 2, ""},
		{"1.2.3", 10, 2, ""},
		{"", 10, 2, ""},
		{"-", 10, 2, ""},
		{true, 10, 2, ""},
	}
	for _, tt := range tests {
		got, err := toDecimal(tt.in, tt.prec, tt.scale)
		if tt.want == "" {
			if err == nil {
				t.Errorf("toDecimal(%#v, %d, %d) = %v, want an error", tt.in, tt.prec, tt.scale, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("toDecimal(%#v, %d, %d): %v", tt.in, tt.prec, tt.scale, err)
			continue
		}
		d := got.(duckdb.Decimal)
		if d.Value.String() != tt.want || int(d.Scale) != tt.scale || int(d.Width) != tt.prec {
			t.Errorf("toDecimal(%#v, %d, %d) = %v (width %d scale %d), want %s", tt.in, tt.prec, tt.scale, d.Value, d.Width, d.Scale, tt.want)
		}
	}
}
