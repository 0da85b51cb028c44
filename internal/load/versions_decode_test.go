package load_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/spool"
)

// TestCorruptStoredSchema: a stored schema version whose schema (dlt's
// JSON) does not decode or has holes (a table without a name) is an error
// naming the version, checked as a package's schema.json is (with
// schema.FromJSON), not a schema that fails later.
func TestCorruptStoredSchema(t *testing.T) {
	for name, c := range map[string]struct{ stored, want string }{
		"nameless table": {`{"name": "d", "tables": {"": {"columns": {"c": {"name": "c", "data_type": "text"}}}}}`, "table 0 has no name"},
		"not JSON":       {`{"name": "d", "tables": `, "invalid JSON"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "x.duckdb")
			d := openURL(t, "duckdb:"+path, "ds")
			events := &schema.Table{Name: "events", Resource: "events", WriteDisposition: schema.Append, Columns: cols(schema.ColLoadID, schema.ColID, "n")}
			pkg := makePackage(t, t.TempDir(), "ds", pkgSpec{
				loadID: "1700000000.000001", pipeline: "p",
				resources: []spool.ResourceSummary{{ResourceTarget: spool.ResourceTarget{Name: "events", Table: "events", WriteDisposition: schema.Append}}},
				tables:    []*schema.Table{events},
				rows:      map[string][][]any{"events": {{"1700000000.000001", "a", int64(1)}}},
			})
			if _, err := load.Package(ctx, d, pkg); err != nil {
				t.Fatal(err)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := sql.Open("duckdb", path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(fmt.Sprintf(`UPDATE ds.%s SET schema = ?`, load.VersionsTable), c.stored); err != nil {
				t.Fatal(err)
			}
			db.Close()
			d = openURL(t, "duckdb:"+path, "ds")
			vs, err := load.Versions(ctx, d)
			if err == nil || !strings.Contains(err.Error(), "schema version 2: corrupt schema") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Versions() = %+v, %v; want an error naming version 2 and %q", vs, err, c.want)
			}
		})
	}
}
