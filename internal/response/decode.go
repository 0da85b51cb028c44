package response

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth bounds the nesting of arrays and objects, as encoding/json does.
const maxDepth = 10000

// SyntaxError is a body that is not JSON: what is wrong and the byte offset
// where it was found.
type SyntaxError struct {
	Msg    string
	Offset int64
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s (at byte %d)", e.Msg, e.Offset)
}

// Decode parses the JSON value at the start of b into a document of the
// types this package works on: nil, bool, string, json.Number, []any and
// map[string]any, exactly what an encoding/json Decoder with UseNumber
// gives for one value. As with that Decoder, whatever follows the first
// value is not read; a body holding only whitespace is an error. Invalid
// UTF-8 and lone surrogates in strings become U+FFFD; of duplicate keys the
// last wins.
//
// Decode copies b once, into a string that the document's string and
// number values without escapes are substrings of, so the caller may reuse
// b afterwards; keeping any of those values keeps that copy of b alive
// (object keys are copied on their own). It is safe for concurrent use.
//
// It exists because decoding pages is the largest CPU cost of a load:
// encoding/json scans each value twice, allocates every string, and grows
// every map and slice one element at a time; Decode scans once, sizes
// objects and arrays exactly and allocates each distinct key of a page once.
//
// Unlike encoding/json, and like Python's requests (so dlt), Decode reads a
// body that starts with a byte-order mark: a UTF-8 one is skipped, and a
// UTF-16 one (either byte order) makes the body UTF-16.
func Decode(b []byte) (any, error) {
	return decodeDoc(b, false)
}

// DecodeOwned is Decode for a b that the caller hands over: b must not be
// changed afterwards, for as long as the document or any value cut from it
// is in use. The document's strings then share b's memory instead of a copy
// of it. A page body read for decoding is never written again, and the copy
// was an eighth of the bytes a load allocates.
func DecodeOwned(b []byte) (any, error) {
	return decodeDoc(b, true)
}

func decodeDoc(b []byte, owned bool) (any, error) {
	b, err := withoutBOM(b)
	if err != nil {
		return nil, err
	}
	d := decoder{b: b}
	if owned && len(b) > 0 {
		d.s = unsafe.String(unsafe.SliceData(b), len(b))
	} else {
		d.s = string(b)
	}
	d.skipSpace()
	if d.i >= len(d.b) {
		return nil, d.errorf("unexpected end of JSON input")
	}
	return d.value(0)
}

type decoder struct {
	b []byte
	s string // b's text, which values are substrings of
	i int
	// keys interns object keys: a page repeats the same keys in every
	// record, and one string per distinct key saves an allocation per field.
	keys map[string]string
	// vals and kvs are stacks that objects and arrays collect their
	// elements on, so that each map and slice is made once at its size.
	vals []any
	kvs  []kv
	// buf holds a string's unescaped bytes.
	buf []byte
}

type kv struct {
	k string
	v any
}

func (d *decoder) errorf(format string, args ...any) error {
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Offset: int64(d.i)}
}

func (d *decoder) unexpected(context string) error {
	if d.i >= len(d.b) {
		return d.errorf("unexpected end of JSON input")
	}
	return d.errorf("invalid character %s %s", quoteChar(d.b[d.i]), context)
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

func (d *decoder) skipSpace() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// value decodes the value at d.i, which is not whitespace.
func (d *decoder) value(depth int) (any, error) {
	if d.i >= len(d.b) {
		return nil, d.unexpected("")
	}
	switch c := d.b[d.i]; c {
	case '{':
		return d.object(depth + 1)
	case '[':
		return d.array(depth + 1)
	case '"':
		return d.str()
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return d.number()
		}
		return nil, d.unexpected("looking for beginning of value")
	}
}

func (d *decoder) literal(lit string) error {
	for j := 0; j < len(lit); j++ {
		if d.i >= len(d.b) || d.b[d.i] != lit[j] {
			return d.unexpected("in literal " + lit + " (expecting " + quoteChar(lit[j]) + ")")
		}
		d.i++
	}
	return nil
}

func (d *decoder) object(depth int) (any, error) {
	if depth > maxDepth {
		return nil, d.errorf("exceeded max depth")
	}
	d.i++ // {
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return map[string]any{}, nil
	}
	base := len(d.kvs)
	for {
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, d.unexpected("looking for beginning of object key string")
		}
		k, err := d.key()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, d.unexpected("after object key")
		}
		d.i++
		d.skipSpace()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.kvs = append(d.kvs, kv{k, v})
		d.skipSpace()
		if d.i < len(d.b) && d.b[d.i] == ',' {
			d.i++
			d.skipSpace()
			continue
		}
		if d.i < len(d.b) && d.b[d.i] == '}' {
			d.i++
			break
		}
		return nil, d.unexpected("after object key:value pair")
	}
	m := make(map[string]any, len(d.kvs)-base)
	for _, e := range d.kvs[base:] {
		m[e.k] = e.v
	}
	clear(d.kvs[base:]) // drop references for the garbage collector
	d.kvs = d.kvs[:base]
	return m, nil
}

func (d *decoder) array(depth int) (any, error) {
	if depth > maxDepth {
		return nil, d.errorf("exceeded max depth")
	}
	d.i++ // [
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return []any{}, nil
	}
	base := len(d.vals)
	for {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.vals = append(d.vals, v)
		d.skipSpace()
		if d.i < len(d.b) && d.b[d.i] == ',' {
			d.i++
			d.skipSpace()
			continue
		}
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			break
		}
		return nil, d.unexpected("after array element")
	}
	a := make([]any, len(d.vals)-base)
	copy(a, d.vals[base:])
	clear(d.vals[base:])
	d.vals = d.vals[:base]
	return a, nil
}

// number decodes a number with JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() (any, error) {
	start := d.i
	b := d.b
	if b[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(b) && b[d.i] == '0':
		d.i++
	case d.i < len(b) && b[d.i] >= '1' && b[d.i] <= '9':
		d.digits()
	default:
		return nil, d.unexpected("in numeric literal")
	}
	if d.i < len(b) && b[d.i] == '.' {
		d.i++
		if d.i >= len(b) || b[d.i] < '0' || b[d.i] > '9' {
			return nil, d.unexpected("after decimal point in numeric literal")
		}
		d.digits()
	}
	if d.i < len(b) && (b[d.i] == 'e' || b[d.i] == 'E') {
		d.i++
		if d.i < len(b) && (b[d.i] == '+' || b[d.i] == '-') {
			d.i++
		}
		if d.i >= len(b) || b[d.i] < '0' || b[d.i] > '9' {
			return nil, d.unexpected("in exponent of numeric literal")
		}
		d.digits()
	}
	return json.Number(d.s[start:d.i]), nil
}

func (d *decoder) digits() {
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
}

// key decodes an object key, interned for the page.
func (d *decoder) key() (string, error) {
	raw, err := d.strBytes()
	if err != nil {
		return "", err
	}
	if k, ok := d.keys[string(raw)]; ok {
		return k, nil
	}
	k := string(raw)
	if len(k) <= 64 && len(d.keys) < 4096 {
		if d.keys == nil {
			d.keys = make(map[string]string)
		}
		d.keys[k] = k
	}
	return k, nil
}

func (d *decoder) str() (any, error) {
	start := d.i + 1
	raw, err := d.strBytes()
	if err != nil {
		return nil, err
	}
	if len(raw) > 0 && &raw[0] == &d.b[start] {
		// Not unescaped: the body's own text.
		return d.s[start : start+len(raw)], nil
	}
	return string(raw), nil
}

// strBytes decodes the string at d.i (at its opening quote) and returns its
// bytes: a slice of the input when the string is valid UTF-8 without
// escapes, else of d.buf. Either is only valid until the next call.
func (d *decoder) strBytes() ([]byte, error) {
	d.i++ // "
	start := d.i
	b := d.b
	// Fast path: valid UTF-8 without escapes, the string as it stands.
	for d.i < len(b) {
		c := b[d.i]
		if c == '"' {
			s := b[start:d.i]
			d.i++
			return s, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c < utf8.RuneSelf {
			d.i++
			continue
		}
		r, size := utf8.DecodeRune(b[d.i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		d.i += size
	}
	d.buf = append(d.buf[:0], b[start:d.i]...)
	for {
		if d.i >= len(b) {
			return nil, d.errorf("unexpected end of JSON input")
		}
		c := b[d.i]
		switch {
		case c == '"':
			d.i++
			return d.buf, nil
		case c < 0x20:
			return nil, d.unexpected("in string literal")
		case c == '\\':
			if err := d.escape(); err != nil {
				return nil, err
			}
		case c < utf8.RuneSelf:
			d.buf = append(d.buf, c)
			d.i++
		default:
			r, size := utf8.DecodeRune(b[d.i:])
			if r == utf8.RuneError && size == 1 {
				d.buf = utf8.AppendRune(d.buf, utf8.RuneError)
			} else {
				d.buf = append(d.buf, b[d.i:d.i+size]...)
			}
			d.i += size
		}
	}
}

// escape decodes the escape sequence at d.i (at its backslash) into d.buf.
func (d *decoder) escape() error {
	d.i++
	if d.i >= len(d.b) {
		return d.errorf("unexpected end of JSON input")
	}
	c := d.b[d.i]
	switch c {
	case '"', '\\', '/':
		d.buf = append(d.buf, c)
	case 'b':
		d.buf = append(d.buf, '\b')
	case 'f':
		d.buf = append(d.buf, '\f')
	case 'n':
		d.buf = append(d.buf, '\n')
	case 'r':
		d.buf = append(d.buf, '\r')
	case 't':
		d.buf = append(d.buf, '\t')
	case 'u':
		d.i++
		r, ok := d.hex4()
		if !ok {
			return d.unexpected("in \\u hexadecimal character escape")
		}
		if utf16.IsSurrogate(r) {
			// A high surrogate followed by an escaped low one is one rune;
			// anything else is a lone surrogate, replaced.
			r2 := utf8.RuneError
			if d.i+1 < len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
				save := d.i
				d.i += 2
				lo, ok := d.hex4()
				if !ok {
					return d.unexpected("in \\u hexadecimal character escape")
				}
				if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
					r2 = dec
				} else {
					d.i = save // the second escape stands on its own
				}
			}
			d.buf = utf8.AppendRune(d.buf, r2)
			return nil
		}
		d.buf = utf8.AppendRune(d.buf, r)
		return nil
	default:
		return d.unexpected("in string escape code")
	}
	d.i++
	return nil
}

// hex4 reads four hex digits at d.i.
func (d *decoder) hex4() (rune, bool) {
	if d.i+4 > len(d.b) {
		// Point at the first missing or bad digit.
		for d.i < len(d.b) && isHex(d.b[d.i]) {
			d.i++
		}
		return 0, false
	}
	var r rune
	for j := 0; j < 4; j++ {
		c := d.b[d.i]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
		d.i++
	}
	return r, true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// withoutBOM returns b without its leading byte-order mark, as UTF-8.
func withoutBOM(b []byte) ([]byte, error) {
	switch {
	case len(b) >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf:
		return b[3:], nil
	case len(b) >= 2 && (b[0] == 0xff && b[1] == 0xfe || b[0] == 0xfe && b[1] == 0xff):
		big := b[0] == 0xfe
		b = b[2:]
		if len(b)%2 != 0 {
			return nil, &SyntaxError{Msg: "UTF-16 body (byte-order mark) of an odd length", Offset: int64(len(b) + 2)}
		}
		units := make([]uint16, len(b)/2)
		for i := range units {
			hi, lo := b[2*i], b[2*i+1]
			if !big {
				hi, lo = lo, hi
			}
			units[i] = uint16(hi)<<8 | uint16(lo)
		}
		out := make([]byte, 0, len(b)+len(b)/2)
		for _, r := range utf16.Decode(units) {
			out = utf8.AppendRune(out, r)
		}
		return out, nil
	}
	return b, nil
}
