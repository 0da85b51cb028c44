// Package response finds things in decoded JSON API responses.
//
// Documents are what encoding/json produces with UseNumber: nil, bool,
// string, json.Number, []any and map[string]any; Decode parses a response
// body into one, at half encoding/json's cost. Paths are either dlt-style
// dotted paths ("data.items", "cursors.next", "entries.0.id") or RFC 9535
// JSONPath expressions ("$.data[*].items"). A dotted path that uses brackets
// or wildcards is read as JSONPath with "$." in front, as dlt (jsonpath-ng)
// does. This package owns that syntax: config checks a data_selector with
// Compile, so check accepts exactly what Select runs. Compiled JSONPaths are cached; everything here is safe for concurrent
// use.
package response
