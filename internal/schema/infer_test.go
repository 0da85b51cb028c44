package schema

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestInferType(t *testing.T) {
	tests := []struct {
		in   any
		want DataType
	}{
		{nil, ""},
		{true, Bool},
		{json.Number("42"), BigInt},
		{json.Number("-9223372036854775808"), BigInt},
		{json.Number("9223372036854775808"), Decimal},
		{json.Number("123456789012345678901234567890"), Text},
		{json.Number("1.5"), Double},
		{json.Number("10.0"), Double},
		{json.Number("1e3"), Double},
		{json.Number("1e400"), Text}, // beyond DECIMAL(38,9): kept as written,
		{"2024-01-02T03:04:05Z", Timestamp},
		{"2024-01-02T03:04:05.123456+02:00", Timestamp},
		{"2024-01-02 03:04:05Z", Timestamp},
		{"2024-01-02T03:04:05+0200", Timestamp},
		{"2024-01-02T03:04:05", Text}, // no zone
		{"2024-01-02", Date},
		{"2024-13-02", Text},
		{"hello", Text},
		{"", Text},
		{map[string]any{"a": 1}, JSON},
		{[]any{1}, JSON},
	}
	for _, tt := range tests {
		if got := InferType(tt.in); got != tt.want {
			t.Errorf("InferType(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCoerce(t *testing.T) {
	ts := time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC)
	day := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		in     any
		typ    DataType
		want   any
		wantOK bool
	}{
		{"null fits", nil, BigInt, nil, true},
		{"bigint", json.Number("7"), BigInt, int64(7), true},
		{"double into bigint conflicts", json.Number("7.5"), BigInt, nil, false},
		{"bigint widens to double", json.Number("7"), Double, 7.0, true},
		{"bigint widens to decimal", json.Number("7"), Decimal, "7", true},
		{"decimal keeps text", json.Number("12.50"), Decimal, "12.50", true},
		{"decimal exponent expanded", json.Number("1.5e3"), Decimal, "1500", true},
		{"decimal small exponent", json.Number("-15e-4"), Decimal, "-0.0015", true},
		{"number into text conflicts", json.Number("7"), Text, nil, false},
		{"timestamp text stays text", "2024-01-02T03:04:05Z", Text, "2024-01-02T03:04:05Z", true},
		{"timestamp parsed to UTC", "2024-01-02T03:04:05+02:00", Timestamp, ts, true},
		{"date widens to timestamp", "2024-01-02", Timestamp, day, true},
		{"text into timestamp conflicts", "soon", Timestamp, nil, false},
		{"date", "2024-01-02", Date, day, true},
		{"timestamp into date conflicts", "2024-01-02T03:04:05Z", Date, nil, false},
		{"bool", false, Bool, false, true},
		{"string into bool conflicts", "true", Bool, nil, false},
		{"object to json", map[string]any{"b": json.Number("1"), "a": "<x>"}, JSON, `{"a":"<x>","b":1}`, true},
		{"scalar into json conflicts", "x", JSON, nil, false},
	}
	for _, tt := range tests {
		got, ok := Coerce(tt.in, tt.typ)
		if ok != tt.wantOK || (ok && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("%s: Coerce(%#v, %s) = %#v, %v; want %#v, %v", tt.name, tt.in, tt.typ, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestConvert(t *testing.T) {
	tests := []struct {
		in     any
		typ    DataType
		want   any
		wantOK bool
	}{
		{json.Number("17"), Text, "17", true},
		{true, Text, "true", true},
		{[]any{json.Number("1")}, Text, "[1]", true},
		{"12", BigInt, int64(12), true},
		{json.Number("3.0"), BigInt, int64(3), true},
		{json.Number("3.5"), BigInt, nil, false},
		{"many", BigInt, nil, false},
		{"2.5", Double, 2.5, true},
		{"3.1e2", Decimal, "310", true},
		{"1/2", Decimal, nil, false},
		{"TRUE", Bool, true, true},
		{"2024-01-02 03:04:05", Timestamp, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), true},
		{json.Number("1700000000"), Timestamp, time.Unix(1700000000, 0).UTC(), true},
		{"text", JSON, `"text"`, true},
	}
	for _, tt := range tests {
		got, ok := Convert(tt.in, tt.typ)
		if ok != tt.wantOK || (ok && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("Convert(%#v, %s) = %#v, %v; want %#v, %v", tt.in, tt.typ, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestParseDataType(t *testing.T) {
	for in, want := range map[string]DataType{"text": Text, "complex": JSON, "bigint": BigInt, "decimal": Decimal} {
		if got, err := ParseDataType(in); err != nil || got != want {
			t.Errorf("ParseDataType(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseDataType("wei"); err == nil || !strings.Contains(err.Error(), "want one of") {
		t.Errorf("ParseDataType(wei) error = %v", err)
	}
	// dlt spells its types in lower case and rejects others; config's
	// check and the run agree because both ask ParseDataType.
	for _, in := range []string{"BIGINT", " bigint", "Boolean"} {
		if got, err := ParseDataType(in); err == nil {
			t.Errorf("ParseDataType(%q) = %q, want an error", in, got)
		}
	}
}

func TestSchemaJSONRoundTripAndHash(t *testing.T) {
	s := &Schema{Name: "ds", Version: 3, Tables: []*Table{
		{Name: "files", Resource: "files", WriteDisposition: Merge, Columns: []*Column{
			{Name: "id", Type: BigInt, PrimaryKey: true},
			{Name: "size", Type: BigInt, Nullable: true},
			{Name: "size__v_text", Type: Text, Nullable: true, VariantOf: "size"},
			{Name: "price", Type: Decimal, Nullable: true, Precision: new(10), Scale: new(2)},
		}},
		{Name: "files__tags", Parent: "files", Resource: "files", WriteDisposition: Merge, Source: "files.tags", Columns: []*Column{
			{Name: "value", Type: Text, Nullable: true},
			{Name: ColID, Type: Text, System: true},
		}},
	}}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, back) {
		t.Errorf("round trip changed the schema:\n%s", data)
	}
	if s.Hash() != back.Hash() || len(s.Hash()) != 64 {
		t.Errorf("hash %q vs %q", s.Hash(), back.Hash())
	}
	back.Version = 4
	if back.Hash() != s.Hash() {
		t.Error("hash depends on the version")
	}
	back.Tables[0].AddColumn(&Column{Name: "extra", Type: Text, Nullable: true})
	if back.Hash() == s.Hash() {
		t.Error("hash ignores a new column")
	}
	empty, _ := json.Marshal(&Schema{Name: "e"})
	if !strings.Contains(string(empty), `"tables":[]`) {
		t.Errorf("empty schema JSON %s", empty)
	}
}

func TestFromJSONRejects(t *testing.T) {
	tests := map[string]string{
		"bad json":       `{`,
		"duplicate":      `{"tables":[{"name":"a"},{"name":"a"}]}`,
		"orphan":         `{"tables":[{"name":"a__b","parent":"a"}]}`,
		"unknown type":   `{"tables":[{"name":"a","columns":[{"name":"x","data_type":"wei"}]}]}`,
		"dup column":     `{"tables":[{"name":"a","columns":[{"name":"x","data_type":"text"},{"name":"x","data_type":"text"}]}]}`,
		"unnamed column": `{"tables":[{"name":"a","columns":[{"data_type":"text"}]}]}`,
	}
	for name, in := range tests {
		if _, err := FromJSON([]byte(in)); err == nil {
			t.Errorf("%s: FromJSON accepted %s", name, in)
		}
	}
}
