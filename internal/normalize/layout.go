package normalize

import "github.com/restload/restload/internal/schema"

// Layout is the one owner of the column layout of a set of tables in a
// run: the schema they grow, the names given in it and which tables the
// run created. Normalizers made from one Layout (Layout.New) agree on
// every table's columns, their positions, names and types, so several
// resources with the same table_name put each value in its column
// whichever writes first. A Layout and its Normalizers are not safe for
// concurrent use: the caller serializes the calls of all of them.
type Layout struct {
	s     *schema.Schema
	namer *schema.Namer
	// created names the tables added in this run: they evolve freely,
	// whichever Normalizer made them (see Normalizer.decide).
	created map[string]bool
	// fresh holds the columns added since the last Snapshot: nothing of
	// them reached a destination, so a key column among them may still
	// become text (see Normalizer.keyValue) and one may still be renamed
	// (see Normalizer.steal).
	fresh map[*schema.Column]bool
	// gen counts renames: a tableState made at another gen rereads its
	// table's names (see tableState.refresh).
	gen int
}

// NewLayout returns the Layout of s, which it grows in place; the names
// of s's tables and columns stay theirs (see schema.Namer.Seed).
func NewLayout(s *schema.Schema) *Layout {
	l := &Layout{s: s, namer: schema.NewNamer(), created: map[string]bool{}, fresh: map[*schema.Column]bool{}}
	l.namer.Seed(s)
	return l
}

// Snapshot returns a copy of the layout's schema to load rows written so
// far with. The columns it holds keep their types from then on.
func (l *Layout) Snapshot() *schema.Schema {
	clear(l.fresh)
	return l.s.Clone()
}
