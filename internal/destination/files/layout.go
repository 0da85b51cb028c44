package files

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// DefaultLayout is where a data file goes under <prefix>/<dataset>/ in
// object storage: dlt's filesystem destination default.
const DefaultLayout = "{table_name}/{load_id}.{file_id}.{ext}"

// layout is a parsed dlt filesystem layout: literal text and placeholders.
type layout struct {
	parts []layoutPart
}

type layoutPart struct {
	lit  string
	name string // placeholder name; "" for a literal
}

// layoutVars are the values of one file's placeholders.
type layoutVars struct {
	schema, table, loadID, fileID, ext string
	at                                 time.Time // the load's start, UTC
}

// placeholders are dlt's layout placeholders that restload fills. The time
// ones all use the load's start (dlt's load package timestamp), so one
// load's files share a folder.
var placeholders = map[string]func(v *layoutVars) string{
	"schema_name":               func(v *layoutVars) string { return v.schema },
	"table_name":                func(v *layoutVars) string { return v.table },
	"load_id":                   func(v *layoutVars) string { return v.loadID },
	"file_id":                   func(v *layoutVars) string { return v.fileID },
	"ext":                       func(v *layoutVars) string { return v.ext },
	"curr_date":                 func(v *layoutVars) string { return v.at.Format(time.DateOnly) },
	"year":                      func(v *layoutVars) string { return v.at.Format("2006") },
	"month":                     func(v *layoutVars) string { return v.at.Format("01") },
	"day":                       func(v *layoutVars) string { return v.at.Format("02") },
	"hour":                      func(v *layoutVars) string { return v.at.Format("15") },
	"minute":                    func(v *layoutVars) string { return v.at.Format("04") },
	"dow":                       func(v *layoutVars) string { return strings.ToLower(v.at.Format("Mon")) },
	"timestamp":                 func(v *layoutVars) string { return strconv.FormatInt(v.at.Unix(), 10) },
	"timestamp_ms":              func(v *layoutVars) string { return strconv.FormatInt(v.at.UnixMilli(), 10) },
	"load_package_timestamp":    func(v *layoutVars) string { return strconv.FormatInt(v.at.Unix(), 10) },
	"load_package_timestamp_ms": func(v *layoutVars) string { return strconv.FormatInt(v.at.UnixMilli(), 10) },
	"YYYY":                      func(v *layoutVars) string { return v.at.Format("2006") },
	"YY":                        func(v *layoutVars) string { return v.at.Format("06") },
	"MM":                        func(v *layoutVars) string { return v.at.Format("01") },
	"M":                         func(v *layoutVars) string { return v.at.Format("1") },
	"DD":                        func(v *layoutVars) string { return v.at.Format("02") },
	"D":                         func(v *layoutVars) string { return v.at.Format("2") },
	"HH":                        func(v *layoutVars) string { return v.at.Format("15") },
	"H":                         func(v *layoutVars) string { return strconv.Itoa(v.at.Hour()) },
	"mm":                        func(v *layoutVars) string { return v.at.Format("04") },
	"m":                         func(v *layoutVars) string { return v.at.Format("4") },
	"Q":                         func(v *layoutVars) string { return strconv.Itoa((int(v.at.Month())-1)/3 + 1) },
	"ddd":                       func(v *layoutVars) string { return v.at.Format("Mon") },
	"dddd":                      func(v *layoutVars) string { return v.at.Format("Monday") },
}

// parseLayout parses s. It must name {table_name} and {file_id} (each
// file's own id), so that no two files share a key, and it must stay
// inside the dataset's folder.
func parseLayout(s string) (layout, error) {
	var l layout
	rest := s
	seen := map[string]bool{}
	for rest != "" {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			l.parts = append(l.parts, layoutPart{lit: rest})
			break
		}
		if rest[i] == '}' {
			return layout{}, fmt.Errorf("layout %q: unmatched '}'", s)
		}
		if i > 0 {
			l.parts = append(l.parts, layoutPart{lit: rest[:i]})
		}
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return layout{}, fmt.Errorf("layout %q: unclosed '{'", s)
		}
		name := rest[i+1 : i+end]
		if placeholders[name] == nil {
			return layout{}, fmt.Errorf("layout %q: unknown placeholder {%s} (known: {schema_name}, {table_name}, {load_id}, {file_id}, {ext}, {curr_date}, {timestamp}, {timestamp_ms}, {year}, {month}, {day}, {hour}, {minute}, {dow}, {YYYY}, {MM}, {DD}, {HH}, {mm}, {Q}, ...)", s, name)
		}
		seen[name] = true
		l.parts = append(l.parts, layoutPart{name: name})
		rest = rest[i+end+1:]
	}
	for _, need := range []string{"table_name", "file_id"} {
		if !seen[need] {
			return layout{}, fmt.Errorf("layout %q: must contain {%s}", s, need)
		}
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, ".") {
			return layout{}, fmt.Errorf("layout %q: empty, hidden or relative path segment %q", s, seg)
		}
	}
	return l, nil
}

// render is the file's key relative to the dataset's folder.
func (l layout) render(v *layoutVars) string {
	var b strings.Builder
	for _, p := range l.parts {
		if p.name == "" {
			b.WriteString(p.lit)
		} else {
			b.WriteString(placeholders[p.name](v))
		}
	}
	return path.Clean(b.String())
}
