package response

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf16"
)

func utf16Bytes(s string, bigEndian bool) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return b
}

// TestDecodeByteOrderMark: a body that starts with a byte-order mark
// decodes as Python's requests (and so dlt) decodes it: the mark is
// dropped, and UTF-16 is read as UTF-16.
func TestDecodeByteOrderMark(t *testing.T) {
	const doc = `{"data":[{"id":1,"name":"Café 😀"}]}`
	want := map[string]any{"data": []any{map[string]any{"id": json.Number("1"), "name": "Café 😀"}}}
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"UTF-8 BOM", append([]byte("\xef\xbb\xbf"), doc...)},
		{"UTF-8 BOM then space", append([]byte("\xef\xbb\xbf \n"), doc...)},
		{"UTF-16 LE BOM", append([]byte{0xff, 0xfe}, utf16Bytes(doc, false)...)},
		{"UTF-16 BE BOM", append([]byte{0xfe, 0xff}, utf16Bytes(doc, true)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %#v", got)
			}
		})
	}
	for _, in := range []string{"\xef\xbb\xbf", "\xef\xbb\xbf\xef\xbb\xbf{}", " \xef\xbb\xbf{}", "\xff\xfe{\x00", "\xef\xbb"} {
		if v, err := Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%q) = %v, want an error", in, v)
		}
	}
}

// checkBOM checks Decode of a body with a byte-order mark against
// encoding/json given the same text without it, in UTF-8.
func checkBOM(t *testing.T, in []byte) {
	t.Helper()
	plain, err := withoutBOM(in)
	got, gerr := Decode(in)
	if err != nil {
		if gerr == nil {
			t.Fatalf("Decode(%q) = %v, want the error %v", in, got, err)
		}
		return
	}
	want, werr := stdDecode(plain)
	if (werr != nil) != (gerr != nil) || werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode(%q) = %#v, %v; encoding/json of %q gives %#v, %v", in, got, gerr, plain, want, werr)
	}
}
