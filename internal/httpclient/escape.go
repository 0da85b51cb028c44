package httpclient

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape returns s with every character that could act on a terminal or
// hide what a text says written as a visible escape: C0 controls (\n, \r and
// \t included, so text from the network cannot forge a line), DEL, C1
// controls, the bidirectional overrides and isolates U+202A-U+202E and
// U+2066-U+2069, and bytes that are not UTF-8 (as \xNN). Everything else,
// non-ASCII letters included, is kept. Backslashes are kept as they are, so
// Escape(Escape(s)) == Escape(s).
//
// Escape is the one place that decides what is safe to show: the Redactor
// applies it to everything it returns, and the CLI applies it (through
// EscapeLines) to whatever it prints.
func Escape(s string) string { return escape(s, false) }

// EscapeLines is Escape for text of several lines written by restload itself
// (a list of problems, say): it keeps each "\n" and escapes the rest.
func EscapeLines(s string) string { return escape(s, true) }

func escape(s string, keepNewlines bool) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, size) && !(keepNewlines && r == '\n') {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case keepNewlines && r == '\n', !unsafeRune(r, size):
			b.WriteString(s[i : i+size])
		case r == utf8.RuneError:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

// unsafeRune reports whether r (decoded from size bytes) must be escaped.
func unsafeRune(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size <= 1:
		return true // not UTF-8
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
