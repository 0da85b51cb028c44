package kind_test

import (
	"os"
	"strings"
	"testing"

	"github.com/restload/restload/internal/auth"
	"github.com/restload/restload/internal/paginate"
)

// TestREADMETables: the README's Auth and Paginators tables are the
// registries' DocTable, so a kind's docs row lives in its declaration.
func TestREADMETables(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, table := range map[string]string{"Auth": auth.DocTable(), "Paginators": paginate.DocTable()} {
		if !strings.Contains(string(readme), table) {
			t.Errorf("README's %s table differs from the kinds' Doc; want:\n%s", name, table)
		}
	}
}
