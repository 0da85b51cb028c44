package auth

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// maxEditSize and maxEditBrackets bound the secrets files setTOMLString
// edits.
const (
	maxEditSize     = 1 << 20
	maxEditBrackets = 1000
)

// setTOMLString returns data with the string value of every key in keys
// (lower-cased dotted paths, matched case-insensitively, as the secrets
// resolver matches them) replaced by value, written as a TOML basic string.
// Everything else (comments, layout, other keys) stays byte for byte.
//
// TOML libraries do not keep comments, so the value is edited in the text:
// a small scanner finds each key's value, and the result is parsed again
// and compared with the original, so a file the scanner misreads is an
// error, never a broken or changed file.
func setTOMLString(data []byte, keys []string, value string) ([]byte, error) {
	if len(keys) == 0 {
		return nil, errors.New("no key to rewrite")
	}
	if !utf8.ValidString(value) {
		return nil, errors.New("the new value is not valid UTF-8")
	}
	// The TOML parser takes time quadratic in nesting (3,000 nested inline
	// tables: 3 s); a secrets file is small and flat, so anything else is
	// left alone (the token then goes to the store).
	if len(data) > maxEditSize || bytes.Count(data, []byte("{"))+bytes.Count(data, []byte("[")) > maxEditBrackets {
		return nil, errors.New("the file is too large or too nested to edit safely")
	}
	var before map[string]any
	if _, err := toml.Decode(string(data), &before); err != nil {
		return nil, errors.New("the file is not valid TOML")
	}
	sc := &tomlScanner{src: data, want: map[string]bool{}}
	for _, k := range keys {
		sc.want[strings.ToLower(k)] = true
	}
	if err := sc.scan(); err != nil {
		return nil, err
	}
	found := map[string]bool{}
	for _, s := range sc.spans {
		found[s.key] = true
	}
	for _, k := range keys {
		if !found[strings.ToLower(k)] {
			return nil, fmt.Errorf("key %s holds no string this editor can rewrite (an inline table, array or multi-line value?)", k)
		}
	}
	quoted := tomlQuote(value)
	var out []byte
	last := 0
	for _, s := range sc.spans {
		out = append(out, data[last:s.start]...)
		out = append(out, quoted...)
		last = s.end
	}
	out = append(out, data[last:]...)

	// Check: the new file parses, and differs from the old one only in the
	// keys asked for.
	var after map[string]any
	if _, err := toml.Decode(string(out), &after); err != nil {
		return nil, errors.New("rewriting the value would break the file (kept unchanged)")
	}
	for _, k := range keys {
		if !setPath(before, strings.Split(strings.ToLower(k), "."), value) {
			return nil, fmt.Errorf("key %s is not a string in the file", k)
		}
	}
	if !reflect.DeepEqual(before, after) {
		return nil, errors.New("rewriting the value would change other keys (kept unchanged)")
	}
	return out, nil
}

// lookupTOMLString returns the string at a lower-cased dotted key path of a
// TOML document, matching keys case-insensitively.
func lookupTOMLString(data []byte, key string) (string, bool) {
	var tree map[string]any
	if _, err := toml.Decode(string(data), &tree); err != nil {
		return "", false
	}
	parts := strings.Split(strings.ToLower(key), ".")
	node := tree
	for i, p := range parts {
		v, ok := lookupFold(node, p)
		if !ok {
			return "", false
		}
		if i == len(parts)-1 {
			s, ok := v.(string)
			return s, ok
		}
		if node, ok = v.(map[string]any); !ok {
			return "", false
		}
	}
	return "", false
}

func lookupFold(m map[string]any, k string) (any, bool) {
	for mk, v := range m {
		if strings.ToLower(mk) == k {
			return v, true
		}
	}
	return nil, false
}

// setPath sets the string at parts (matched case-insensitively) in tree;
// false when the path does not lead to a string.
func setPath(tree map[string]any, parts []string, value string) bool {
	node := tree
	for i, p := range parts {
		for mk, v := range node {
			if strings.ToLower(mk) != p {
				continue
			}
			if i == len(parts)-1 {
				if _, ok := v.(string); !ok {
					return false
				}
				node[mk] = value
				return true
			}
			next, ok := v.(map[string]any)
			if !ok {
				return false
			}
			node = next
			goto nextPart
		}
		return false
	nextPart:
	}
	return false
}

// tomlQuote writes s as a TOML basic string.
func tomlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// tomlScanner finds the byte spans of single-line string values of wanted
// keys. It understands tables, dotted and quoted keys, comments and every
// value form well enough to skip it; anything it cannot read is an error.
type tomlScanner struct {
	src   []byte
	pos   int
	want  map[string]bool
	table []string // current [table] path, lower-cased; nil parts mean [[array]]
	inArr bool     // inside an [[array of tables]]: keys there are never wanted
	spans []span
}

type span struct {
	key        string
	start, end int
}

var errTOMLScan = errors.New("cannot read the file's layout")

func (s *tomlScanner) scan() error {
	for {
		s.skipSpaceComments(true)
		if s.pos >= len(s.src) {
			return nil
		}
		if s.src[s.pos] == '[' {
			if err := s.header(); err != nil {
				return err
			}
			continue
		}
		if err := s.keyValue(s.table, s.inArr); err != nil {
			return err
		}
		// The rest of the line: spaces and a comment only.
		s.skipSpaceComments(false)
		if s.pos < len(s.src) && s.src[s.pos] != '\n' && s.src[s.pos] != '\r' {
			return errTOMLScan
		}
	}
}

// skipSpaceComments skips blanks and comments, and newlines when nl.
func (s *tomlScanner) skipSpaceComments(nl bool) {
	for s.pos < len(s.src) {
		switch c := s.src[s.pos]; {
		case c == ' ' || c == '\t':
			s.pos++
		case nl && (c == '\n' || c == '\r'):
			s.pos++
		case c == '#':
			for s.pos < len(s.src) && s.src[s.pos] != '\n' {
				s.pos++
			}
		default:
			return
		}
	}
}

func (s *tomlScanner) header() error {
	arr := s.at("[[")
	if arr {
		s.pos += 2
	} else {
		s.pos++
	}
	path, err := s.key()
	if err != nil {
		return err
	}
	s.skipSpaceComments(false)
	closing := "]"
	if arr {
		closing = "]]"
	}
	if !s.at(closing) {
		return errTOMLScan
	}
	s.pos += len(closing)
	s.table, s.inArr = path, arr
	return nil
}

// key reads a dotted key, returning its lower-cased parts.
func (s *tomlScanner) key() ([]string, error) {
	var parts []string
	for {
		s.skipSpaceComments(false)
		if s.pos >= len(s.src) {
			return nil, errTOMLScan
		}
		var part string
		switch c := s.src[s.pos]; c {
		case '"', '\'':
			start := s.pos
			if err := s.skipString(); err != nil {
				return nil, err
			}
			var v map[string]string
			if _, err := toml.Decode("k = "+string(s.src[start:s.pos]), &v); err != nil {
				return nil, errTOMLScan
			}
			part = v["k"]
		default:
			start := s.pos
			for s.pos < len(s.src) && isBareKey(s.src[s.pos]) {
				s.pos++
			}
			if s.pos == start {
				return nil, errTOMLScan
			}
			part = string(s.src[start:s.pos])
		}
		parts = append(parts, strings.ToLower(part))
		s.skipSpaceComments(false)
		if s.pos < len(s.src) && s.src[s.pos] == '.' {
			s.pos++
			continue
		}
		return parts, nil
	}
}

// at reports whether the text at the scanner's position begins with p.
func (s *tomlScanner) at(p string) bool {
	return bytes.HasPrefix(s.src[s.pos:], []byte(p))
}

func isBareKey(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// keyValue reads `key = value` under prefix, recording a wanted string.
func (s *tomlScanner) keyValue(prefix []string, never bool) error {
	k, err := s.key()
	if err != nil {
		return err
	}
	if s.pos >= len(s.src) || s.src[s.pos] != '=' {
		return errTOMLScan
	}
	s.pos++
	s.skipSpaceComments(false)
	path := strings.Join(append(append([]string(nil), prefix...), k...), ".")
	start := s.pos
	if s.pos < len(s.src) && s.src[s.pos] == '{' {
		return s.inlineTable(append(append([]string(nil), prefix...), k...), never)
	}
	single := s.pos < len(s.src) && (s.src[s.pos] == '"' || s.src[s.pos] == '\'') &&
		!s.at(`"""`) && !s.at("'''")
	if err := s.skipValue(); err != nil {
		return err
	}
	if single && !never && s.want[path] {
		s.spans = append(s.spans, span{key: path, start: start, end: s.pos})
	}
	return nil
}

func (s *tomlScanner) inlineTable(path []string, never bool) error {
	s.pos++ // {
	for {
		s.skipSpaceComments(false)
		if s.pos >= len(s.src) {
			return errTOMLScan
		}
		if s.src[s.pos] == '}' {
			s.pos++
			return nil
		}
		if err := s.keyValue(path, never); err != nil {
			return err
		}
		s.skipSpaceComments(false)
		if s.pos < len(s.src) && s.src[s.pos] == ',' {
			s.pos++
		}
	}
}

// skipValue moves past one value of any kind.
func (s *tomlScanner) skipValue() error {
	if s.pos >= len(s.src) {
		return errTOMLScan
	}
	switch s.src[s.pos] {
	case '"', '\'':
		return s.skipString()
	case '{':
		return s.inlineTable(nil, true)
	case '[':
		s.pos++
		for {
			s.skipSpaceComments(true)
			if s.pos >= len(s.src) {
				return errTOMLScan
			}
			if s.src[s.pos] == ']' {
				s.pos++
				return nil
			}
			if err := s.skipValue(); err != nil {
				return err
			}
			s.skipSpaceComments(true)
			if s.pos < len(s.src) && s.src[s.pos] == ',' {
				s.pos++
			}
		}
	}
	// A number, boolean or date: up to a delimiter.
	start := s.pos
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		if c == ',' || c == ']' || c == '}' || c == '#' || c == '\n' || c == '\r' {
			break
		}
		s.pos++
	}
	if strings.TrimSpace(string(s.src[start:s.pos])) == "" {
		return errTOMLScan
	}
	return nil
}

// skipString moves past a string of any of TOML's four kinds.
func (s *tomlScanner) skipString() error {
	q := s.src[s.pos]
	if s.at(strings.Repeat(string(q), 3)) {
		s.pos += 3
		for s.pos < len(s.src) {
			if q == '"' && s.src[s.pos] == '\\' {
				s.pos += 2
				continue
			}
			if s.at(strings.Repeat(string(q), 3)) {
				s.pos += 3
				// Up to two more quotes belong to the string.
				for i := 0; i < 2 && s.pos < len(s.src) && s.src[s.pos] == q; i++ {
					s.pos++
				}
				return nil
			}
			s.pos++
		}
		return errTOMLScan
	}
	s.pos++
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == '\n':
			return errTOMLScan
		case q == '"' && c == '\\':
			s.pos += 2
			continue
		case c == q:
			s.pos++
			return nil
		}
		s.pos++
	}
	return errTOMLScan
}
