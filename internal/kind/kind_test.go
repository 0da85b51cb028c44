package kind

import (
	"slices"
	"testing"
)

type k struct{ Spec }

func TestRegistry(t *testing.T) {
	r := NewRegistry("widget", func(x k) Spec { return x.Spec })
	r.Register(k{Spec{Name: "b", Rank: 2, Doc: "`y`"}})
	r.Register(k{Spec{Name: "a", Rank: 1, Doc: "none"}})
	r.Register(k{Spec{Name: "c", Rank: 3, Doc: "`z`"}})
	if got := r.Names(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Names() = %q, want by rank", got)
	}
	if x, ok := r.Lookup("b"); !ok || x.Doc != "`y`" {
		t.Errorf("Lookup(b) = %+v, %v", x, ok)
	}
	if _, ok := r.Lookup("d"); ok {
		t.Error("Lookup(d) found a kind")
	}
	if err := r.Unknown("d"); err == nil || err.Error() != `unknown widget type "d" (want a, b or c)` {
		t.Errorf("Unknown(d) = %v", err)
	}
	if got, want := r.DocTable("| h |\n"), "| h |\n| `a` | none |\n| `b` | `y` |\n| `c` | `z` |\n"; got != want {
		t.Errorf("DocTable = %q, want %q", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice did not panic")
		}
	}()
	r.Register(k{Spec{Name: "a"}})
}
