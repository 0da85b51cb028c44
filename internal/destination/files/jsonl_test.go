package files

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/restload/restload/internal/schema"
)

// TestAppendJSONMatchesEncodingJSON holds the hand-written JSONL encoding
// to encoding/json, byte for byte, on awkward and random values.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", `"quoted" \\ back/slash`, "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f",
		"<html> & </html>", "line\u2028sep\u2029para", "héllo 日本語 🚀", "bad \xff\xfe utf8 \xc3", "\xed\xa0\x80 surrogate"}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab\"\\<>&\n\t\x00\x1f\x7f\xc3\xa9\xe2\x80\xa8\xff")
	for range 5000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		strs = append(strs, string(b))
	}
	for _, s := range strs {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("string %q: got %s, want %s", s, got, want)
		}
	}
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
