// Package jsontext writes JSON text by hand where encoding/json's reflection
// costs too much: the mock API's pages and the JSONL destination's rows.
package jsontext

import "unicode/utf8"

// AppendString appends s quoted as encoding/json quotes it: HTML
// characters and U+2028/U+2029 escaped, bytes that are not UTF-8 as
// U+FFFD.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Most text needs no escaping: skip it eight bytes at a time.
		if i+8 <= len(s) && plain8(s[i:i+8]) {
			i += 8
			continue
		}
		if c := s[i]; c < utf8.RuneSelf {
			if plainByte[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plainByte says which ASCII bytes AppendString copies as they are.
var plainByte = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// plain8 reports whether the eight bytes of s (len(s) == 8) are all plain
// ASCII (plainByte), testing them at once as one 64-bit word: no byte with
// the high bit set, none below 0x20, none equal to a byte that is escaped.
func plain8(s string) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	// zero(v) is not 0 exactly when some byte of v is 0.
	zero := func(v uint64) uint64 { return (v - lsb) & ^v & msb }
	bad := x&msb | (x-0x20*lsb)&^x&msb | // non-ASCII, control bytes
		zero(x^('"'*lsb)) | zero(x^('\\'*lsb)) | zero(x^('<'*lsb)) | zero(x^('>'*lsb)) | zero(x^('&'*lsb))
	return bad == 0
}
