package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a pipeline file (or in the secrets file it uses).
// Line and Col are 1-based; they are 0 when the problem has no position (for
// example a secrets file that cannot be read). Path is the dotted field path,
// such as source.resources[2].endpoint.paginator.page_param, or "" when the
// problem concerns the whole file. Msg never contains a secret value.
type Error struct {
	File      string
	Line, Col int
	Path      string
	Msg       string
}

// Error formats the problem as "file:line:col: path: msg", leaving out the
// line when it is 0, the column when it is 0 and the path when it is "".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, "%d:", e.Col)
		}
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a pipeline file, sorted by line and
// column (problems in the secrets file come after those in the pipeline
// file). Load and Parse return an Errors (never an empty one) when the file
// is invalid; use errors.As to get at it.
type Errors []*Error

// Error returns one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the individual problems, so errors.As finds an *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// problems collects errors while a file is decoded and validated.
type problems struct {
	file string
	list []*Error
	// bad holds the paths whose values failed to decode, so validation does
	// not also report them as missing.
	bad map[string]bool
}

func (p *problems) add(pos Pos, path, format string, args ...any) {
	p.list = append(p.list, &Error{File: p.file, Line: pos.Line, Col: pos.Col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// markBad records that the value at path could not be used.
func (p *problems) markBad(path string) {
	if p.bad == nil {
		p.bad = map[string]bool{}
	}
	p.bad[path] = true
}

// minRedact is the shortest secret value scrubbed from messages.
const minRedact = 4

// result sorts and de-duplicates the collected problems and scrubs any secret
// value that slipped into a message. It returns nil when there are none.
func (p *problems) result(secrets []string) error {
	if len(p.list) == 0 {
		return nil
	}
	rank := func(e *Error) int {
		if e.File == p.file {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(p.list, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	out := make(Errors, 0, len(p.list))
	seen := map[string]bool{}
	for _, e := range p.list {
		for _, s := range secrets {
			// Shorter values would mangle ordinary words; messages
			// already avoid quoting values that hold secrets.
			if len(s) >= minRedact {
				e.Msg = strings.ReplaceAll(e.Msg, s, "[redacted]")
			}
		}
		if k := e.Error(); !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}
