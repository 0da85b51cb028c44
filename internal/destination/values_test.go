package destination_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

func TestConverterFor(t *testing.T) {
	auckland := time.FixedZone("NZST", 12*3600)
	midnight := time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		typ     schema.DataType
		in      any
		want    any
		wantErr string
	}{
		{schema.BigInt, nil, nil, ""},
		{schema.BigInt, int64(7), int64(7), ""},
		{schema.BigInt, 7, int64(7), ""},
		{schema.BigInt, int32(7), int64(7), ""},
		{schema.BigInt, 3.0, int64(3), ""}, // schema.Coerce refuses this; a typed row may carry it
		{schema.BigInt, 3.5, nil, "cannot load float64 3.5 into a bigint column"},
		{schema.BigInt, "3", nil, "cannot load string 3 into a bigint column"},
		{schema.Double, int64(2), 2.0, ""},
		{schema.Double, float32(0.5), 0.5, ""},
		{schema.Double, true, nil, "cannot load bool true into a double column"},
		{schema.Decimal, "-12.50", "-12.50", ""},
		{schema.Decimal, "1e3", "1e3", ""},
		{schema.Decimal, int64(12), "12", ""},
		{schema.Decimal, 1e21, "1e+21", ""},
		{schema.Decimal, "abc", nil, `cannot parse "abc" as a decimal`},
		{schema.Bool, false, false, ""},
		{schema.Bool, "true", nil, "cannot load string true into a bool column"},
		{schema.Text, "x", "x", ""},
		{schema.Text, 1, nil, "cannot load int 1 into a text column"},
		{schema.Timestamp, "2024-05-01T13:00:00+02:00", time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC), ""},
		{schema.Timestamp, time.Date(2024, 5, 1, 23, 0, 0, 0, auckland), time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC), ""},
		{schema.Timestamp, "yesterday", nil, `cannot parse "yesterday" as a timestamp`},
		{schema.Date, "2024-05-02", midnight, ""},
		{schema.Date, time.Date(2024, 5, 2, 1, 0, 0, 0, auckland), midnight, ""}, // its own calendar day, not UTC's
		{schema.Date, "2024-05-02T00:00:00Z", nil, `cannot parse "2024-05-02T00:00:00Z" as a date`},
		{schema.Date, int64(1), nil, "cannot load int64 1 into a date column"},
		{schema.JSON, `{"a":[1]}`, `{"a":[1]}`, ""},
		{schema.JSON, []byte(`[1]`), `[1]`, ""},
		{schema.JSON, `{"a":`, nil, `invalid JSON "{\"a\":"`},
		{schema.JSON, map[string]any{}, nil, "cannot load map[string]interface {} map[] into a json column"},
	}
	for _, tt := range tests {
		conv, err := destination.ConverterFor(&schema.Column{Name: "c", Type: tt.typ})
		if err != nil {
			t.Fatalf("ConverterFor(%s): %v", tt.typ, err)
		}
		got, err := conv(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s %#v: got %#v, %v; want error %q", tt.typ, tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %#v: got %#v, %v; want %#v", tt.typ, tt.in, got, err, tt.want)
		}
		if tm, ok := got.(time.Time); ok && tm.Location() != time.UTC {
			t.Errorf("%s %#v: got %v, want it in UTC", tt.typ, tt.in, tm)
		}
	}
	if _, err := destination.ConverterFor(&schema.Column{Name: "c", Type: "uuid"}); err == nil || err.Error() != `column "c": unknown data type "uuid"` {
		t.Errorf("ConverterFor(uuid): %v, want an unknown type error", err)
	}
}

func TestRowConverter(t *testing.T) {
	cols := []*schema.Column{{Name: "id", Type: schema.BigInt}, {Name: "name", Type: schema.Text}}
	rc, err := destination.NewRowConverter(cols, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]any, 2)
	if err := rc.Convert([]any{1, "a"}, out); err != nil || !reflect.DeepEqual(out, []any{int64(1), "a"}) {
		t.Fatalf("row 1: %v, %v", out, err)
	}
	if err := rc.Convert([]any{int64(2)}, out); err != nil || !reflect.DeepEqual(out, []any{int64(2), nil}) {
		t.Fatalf("short row 2: %v, %v; want the missing column nil", out, err)
	}
	err = rc.Convert([]any{int64(3), 3}, out)
	if err == nil || err.Error() != `row 3 column "name": cannot load int 3 into a text column` {
		t.Errorf("row 3: %v", err)
	}
	err = rc.Convert([]any{int64(3), "c", "extra"}, out)
	if err == nil || err.Error() != "row 3 has 3 values, the table has 2 columns" {
		t.Errorf("long row: %v", err)
	}
	if rc.Rows() != 2 {
		t.Errorf("Rows() = %d, want 2 converted", rc.Rows())
	}
	if !reflect.DeepEqual(rc.Names(), []string{"id", "name"}) {
		t.Errorf("Names() = %v", rc.Names())
	}
}
