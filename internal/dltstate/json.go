// Package dltstate is restload's one home for dlt's on-disk formats: the
// JSON dlt writes (orjson's compact form, optionally with sorted keys),
// the version hashes of a stored schema and of a pipeline state, the
// compressed state string of _dlt_pipeline_state, and the incremental
// boundary hashes. Each follows dlt 1.26's source (dlt/common/json,
// dlt/common/schema/utils.py, dlt/common/versioned_state.py,
// dlt/common/utils.py) so that what restload writes dlt reads, and the
// other way round. Everything here is pure and safe for concurrent use.
package dltstate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Object is a JSON object that keeps its keys in the order they were
// written: dlt's schema hash depends on the order of a table's columns,
// and dlt reads columns in the order stored.
type Object struct {
	keys []string
	vals map[string]any
}

// NewObject returns an empty object.
func NewObject() *Object { return &Object{vals: map[string]any{}} }

// Keys returns the keys in order. The caller must not change the slice.
func (o *Object) Keys() []string {
	if o == nil {
		return nil
	}
	return o.keys
}

// Len is the number of keys.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.keys)
}

// Get returns the value of key and whether it is there.
func (o *Object) Get(key string) (any, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.vals[key]
	return v, ok
}

// Obj returns the object under key, or nil.
func (o *Object) Obj(key string) *Object {
	v, _ := o.Get(key)
	ob, _ := v.(*Object)
	return ob
}

// Str returns the string under key, or "".
func (o *Object) Str(key string) string {
	v, _ := o.Get(key)
	s, _ := v.(string)
	return s
}

// Int returns the integer under key, or 0.
func (o *Object) Int(key string) int64 {
	v, _ := o.Get(key)
	switch x := v.(type) {
	case json.Number:
		n, _ := x.Int64()
		return n
	case int:
		return int64(x)
	case int64:
		return x
	}
	return 0
}

// Set sets key to v, appending key when new.
func (o *Object) Set(key string, v any) {
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
}

// Delete removes key.
func (o *Object) Delete(key string) {
	if _, ok := o.vals[key]; !ok {
		return
	}
	delete(o.vals, key)
	for i, k := range o.keys {
		if k == key {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

// Ensure returns the object under key, creating it (appended) when
// missing or not an object.
func (o *Object) Ensure(key string) *Object {
	if ob := o.Obj(key); ob != nil {
		return ob
	}
	ob := NewObject()
	o.Set(key, ob)
	return ob
}

// Clone returns a deep copy.
func (o *Object) Clone() *Object {
	if o == nil {
		return nil
	}
	return clone(o).(*Object)
}

func clone(v any) any {
	switch x := v.(type) {
	case *Object:
		c := &Object{keys: append([]string(nil), x.keys...), vals: make(map[string]any, len(x.vals))}
		for k, e := range x.vals {
			c.vals[k] = clone(e)
		}
		return c
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = clone(e)
		}
		return c
	}
	return v
}

// MarshalJSON writes o compactly, keys in order.
func (o *Object) MarshalJSON() ([]byte, error) { return Marshal(o, false) }

// UnmarshalJSON reads o, keeping key order.
func (o *Object) UnmarshalJSON(b []byte) error {
	v, err := Parse(b)
	if err != nil {
		return err
	}
	ob, ok := v.(*Object)
	if !ok {
		return errors.New("not a JSON object")
	}
	*o = *ob
	return nil
}

// maxDepth bounds nesting in Parse: stored documents come from a
// database anyone with write access could have changed.
const maxDepth = 256

// Parse decodes one JSON value: objects as *Object (keys in order), arrays
// as []any, numbers as json.Number (their text kept, so a value dlt wrote
// is written back, and hashed, exactly as dlt wrote it).
func Parse(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the value")
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("invalid JSON: nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := NewObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("invalid JSON: %w", err)
				}
				k, _ := kt.(string)
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				o.Set(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			return o, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			return a, nil
		}
		return nil, fmt.Errorf("invalid JSON: unexpected %v", t)
	}
	return tok, nil
}

// Marshal writes v as dlt's JSON (orjson) does: compact, non-ASCII as
// UTF-8, only '"', '\\' and control characters escaped; with sorted set,
// every object's keys sorted (orjson's OPT_SORT_KEYS, what dlt hashes).
// v holds *Object, map[string]any, []any, string, json.Number, bool, nil,
// integers and float64, as Parse and Go code build them; other values are
// written as encoding/json writes them.
func Marshal(v any, sorted bool) ([]byte, error) {
	var b bytes.Buffer
	if err := write(&b, v, sorted); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func write(b *bytes.Buffer, v any, sorted bool) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case *Object:
		keys := x.keys
		if sorted {
			keys = append([]string(nil), keys...)
			sort.Strings(keys)
		}
		return writeObject(b, keys, func(k string) any { return x.vals[k] }, sorted)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // Go maps have no order: sorted either way
		return writeObject(b, keys, func(k string) any { return x[k] }, sorted)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := write(b, e, sorted); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case []string:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = e
		}
		return write(b, a, sorted)
	case string:
		writeString(b, x)
	case json.Number:
		b.WriteString(string(x))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(pyFloat(x))
	default:
		raw, err := json.Marshal(x)
		if err != nil {
			return err
		}
		p, err := Parse(raw)
		if err != nil {
			return err
		}
		return write(b, p, sorted)
	}
	return nil
}

func writeObject(b *bytes.Buffer, keys []string, get func(string) any, sorted bool) error {
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, k)
		b.WriteByte(':')
		if err := write(b, get(k), sorted); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// pyFloat formats f as Python's repr does (orjson agrees): integral values
// keep ".0", exponents from 1e16 up and below 1e-4.
func pyFloat(f float64) string {
	abs := f
	if abs < 0 {
		abs = -abs
	}
	if abs != 0 && (abs >= 1e16 || abs < 1e-4) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !bytes.ContainsAny([]byte(s), ".") {
		s += ".0"
	}
	return s
}

const hexDigits = "0123456789abcdef"

func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				b.WriteString(`\"`)
			case c == '\\':
				b.WriteString(`\\`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\b':
				b.WriteString(`\b`)
			case c == '\f':
				b.WriteString(`\f`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\ufffd")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}
