// Package kind owns what every registry of config kinds shares (paginator
// kinds in paginate, auth kinds in auth): the declaration header of a kind
// (name, keys, docs row), a registry ordered by rank, and the Problem a
// component reports about a block for config to place at a file position.
//
// A component declares each kind once, in the kind's own file, and
// registers it from an init func; config looks kinds up by name, checks a
// block's keys against Required and Optional, and turns Problems into
// file:line:col errors.
package kind

import (
	"fmt"
	"slices"
	"strings"
)

// Spec is what every kind declares about itself.
type Spec struct {
	// Name is the value of the block's type key.
	Name string
	// Rank orders kinds in messages and in the docs table.
	Rank int
	// Required and Optional are the yaml keys the kind takes besides type.
	Required, Optional []string
	// Doc is the kind's row in the README's table, after the type column.
	Doc string
	// Label follows the name in the type column (say "**(restload)**" for
	// a kind dlt lacks); usually empty.
	Label string
}

// Problem is one thing wrong with a block. Key is the key it concerns
// ("" for the block as a whole). When Want is set, the value Got of Key is
// not one of Want, and config words it as an unknown What with a "did you
// mean"; otherwise Msg says what is wrong.
type Problem struct {
	Key  string
	Msg  string
	What string
	Got  string
	Want []string
}

// Registry holds the kinds of one component. Register is called from init
// funcs only; after init a Registry is read-only and safe for concurrent use.
type Registry[K any] struct {
	what  string
	spec  func(K) Spec
	kinds map[string]K
}

// NewRegistry returns an empty registry of what ("paginator", "auth")
// kinds, whose Spec spec returns.
func NewRegistry[K any](what string, spec func(K) Spec) *Registry[K] {
	return &Registry[K]{what: what, spec: spec, kinds: map[string]K{}}
}

// Register adds k; a name registered twice is a programming error.
func (r *Registry[K]) Register(k K) {
	name := r.spec(k).Name
	if _, dup := r.kinds[name]; dup {
		panic(r.what + " kind " + name + " registered twice")
	}
	r.kinds[name] = k
}

// Lookup returns the kind named name.
func (r *Registry[K]) Lookup(name string) (K, bool) {
	k, ok := r.kinds[name]
	return k, ok
}

// Names returns every kind's name, by rank.
func (r *Registry[K]) Names() []string {
	specs := make([]Spec, 0, len(r.kinds))
	for _, k := range r.kinds {
		specs = append(specs, r.spec(k))
	}
	slices.SortFunc(specs, func(a, b Spec) int { return a.Rank - b.Rank })
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return names
}

// Unknown is the error for a type no kind has: "unknown <what> type "x"
// (want a, b or c)".
func (r *Registry[K]) Unknown(typ string) error {
	names := r.Names()
	return fmt.Errorf("unknown %s type %q (want %s or %s)", r.what, typ,
		strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
}

// DocTable returns the README table of the kinds: header, then one row
// per kind by rank.
func (r *Registry[K]) DocTable(header string) string {
	var b strings.Builder
	b.WriteString(header)
	for _, name := range r.Names() {
		s := r.spec(r.kinds[name])
		col := "`" + name + "`"
		if s.Label != "" {
			col += " " + s.Label
		}
		fmt.Fprintf(&b, "| %s | %s |\n", col, s.Doc)
	}
	return b.String()
}
