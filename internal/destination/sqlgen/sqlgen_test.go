package sqlgen_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/sqlgen"
	"github.com/restload/restload/internal/schema"
)

// Two dialects shaped like DuckDB's and PostgreSQL's; the real ones live in
// their destinations, whose conformance tests run the SQL.
var (
	qualify = &sqlgen.Dialect{
		Quote:      sqlgen.QuoteDouble,
		Types:      map[schema.DataType]string{schema.BigInt: "BIGINT", schema.Text: "VARCHAR"},
		Decimal:    "DECIMAL(%d,%d)",
		TempSchema: "temp.main",
		TextCast:   "CAST(%s AS VARCHAR)",
	}
	onCommitDrop = &sqlgen.Dialect{
		Quote:        sqlgen.QuoteDouble,
		Types:        map[schema.DataType]string{schema.BigInt: "bigint", schema.Text: "text"},
		Decimal:      "numeric(%d,%d)",
		TempSchema:   "pg_temp",
		OnCommitDrop: true,
		IDCollation:  ` COLLATE "C"`,
		TextCast:     "%s::text",
	}
)

func dataset(d *sqlgen.Dialect, schemaName ...string) *sqlgen.Dataset {
	return &sqlgen.Dataset{Dialect: d, Schema: schemaName, Name: "test"}
}

func sqls(stmts []sqlgen.Stmt) []string {
	out := make([]string, len(stmts))
	for i, s := range stmts {
		out[i] = s.Table + "|" + s.Op + "|" + s.SQL
	}
	return out
}

func wantSQL(t *testing.T, got []sqlgen.Stmt, want ...string) {
	t.Helper()
	g := sqls(got)
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("statements:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

func TestApply(t *testing.T) {
	tb := &schema.Table{Name: "users", Columns: []*schema.Column{
		{Name: "id", Type: schema.BigInt}, {Name: `we"ird`, Type: schema.Text}, {Name: "amount", Type: schema.Decimal, Precision: new(10), Scale: new(2)},
	}}
	ds := dataset(qualify, "db", "ds")
	stmts, err := ds.Apply([]schema.Change{
		{Kind: schema.AddTable, Table: tb},
		{Kind: schema.AddColumn, Table: tb, Column: &schema.Column{Name: "price", Type: schema.Decimal}},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantSQL(t, stmts,
		`|create schema|CREATE SCHEMA IF NOT EXISTS "db"."ds"`,
		`users|create table|CREATE TABLE IF NOT EXISTS "db"."ds"."users" ("id" BIGINT, "we""ird" VARCHAR, "amount" DECIMAL(10,2))`,
		`users|add column price|ALTER TABLE "db"."ds"."users" ADD COLUMN IF NOT EXISTS "price" DECIMAL(38,9)`)

	for _, c := range []struct {
		change schema.Change
		want   string
	}{
		{schema.Change{Kind: schema.AddTable}, `test: dataset "ds": apply: add_table change without a table`},
		{schema.Change{Kind: schema.AddColumn, Table: tb}, `test: table "ds"."users": add column: add_column change without a column`},
		{schema.Change{Kind: schema.AddTable, Table: &schema.Table{Name: "x", Columns: []*schema.Column{{Name: "u", Type: "uuid"}}}},
			`test: table "ds"."x": create table: column "u": unknown data type "uuid"`},
		{schema.Change{Kind: "drop_table", Table: tb}, `test: table "ds"."users": apply: unknown change kind "drop_table"`},
	} {
		if _, err := ds.Apply([]schema.Change{c.change}); err == nil || err.Error() != c.want {
			t.Errorf("Apply(%+v): %v, want %q", c.change, err, c.want)
		}
	}
}

func TestSelect(t *testing.T) {
	cols := []sqlgen.ReadColumn{{Name: "v"}, {Name: "j", AsText: true}}
	withID := append([]sqlgen.ReadColumn{{Name: schema.ColID}}, cols...)
	for _, c := range []struct {
		d    *sqlgen.Dialect
		cols []sqlgen.ReadColumn
		want string
	}{
		{qualify, cols, `SELECT "v", CAST("j" AS VARCHAR) FROM "ds"."t" ORDER BY 1, 2`},
		{onCommitDrop, cols, `SELECT "v", "j"::text FROM "ds"."t" ORDER BY 1, 2`},
		{qualify, withID, `SELECT "_dlt_id", "v", CAST("j" AS VARCHAR) FROM "ds"."t" ORDER BY "_dlt_id"`},
		{onCommitDrop, withID, `SELECT "_dlt_id", "v", "j"::text FROM "ds"."t" ORDER BY "_dlt_id" COLLATE "C"`},
	} {
		if got := dataset(c.d, "ds").Select("t", c.cols); got != c.want {
			t.Errorf("Select:\n got %s\nwant %s", got, c.want)
		}
	}
}

func mergeTables() (root, child *schema.Table) {
	root = &schema.Table{Name: "o", Columns: []*schema.Column{{Name: schema.ColID, Type: schema.Text}, {Name: "id", Type: schema.BigInt, PrimaryKey: true}}}
	child = &schema.Table{Name: "o__i", Parent: "o", Columns: []*schema.Column{{Name: schema.ColID, Type: schema.Text}, {Name: schema.ColRootID, Type: schema.Text}}}
	return root, child
}

func TestStage(t *testing.T) {
	root, _ := mergeTables()
	for _, c := range []struct {
		d     *sqlgen.Dialect
		stage []string
	}{
		{qualify, []string{`o|stage|CREATE OR REPLACE TEMP TABLE "o" ("_dlt_id" VARCHAR, "id" BIGINT)`}},
		{onCommitDrop, []string{`o|stage|DROP TABLE IF EXISTS pg_temp."o"`, `o|stage|CREATE TEMP TABLE "o" ("_dlt_id" text, "id" bigint) ON COMMIT DROP`}},
	} {
		st := dataset(c.d, "ds").NewStaging()
		stmts, err := st.Stage(root)
		if err != nil {
			t.Fatal(err)
		}
		wantSQL(t, stmts, c.stage...)
		// Staging again adds only the new column.
		wider := root.Clone()
		wider.Columns = append(wider.Columns, &schema.Column{Name: "n", Type: schema.BigInt})
		stmts, err = st.Stage(wider)
		if err != nil {
			t.Fatal(err)
		}
		wantSQL(t, stmts, fmt.Sprintf(`o|stage|ALTER TABLE %s."o" ADD COLUMN "n" %s`, c.d.TempSchema, c.d.Types[schema.BigInt]))
		wantSQL(t, st.DropAll(), fmt.Sprintf(`o|drop staging|DROP TABLE IF EXISTS %s."o"`, c.d.TempSchema))
		if left := st.DropAll(); len(left) != 0 {
			t.Errorf("second DropAll = %v, want nothing left", sqls(left))
		}
	}
}

func TestMergeEdgeCases(t *testing.T) {
	root, child := mergeTables()
	ds := dataset(qualify, "ds")

	// Nothing staged for root: nothing to do.
	st := ds.NewStaging()
	stmts, err := st.MergeDirect(root, []*schema.Table{child})
	if err != nil || len(stmts) != 0 {
		t.Errorf("MergeDirect with nothing staged = %v, %v; want nothing", sqls(stmts), err)
	}

	// A root without a primary key: its rows were appended; the staging goes.
	plain := &schema.Table{Name: "p", Columns: []*schema.Column{{Name: "v", Type: schema.Text}}}
	st.Stage(plain)
	stmts, err = st.MergeDirect(plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantSQL(t, stmts, `p|drop staging|DROP TABLE IF EXISTS temp.main."p"`)

	// A child without _dlt_root_id cannot follow its root.
	st.PrepareWrite(root, destination.ModeStage)
	orphan := &schema.Table{Name: "o__x", Columns: []*schema.Column{{Name: schema.ColID, Type: schema.Text}}}
	if _, err := st.MergeDirect(root, []*schema.Table{orphan}); err == nil || err.Error() != `test: table "ds"."o__x": merge: child table lacks the _dlt_root_id column` {
		t.Errorf("MergeDirect with a child without _dlt_root_id: %v", err)
	}

	// DropAll drops what was never merged, in name order, once.
	st.Stage(child)
	wantSQL(t, st.DropAll(), `o|drop staging|DROP TABLE IF EXISTS temp.main."o"`, `o__i|drop staging|DROP TABLE IF EXISTS temp.main."o__i"`)
	if left := st.DropAll(); len(left) != 0 {
		t.Errorf("second DropAll = %v", sqls(left))
	}
	if _, err := st.Stage(&schema.Table{Name: "u", Columns: []*schema.Column{{Name: "u", Type: "uuid"}}}); err == nil || !strings.Contains(err.Error(), `test: table "ds"."u": stage: column "u": unknown data type "uuid"`) {
		t.Errorf("Stage with an unknown type: %v", err)
	}
}

func TestPrepare(t *testing.T) {
	tb := &schema.Table{Name: "t", Columns: []*schema.Column{{Name: "v", Type: schema.Text}}}
	for _, c := range []struct {
		mode destination.Mode
		want []string
		err  string
	}{
		{destination.ModeAppend, nil, ""},
		{destination.ModeStage, nil, ""}, // rows go into the table; keys via PrepareWrite
		{destination.ModeReplace, []string{`t|replace|DELETE FROM "ds"."t"`}, ""},
		{destination.Mode(9), nil, `test: table "ds"."t": write: unknown write mode 9`},
	} {
		stmts, err := dataset(qualify, "ds").NewStaging().Prepare(tb, c.mode)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("mode %d: %v, want %q", c.mode, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("mode %d: %v", c.mode, err)
		}
		wantSQL(t, stmts, c.want...)
	}
}

func TestMergeDirect(t *testing.T) {
	root, child := mergeTables()
	keys, err := sqlgen.KeyColumns(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Name != "id" || keys[1].Name != schema.ColID {
		t.Fatalf("KeyColumns = %v, want id, _dlt_id", keys)
	}
	for _, c := range []struct {
		d    *sqlgen.Dialect
		want []string
	}{
		{qualify, []string{
			`o|stage|CREATE OR REPLACE TEMP TABLE "o" ("id" BIGINT, "_dlt_id" VARCHAR)`,
			`o|merge|CREATE OR REPLACE TEMP TABLE "_restload_losers" AS SELECT t."_dlt_id" FROM "ds"."o" t JOIN (SELECT "id", max("_dlt_id") AS "_restload_winner" FROM temp.main."o" GROUP BY "id") w ON w."id" = t."id" WHERE t."_dlt_id" <> w."_restload_winner"`,
			`o|merge|DELETE FROM "ds"."o__i" WHERE "_dlt_root_id" IN (SELECT "_dlt_id" FROM temp.main."_restload_losers")`,
			`o|merge|DELETE FROM "ds"."o" WHERE "_dlt_id" IN (SELECT "_dlt_id" FROM temp.main."_restload_losers")`,
			`o|merge|DROP TABLE temp.main."_restload_losers"`,
			`o|drop staging|DROP TABLE IF EXISTS temp.main."o"`,
		}},
		{onCommitDrop, []string{
			`o|stage|DROP TABLE IF EXISTS pg_temp."o"`,
			`o|stage|CREATE TEMP TABLE "o" ("id" bigint, "_dlt_id" text) ON COMMIT DROP`,
			`o|merge|DROP TABLE IF EXISTS pg_temp."_restload_losers"`,
			`o|merge|CREATE TEMP TABLE "_restload_losers" ON COMMIT DROP AS SELECT t."_dlt_id" FROM "ds"."o" t JOIN (SELECT "id", max("_dlt_id" COLLATE "C") AS "_restload_winner" FROM pg_temp."o" GROUP BY "id") w ON w."id" = t."id" WHERE t."_dlt_id" COLLATE "C" <> w."_restload_winner"`,
			`o|merge|DELETE FROM "ds"."o__i" WHERE "_dlt_root_id" IN (SELECT "_dlt_id" FROM pg_temp."_restload_losers")`,
			`o|merge|DELETE FROM "ds"."o" WHERE "_dlt_id" IN (SELECT "_dlt_id" FROM pg_temp."_restload_losers")`,
			`o|merge|DROP TABLE pg_temp."_restload_losers"`,
			`o|drop staging|DROP TABLE IF EXISTS pg_temp."o"`,
		}},
	} {
		st := dataset(c.d, "ds").NewStaging()
		stage, staged, err := st.PrepareWrite(root, destination.ModeStage)
		if err != nil {
			t.Fatal(err)
		}
		if staged == nil || staged.Table != "o" || !reflect.DeepEqual(staged.Index, []int{1, 0}) {
			t.Fatalf("PrepareWrite keys = %+v, want table o, id and _dlt_id at 1 and 0", staged)
		}
		merge, err := st.MergeDirect(root, []*schema.Table{child})
		if err != nil {
			t.Fatal(err)
		}
		wantSQL(t, append(stage, merge...), c.want...)
		// Merging again, or with nothing staged, does nothing.
		if again, err := st.MergeDirect(root, []*schema.Table{child}); err != nil || len(again) != 0 {
			t.Errorf("second MergeDirect = %v, %v; want nothing", sqls(again), err)
		}
	}
	if _, err := sqlgen.KeyColumns(&schema.Table{Name: "o", Columns: []*schema.Column{{Name: "id", PrimaryKey: true}}}); err == nil {
		t.Error("KeyColumns of a keyed table without _dlt_id: no error")
	}
	if k, err := sqlgen.KeyColumns(child); k != nil || err != nil {
		t.Errorf("KeyColumns of a table without a key = %v, %v; want nil, nil", k, err)
	}
}

// TestApplyConstraints: a dialect with NotNull and Unique writes them as
// dlt does when a table is created (NOT NULL on columns that are not
// nullable, UNIQUE on _dlt_id, a deferred UNIQUE on other unique columns),
// never on a column added later nor on a staging table; Hinted types win.
func TestApplyConstraints(t *testing.T) {
	d := *onCommitDrop
	d.NotNull, d.Unique, d.UniqueDeferred = true, "UNIQUE", "UNIQUE DEFERRABLE INITIALLY DEFERRED"
	d.Hinted = func(c *schema.Column) (string, error) {
		if c.Type == schema.BigInt && c.Precision != nil {
			return "smallint", nil
		}
		return "", nil
	}
	tb := &schema.Table{Name: "t", Columns: []*schema.Column{
		{Name: "id", Type: schema.BigInt, PrimaryKey: true},
		{Name: "name", Type: schema.Text, Nullable: true, Unique: true},
		{Name: "port", Type: schema.BigInt, Nullable: true, Precision: new(16)},
		{Name: schema.ColID, Type: schema.Text, System: true, Unique: true},
	}}
	ds := dataset(&d, "ds")
	stmts, err := ds.Apply([]schema.Change{
		{Kind: schema.AddTable, Table: tb},
		{Kind: schema.AddColumn, Table: tb, Column: &schema.Column{Name: "k", Type: schema.Text}},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantSQL(t, stmts,
		`|create schema|CREATE SCHEMA IF NOT EXISTS "ds"`,
		`t|create table|CREATE TABLE IF NOT EXISTS "ds"."t" ("id" bigint NOT NULL, "name" text UNIQUE DEFERRABLE INITIALLY DEFERRED, "port" smallint, "_dlt_id" text UNIQUE NOT NULL)`,
		`t|add column k|ALTER TABLE "ds"."t" ADD COLUMN IF NOT EXISTS "k" text`)
	stage, err := ds.NewStaging().Stage(tb)
	if err != nil {
		t.Fatal(err)
	}
	wantSQL(t, stage,
		`t|stage|DROP TABLE IF EXISTS pg_temp."t"`,
		`t|stage|CREATE TEMP TABLE "t" ("id" bigint, "name" text, "port" smallint, "_dlt_id" text) ON COMMIT DROP`)
}
