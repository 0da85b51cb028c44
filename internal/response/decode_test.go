package response

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/restload/restload/internal/mockapi"
)

// stdDecode is the decode Decode replaces: an encoding/json Decoder with
// UseNumber reading one value.
func stdDecode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

var decodeCases = []string{
	`null`, `true`, `false`, `0`, `-0`, `12`, `-3.25e+10`, `1E-2`, `0.5`,
	`""`, `"plain"`, `"a\"b\\c\/d\be\ff\ng\rh\ti"`, `"\u00e9\u4e2d"`, `"Café"`,
	`"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ude00\ud83d"`, `"\ud83d\u0041"`,
	"\"bad \xff utf8 \xc3\"", "\"\xed\xa0\x80\"",
	`[]`, `{}`, `[1,"a",null,[],{}]`, ` { "a" : [ 1 , { "b" : "c" } ] , "d" : {} } `,
	`{"a":1,"a":2}`, `{"k":"v"}trailing`, `01`, `123abc`, `truex`,
	`{"data":[{"id":1,"name":"x","tags":["a","b"],"owner":{"id":"o"}}],"total":7}`,
	// errors
	``, ` `, `{`, `[`, `[1,]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{a:1}`, `"abc`, "\"a\x01\"",
	`"\x"`, `"\u12"`, `"\u12g4"`, `"\ud83d\uzzzz"`, `-`, `-a`, `1.`, `1.e3`, `1e`, `1e+`, `tru`, `nul`, `nope`,
	`[1 2]`, `{"a":1 "b":2}`, `'a'`, `]`, `}`,
	// byte-order marks
	"\ufeff{}", "\ufeff", "\xff\xfe[\x00]\x00", "\xfe\xff\x00[\x00]", "\xff\xfe[",
}

// TestDecodeMatchesEncodingJSON checks that Decode gives what an
// encoding/json Decoder with UseNumber gives, values and types, and fails
// where it fails.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, in := range decodeCases {
		checkSameAsStd(t, []byte(in))
	}
}

func checkSameAsStd(t *testing.T, in []byte) {
	t.Helper()
	if bytes.HasPrefix(in, []byte("\xef\xbb\xbf")) || bytes.HasPrefix(in, []byte("\xff\xfe")) || bytes.HasPrefix(in, []byte("\xfe\xff")) {
		checkBOM(t, in)
		return
	}
	want, werr := stdDecode(in)
	got, gerr := Decode(in)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("Decode(%q) error = %v, encoding/json's = %v", in, gerr, werr)
	}
	if werr != nil {
		var se *SyntaxError
		if !errors.As(gerr, &se) {
			t.Fatalf("Decode(%q) error %T %v, want *SyntaxError", in, gerr, gerr)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode(%q) = %#v, encoding/json gives %#v", in, got, want)
	}
	// DecodeOwned, which shares the input's memory, gives the same.
	owned, oerr := DecodeOwned(bytes.Clone(in))
	if oerr != nil || !reflect.DeepEqual(owned, want) {
		t.Fatalf("DecodeOwned(%q) = %#v, %v; encoding/json gives %#v", in, owned, oerr, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	for _, tc := range []struct{ in, want string }{
		{``, "unexpected end of JSON input (at byte 0)"},
		{`{"a":1,}`, `invalid character '}' looking for beginning of object key string (at byte 7)`},
		{`[1 2]`, `invalid character '2' after array element (at byte 3)`},
		{`<html>`, `invalid character '<' looking for beginning of value (at byte 0)`},
		{`{"a":tru}`, `invalid character '}' in literal true (expecting 'e') (at byte 8)`},
		{"\"a\tb\"", `invalid character '\t' in string literal (at byte 2)`},
		{deep, "exceeded max depth (at byte 10000)"},
	} {
		_, err := Decode([]byte(tc.in))
		if err == nil || err.Error() != tc.want {
			t.Errorf("Decode(%.20q) error = %v, want %s", tc.in, err, tc.want)
		}
	}
}

// TestDecodeCopiesStrings checks that the document does not alias the
// input, which the caller may reuse.
func TestDecodeCopiesStrings(t *testing.T) {
	in := []byte(`{"key":"value","n":12,"l":["x"]}`)
	v, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 'z'
	}
	want := map[string]any{"key": "value", "n": json.Number("12"), "l": []any{"x"}}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("after overwriting the input: %#v, want %#v", v, want)
	}
}

func TestDecodeMockPages(t *testing.T) {
	for _, page := range mockPages(t, 30) {
		checkSameAsStd(t, page)
	}
}

func FuzzDecode(f *testing.F) {
	for _, in := range decodeCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkSameAsStd(t, in) })
}

// mockPages returns one page of n records of each mock API resource, as
// the API serves them.
func mockPages(tb testing.TB, n int) [][]byte {
	tb.Helper()
	s := mockapi.New(mockapi.Options{Records: n})
	var pages [][]byte
	for _, r := range s.Resources() {
		var b bytes.Buffer
		b.WriteString(`{"data":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(s.RecordJSON(r, i))
		}
		b.WriteString(`],"total":1}`)
		pages = append(pages, b.Bytes())
	}
	return pages
}

// BenchmarkDecode decodes pages of 100 mock API records with Decode and,
// for comparison, with encoding/json as extract used to (a Decoder over
// the body read).
func BenchmarkDecode(b *testing.B) {
	pages := mockPages(b, 100)
	size := 0
	for _, p := range pages {
		size += len(p)
	}
	for _, bc := range []struct {
		name string
		fn   func([]byte) (any, error)
	}{{"Decode", Decode}, {"DecodeOwned", DecodeOwned}, {"encoding_json", stdDecode}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for _, p := range pages {
					if _, err := bc.fn(p); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*len(pages)*100)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
