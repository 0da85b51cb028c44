package files

import (
	"testing"
	"time"

	"github.com/restload/restload/internal/schema"
)

// TestAppendJSONMatchesEncodingJSON holds the hand-written JSONL encoding
// of each column type to encoding/json, byte for byte (text itself:
// jsontext's test).
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	ts := time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("IST", 19800))
	for _, c := range []struct {
		col  *schema.Column
		v    any
		want string
	}{
		{&schema.Column{Type: schema.BigInt}, int64(-9223372036854775808), `-9223372036854775808`},
		{&schema.Column{Type: schema.Double}, 1e21, `1e+21`},
		{&schema.Column{Type: schema.Double}, 0.000001, `0.000001`},
		{&schema.Column{Type: schema.Bool}, true, `true`},
		{&schema.Column{Type: schema.Text}, nil, `null`},
		{&schema.Column{Type: schema.Timestamp}, ts, `"2024-02-29T23:59:58.123456789+05:30"`},
		{&schema.Column{Type: schema.Date}, ts, `"2024-02-29"`},
		{&schema.Column{Type: schema.JSON}, `{ "a" : [1, "<b>"] }`, `{"a":[1,"\u003cb\u003e"]}`},
		{&schema.Column{Type: schema.Decimal}, "12.50", `"12.50"`},
	} {
		got, err := appendJSONValue(nil, c.col, c.v)
		if err != nil || string(got) != c.want {
			t.Errorf("%s %v: got %s, %v; want %s", c.col.Type, c.v, got, err, c.want)
		}
	}
	if _, err := appendJSONValue(nil, &schema.Column{Type: schema.JSON}, `{"a":`); err == nil {
		t.Error("invalid JSON in a JSON column: no error")
	}
}
