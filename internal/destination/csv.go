package destination

import "strings"

// AppendCSVQuoted appends s as one quoted CSV field, its quotes doubled,
// for the CSV that database bulk readers take (DuckDB's read_csv,
// PostgreSQL's COPY … CSV). Text is always quoted there, so that an empty
// string stays apart from NULL, an unquoted empty field.
func AppendCSVQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}
