package load

import "testing"

func TestWithoutNUL(t *testing.T) {
	for _, c := range []struct {
		in   string
		json bool
		want string
	}{
		{"x\x00y", false, "xy"},
		{"\x00", false, ""},
		{`x\u0000y`, false, `x\u0000y`}, // text: the six characters are not NUL
		{`"a\u0000b"`, true, `"ab"`},
		{`"\\u0000"`, true, `"\\u0000"`}, // an escaped backslash, then "u0000"
		{`"\\\u0000"`, true, `"\\"`},     // an escaped backslash, then NUL
		{`{"k":"\u0000\u0000"}`, true, `{"k":""}`},
		{`"\u00001"`, true, `"1"`},
		{`"\"\u0000"`, true, `"\""`},
	} {
		got, changed := withoutNUL(c.in, c.json)
		if got != c.want || changed != (got != c.in) {
			t.Errorf("withoutNUL(%q, json %v) = %q, %v; want %q, %v", c.in, c.json, got, changed, c.want, c.want != c.in)
		}
	}
}
