package httpclient

import (
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want, lines string }{
		{"plain text, café 東京", "plain text, café 東京", "plain text, café 東京"},
		{"\x1b[2J\x1b[Hforged", `\x1b[2J\x1b[Hforged`, `\x1b[2J\x1b[Hforged`},
		{"line1\nERROR: forged\r\tx", `line1\nERROR: forged\r\tx`, "line1\nERROR: forged\\r\\tx"},
		{"nul\x00 bell\x07 del\x7f", `nul\x00 bell\x07 del\x7f`, `nul\x00 bell\x07 del\x7f`},
		{"c1 \u009b31m csi", `c1 \x9b31m csi`, `c1 \x9b31m csi`},
		{"bidi \u202euser\u202c \u2066x\u2069", `bidi \u202euser\u202c \u2066x\u2069`, `bidi \u202euser\u202c \u2066x\u2069`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`, `bad \xff\xfe utf8`},
		{`already \x1b escaped`, `already \x1b escaped`, `already \x1b escaped`},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q)\n got %s\nwant %s", tt.in, got, tt.want)
		}
		if got := EscapeLines(tt.in); got != tt.lines {
			t.Errorf("EscapeLines(%q)\n got %s\nwant %s", tt.in, got, tt.lines)
		}
		if got := Escape(Escape(tt.in)); got != Escape(tt.in) {
			t.Errorf("Escape is not idempotent on %q: %q", tt.in, got)
		}
	}
}

// FuzzEscape checks that nothing Escape returns can act on a terminal.
func FuzzEscape(f *testing.F) {
	f.Add("\x1b]0;title\x07\u202e\xff\n")
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				t.Fatalf("Escape(%q) = %q keeps %U", s, out, r)
			}
		}
		if strings.ContainsRune(out, 0xfffd) && !strings.ContainsRune(s, 0xfffd) {
			t.Fatalf("Escape(%q) = %q invents U+FFFD", s, out)
		}
		if Escape(out) != out {
			t.Fatalf("Escape not idempotent on %q", s)
		}
	})
}
