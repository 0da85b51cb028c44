package spool

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/schema"
)

// TestCorruptPackageSchema: a schema.json damaged on disk is an error that
// names the package, not a schema with holes (a null table, a column
// without a name or with an unknown type) for the load to trip over.
func TestCorruptPackageSchema(t *testing.T) {
	for name, c := range map[string]struct{ body, want string }{
		"not json":     {`{"tables": [`, "unexpected end of JSON input"},
		"null table":   {`{"name": "d", "tables": [null]}`, `table 0 has no name`},
		"null column":  {`{"name": "d", "tables": [{"name": "t", "columns": [null]}]}`, `column 0 has no name`},
		"unknown type": {`{"name": "d", "tables": [{"name": "t", "columns": [{"name": "c", "data_type": "wei"}]}]}`, `column "c"`},
		"orphan child": {`{"name": "d", "tables": [{"name": "t__x", "parent": "t"}]}`, `parent "t" is missing`},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := Create(t.TempDir(), Manifest{LoadID: "1.2"})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Seal(p.Manifest, &schema.Schema{Name: "d"}); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(p.Dir, "schema.json"), []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := p.Schema()
			if err == nil || !strings.Contains(err.Error(), "package 1.2: corrupt schema.json") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Schema() = %v, %v; want an error naming package 1.2 and %q", s, err, c.want)
			}
		})
	}
}
