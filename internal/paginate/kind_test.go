package paginate

import (
	"slices"
	"testing"
)

// TestKindsBuild: every registered kind builds from a minimal block and
// New refuses an unknown type, naming the kinds.
func TestKindsBuild(t *testing.T) {
	want := []string{"single_page", "page_number", "offset", "cursor", "json_link", "header_link", "header_cursor", "auto"}
	if got := Kinds(); !slices.Equal(got, want) {
		t.Errorf("Kinds() = %q, want %q", got, want)
	}
	for _, name := range Kinds() {
		c := &Config{Type: name}
		if k, _ := Lookup(name); slices.Contains(k.Required, "limit") {
			n := 10
			c.Limit = &n
		}
		if p, err := New(c); err != nil || p == nil {
			t.Errorf("New(%s) = %v, %v", name, p, err)
		}
	}
	_, err := New(&Config{Type: "nope"})
	if err == nil || err.Error() != `unknown paginator type "nope" (want single_page, page_number, offset, cursor, json_link, header_link, header_cursor or auto)` {
		t.Errorf("New(nope) error %v", err)
	}
}
