package load

import (
	"sort"
	"strconv"
	"strings"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// NULRule is what loading does to NUL characters, the same for every
// destination, so that one dataset loaded into two destinations holds the
// same values.
const NULRule = "NUL characters (U+0000) are removed from text and JSON values before loading, in every destination: PostgreSQL text and jsonb cannot hold them"

// NULCounts counts, by "table.column", the values NUL was removed from.
type NULCounts map[string]int64

// Total is how many values NUL was removed from.
func (c NULCounts) Total() int64 {
	var n int64
	for _, k := range c {
		n += k
	}
	return n
}

// Add adds o's counts to c.
func (c NULCounts) Add(o NULCounts) {
	for k, n := range o {
		c[k] += n
	}
}

// String lists the counts by column, sorted: "t.a=2, t.b=1".
func (c NULCounts) String() string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + strconv.FormatInt(c[k], 10)
	}
	return strings.Join(keys, ", ")
}

// stripNUL applies NULRule to the text and JSON columns of t's rows from
// src (rows in t's column order), counting into counts.
type stripNUL struct {
	destination.RowSource
	cols   []int  // indexes of text and JSON columns
	json   []bool // by cols: whether a JSON column
	names  []string
	counts NULCounts
}

// newStripNUL wraps src, or returns it when t has no text or JSON column.
func newStripNUL(src destination.RowSource, t *schema.Table, counts NULCounts) destination.RowSource {
	s := &stripNUL{RowSource: src, counts: counts}
	for i, c := range t.Columns {
		if c.Type == schema.Text || c.Type == schema.JSON {
			s.cols = append(s.cols, i)
			s.json = append(s.json, c.Type == schema.JSON)
			s.names = append(s.names, t.Name+"."+c.Name)
		}
	}
	if len(s.cols) == 0 {
		return src
	}
	return s
}

// Values returns the row with NUL removed; it changes the source's slice
// in place (a RowSource's slice is the caller's until the next Next).
func (s *stripNUL) Values() []any {
	v := s.RowSource.Values()
	for k, i := range s.cols {
		if i >= len(v) {
			continue
		}
		str, ok := v[i].(string)
		if !ok {
			continue
		}
		out, changed := withoutNUL(str, s.json[k])
		if changed {
			v[i] = out
			s.counts[s.names[k]]++
		}
	}
	return v
}

// withoutNUL removes NUL bytes from s and, when s is JSON text, its \u0000
// escapes (not an escaped backslash followed by "u0000").
func withoutNUL(s string, json bool) (string, bool) {
	if strings.IndexByte(s, 0) < 0 && (!json || !strings.Contains(s, `\u0000`)) {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0:
			continue
		case json && c == '\\' && i+1 < len(s):
			if strings.HasPrefix(s[i+1:], "u0000") {
				i += 5
				continue
			}
			b.WriteByte(c)
			b.WriteByte(s[i+1])
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), b.Len() != len(s)
}
