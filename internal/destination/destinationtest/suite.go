package destinationtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// Caps lists what a destination can do; a false field opts out of the cases
// that need it, and the suite checks the destination refuses cleanly.
type Caps struct {
	// Merge is true when Tx.Merge works. When false, the suite checks that
	// Merge returns an error wrapping destination.ErrUnsupported.
	Merge bool
	// IsolatedRead is true when Read, called while a Tx is open on the same
	// Destination, sees only committed rows. The replace case then checks
	// that readers see the old rows until Commit.
	IsolatedRead bool
	// MergeHints is true when Tx.Merge honors the merge hints of
	// schema.MergeSpec (dedup_sort, hard_delete). When false, the suite
	// checks that Merge with a hint fails with destination.ErrUnsupported
	// rather than merging as if it had none.
	MergeHints bool
}

// Opener opens a Destination for dataset. It registers any cleanup (closing
// the destination, dropping the dataset) with t.
type Opener func(t *testing.T, dataset string) destination.Destination

// Run runs the conformance suite: one subtest per behaviour of the
// destination contract. Each subtest opens its own dataset.
func Run(t *testing.T, open Opener, caps Caps) {
	cases := []struct {
		name string
		run  func(t *testing.T, d destination.Destination)
		skip bool
	}{
		{"types_round_trip", testTypes, false},
		{"text_round_trip", testText, false},
		{"evolve_and_short_rows", testEvolve, false},
		{"append_twice", testAppendTwice, false},
		{"replace", func(t *testing.T, d destination.Destination) { testReplace(t, d, caps) }, false},
		{"merge_with_children", testMerge, !caps.Merge},
		{"merge_composite_key", testMergeComposite, !caps.Merge},
		{"merge_awkward_keys", testMergeAwkwardKeys, !caps.Merge},
		{"merge_into_new_table", func(t *testing.T, d destination.Destination) { testMergeIntoNewTable(t, d, caps) }, !caps.Merge},
		{"merge_unsupported", testMergeUnsupported, caps.Merge},
		{"rollback", testRollback, false},
		{"missing_table", testMissingTable, false},
		{"bad_value_error", testBadValue, false},
		{"source_error", testSourceError, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.skip {
				t.Skip("not applicable to this destination's capabilities")
			}
			c.run(t, open(t, Dataset(t)))
		})
	}
}

func col(name string, typ schema.DataType) *schema.Column {
	return &schema.Column{Name: name, Type: typ, Nullable: true, System: strings.HasPrefix(name, "_dlt_")}
}

func pk(c *schema.Column) *schema.Column {
	c.PrimaryKey = true
	c.Nullable = false
	return c
}

func table(name, parent, disposition string, cols ...*schema.Column) *schema.Table {
	return &schema.Table{Name: name, Parent: parent, Resource: name, WriteDisposition: disposition, Columns: cols}
}

// load runs one transaction: apply changes, then fn, then commit.
func load(t *testing.T, d destination.Destination, changes []schema.Change, fn func(ctx context.Context, tx destination.Tx)) {
	t.Helper()
	ctx := context.Background()
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	defer tx.Rollback(ctx)
	if len(changes) > 0 {
		if err := tx.Apply(ctx, changes); err != nil {
			t.Fatalf("Apply: %v", err)
		}
	}
	if fn != nil {
		fn(ctx, tx)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func write(t *testing.T, ctx context.Context, tx destination.Tx, tb *schema.Table, mode destination.Mode, rows ...[]any) {
	t.Helper()
	n, err := tx.Write(ctx, tb, mode, NewRows(rows...))
	if err != nil {
		t.Fatalf("Write %s (mode %d): %v", tb.Name, mode, err)
	}
	if n != int64(len(rows)) {
		t.Fatalf("Write %s returned %d rows, want %d", tb.Name, n, len(rows))
	}
}

func addTables(tables ...*schema.Table) []schema.Change {
	var out []schema.Change
	for _, tb := range tables {
		out = append(out, schema.Change{Kind: schema.AddTable, Table: tb})
	}
	return out
}

// ReadAll reads table into memory, failing t on error.
func ReadAll(t testing.TB, d destination.Destination, table string) []map[string]any {
	t.Helper()
	var out []map[string]any
	err := d.Read(context.Background(), table, func(row map[string]any) error {
		out = append(out, row)
		return nil
	})
	if err != nil {
		t.Fatalf("Read %s: %v", table, err)
	}
	return out
}

// column returns the values of one column of rows, in order.
func column(rows []map[string]any, name string) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r[name]
	}
	return out
}

func wantColumn(t *testing.T, rows []map[string]any, name string, want ...any) {
	t.Helper()
	if got := column(rows, name); !reflect.DeepEqual(got, want) {
		t.Errorf("column %s = %#v, want %#v", name, got, want)
	}
}

func typedTable() *schema.Table {
	dec := col("amount", schema.Decimal)
	small := col("price", schema.Decimal)
	small.Precision, small.Scale = new(10), new(2)
	return table("typed", "", schema.Append,
		col(schema.ColLoadID, schema.Text), col(schema.ColID, schema.Text),
		col("count", schema.BigInt), col("ratio", schema.Double), dec, small,
		col("active", schema.Bool), col("title", schema.Text), col("created_at", schema.Timestamp),
		col("day", schema.Date), col("meta", schema.JSON))
}

func testTypes(t *testing.T, d destination.Destination) {
	tb := typedTable()
	zone := time.FixedZone("IST", 5*3600+30*60)
	ts := time.Date(2024, 2, 29, 23, 59, 58, 123456000, zone)
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	unicode := "héllo wörld — 日本語 🚀 \"quoted\" 'single' \\ back,\nnew line\r\nand CRLF"
	meta := `{"a":[1,2.5,{"b":null}],"c":"ü","d":true}`
	load(t, d, addTables(tb), func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, tb, destination.ModeAppend,
			[]any{"L1", "id1", int64(math.MaxInt64), 3.25, "12345678901234567890.123456789", "-0.50", true, unicode, ts, day, meta},
			[]any{"L1", "id2", int64(-7), -1e-300, "0", "99999999.99", false, "", ts.UTC(), day.AddDate(0, 0, 1), `[]`},
			[]any{"L1", "id3", nil, nil, nil, nil, nil, nil, nil, nil, nil},
		)
	})
	rows := ReadAll(t, d, "typed")
	if len(rows) != 3 {
		t.Fatalf("read %d rows, want 3: %v", len(rows), rows)
	}
	for _, r := range rows {
		if len(r) != len(tb.Columns) {
			t.Errorf("row has %d columns, want %d: %v", len(r), len(tb.Columns), r)
		}
	}
	wantColumn(t, rows, schema.ColID, "id1", "id2", "id3")
	wantColumn(t, rows, "count", int64(math.MaxInt64), int64(-7), nil)
	wantColumn(t, rows, "ratio", 3.25, -1e-300, nil)
	wantColumn(t, rows, "active", true, false, nil)
	wantColumn(t, rows, "title", unicode, "", nil)
	wantDecimal(t, "amount", rows, "12345678901234567890.123456789", "0")
	wantDecimal(t, "price", rows, "-0.50", "99999999.99")
	for i, want := range []time.Time{ts, ts} {
		got, ok := rows[i]["created_at"].(time.Time)
		if !ok || !got.Equal(want) {
			t.Errorf("row %d created_at = %#v, want the instant %v", i, rows[i]["created_at"], want)
		}
	}
	for i, want := range []string{"2024-02-29", "2024-03-01"} {
		got, ok := rows[i]["day"].(time.Time)
		if !ok || got.Format(time.DateOnly) != want {
			t.Errorf("row %d day = %#v, want %s", i, rows[i]["day"], want)
		}
	}
	for i, want := range []string{meta, `[]`} {
		wantJSON(t, fmt.Sprintf("row %d meta", i), rows[i]["meta"], want)
	}
	for _, c := range []string{"created_at", "day", "meta", "amount", "price"} {
		if rows[2][c] != nil {
			t.Errorf("row 3 %s = %#v, want nil", c, rows[2][c])
		}
	}
}

// awkwardText are text values a bulk loader might take for something else
// (NULL, a number, a comment, an escape, the end of COPY data) or trim.
var awkwardText = []string{"", " ", " lead", "trail ", "\ttab\t", "NULL", "null", `\N`, `\.`, "-", "0", "1e5",
	"true", "#hash", "'single'", `"`, `""`, "a,b", "a\nb", "a\r\nb", "\r", "a b", "日本語", "ü"}

// testText writes each of awkwardText, and a NULL, to a text column and
// reads back exactly what was written.
func testText(t *testing.T, d destination.Destination) {
	tb := table("texts", "", schema.Append, col(schema.ColID, schema.Text), col("v", schema.Text))
	rows := make([][]any, 0, len(awkwardText)+1)
	want := make([]any, 0, len(awkwardText)+1)
	for i, v := range awkwardText {
		rows = append(rows, []any{fmt.Sprintf("t%02d", i), v})
		want = append(want, v)
	}
	rows = append(rows, []any{"t99", nil})
	want = append(want, nil)
	load(t, d, addTables(tb), func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, tb, destination.ModeAppend, rows...)
	})
	wantColumn(t, ReadAll(t, d, "texts"), "v", want...)
}

func wantDecimal(t *testing.T, name string, rows []map[string]any, want ...string) {
	t.Helper()
	for i, w := range want {
		s, ok := rows[i][name].(string)
		if !ok {
			t.Errorf("row %d %s = %#v, want a decimal string", i, name, rows[i][name])
			continue
		}
		got, ok1 := new(big.Rat).SetString(s)
		exp, _ := new(big.Rat).SetString(w)
		if !ok1 || got.Cmp(exp) != 0 {
			t.Errorf("row %d %s = %q, want %s", i, name, s, w)
		}
	}
}

func wantJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	s, ok := got.(string)
	if !ok {
		t.Errorf("%s = %#v, want JSON text", what, got)
		return
	}
	var g, w any
	if err := json.Unmarshal([]byte(s), &g); err != nil {
		t.Errorf("%s = %q: not JSON: %v", what, s, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, s, want)
	}
}

func testEvolve(t *testing.T, d destination.Destination) {
	tb := table("people", "", schema.Append, col(schema.ColID, schema.Text), col("name", schema.Text))
	load(t, d, addTables(tb), func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, tb, destination.ModeAppend, []any{"a", "Ann"}, []any{"b", "Bob"})
	})
	evolved := tb.Clone()
	age := col("age", schema.BigInt)
	seen := col("seen_at", schema.Timestamp)
	evolved.Columns = append(evolved.Columns, age, seen)
	changes := []schema.Change{
		{Kind: schema.AddColumn, Table: evolved, Column: age},
		{Kind: schema.AddColumn, Table: evolved, Column: seen},
	}
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	load(t, d, changes, func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, evolved, destination.ModeAppend,
			[]any{"c", "Cid", int64(41), at},
			[]any{"d", "Dee"},            // short: age and seen_at padded with nil
			[]any{"e", "Eve", int64(30)}, // short: seen_at padded with nil
		)
	})
	rows := ReadAll(t, d, "people")
	wantColumn(t, rows, schema.ColID, "a", "b", "c", "d", "e")
	wantColumn(t, rows, "name", "Ann", "Bob", "Cid", "Dee", "Eve")
	wantColumn(t, rows, "age", nil, nil, int64(41), nil, int64(30))
	for i, r := range rows {
		if _, ok := r["seen_at"]; !ok {
			t.Errorf("row %d lacks the added column seen_at: %v", i, r)
		}
	}
	if got, ok := rows[2]["seen_at"].(time.Time); !ok || !got.Equal(at) {
		t.Errorf("seen_at = %#v, want %v", rows[2]["seen_at"], at)
	}
}

func testAppendTwice(t *testing.T, d destination.Destination) {
	tb := table("events", "", schema.Append, col(schema.ColID, schema.Text), col("n", schema.BigInt))
	load(t, d, addTables(tb), func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, tb, destination.ModeAppend, []any{"1", int64(1)}, []any{"2", int64(2)})
	})
	load(t, d, nil, func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, tb, destination.ModeAppend, []any{"3", int64(3)})
		write(t, ctx, tx, tb, destination.ModeAppend, []any{"4", int64(4)})
	})
	rows := ReadAll(t, d, "events")
	wantColumn(t, rows, "n", int64(1), int64(2), int64(3), int64(4))
	if n, err := destination.Count(context.Background(), d, "events"); err != nil || n != 4 {
		t.Errorf("Count(events) = %d, %v; want 4", n, err)
	}
}

func testReplace(t *testing.T, d destination.Destination, caps Caps) {
	tb := table("snapshot", "", schema.Replace, col(schema.ColID, schema.Text), col("v", schema.Text))
	load(t, d, addTables(tb), func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, tb, destination.ModeReplace, []any{"1", "old1"}, []any{"2", "old2"})
	})
	load(t, d, nil, func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, tb, destination.ModeReplace, []any{"3", "new3"})
		if caps.IsolatedRead {
			rows := ReadAll(t, d, "snapshot")
			wantColumn(t, rows, "v", "old1", "old2")
		}
	})
	wantColumn(t, ReadAll(t, d, "snapshot"), "v", "new3")

	// Replacing with no rows empties the table.
	load(t, d, nil, func(ctx context.Context, tx destination.Tx) {
		if _, err := tx.Write(ctx, tb, destination.ModeReplace, NewRows()); err != nil {
			t.Fatalf("Write empty replace: %v", err)
		}
	})
	if rows := ReadAll(t, d, "snapshot"); len(rows) != 0 {
		t.Errorf("after replacing with no rows: %v, want none", rows)
	}
}

func mergeTables() (root, items, tags *schema.Table) {
	root = table("orders", "", schema.Merge,
		col(schema.ColLoadID, schema.Text), col(schema.ColID, schema.Text), pk(col("id", schema.BigInt)), col("status", schema.Text))
	items = table("orders__items", "orders", schema.Merge,
		col(schema.ColID, schema.Text), col(schema.ColParentID, schema.Text), col(schema.ColRootID, schema.Text),
		col(schema.ColListIdx, schema.BigInt), col("sku", schema.Text))
	tags = table("orders__items__tags", "orders__items", schema.Merge,
		col(schema.ColID, schema.Text), col(schema.ColParentID, schema.Text), col(schema.ColRootID, schema.Text),
		col(schema.ColListIdx, schema.BigInt), col(schema.ColValue, schema.Text))
	return root, items, tags
}

func testMerge(t *testing.T, d destination.Destination) {
	root, items, tags := mergeTables()
	children := []*schema.Table{items, tags}
	load(t, d, addTables(root, items, tags), func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, root, destination.ModeStage,
			[]any{"L1", "r1", int64(1), "new"}, []any{"L1", "r2", int64(2), "new"})
		write(t, ctx, tx, items, destination.ModeStage,
			[]any{"i1", "r1", "r1", int64(0), "apple"}, []any{"i2", "r1", "r1", int64(1), "pear"},
			[]any{"i3", "r2", "r2", int64(0), "plum"})
		write(t, ctx, tx, tags, destination.ModeStage, []any{"t1", "i1", "r1", int64(0), "red"})
		if err := tx.Merge(ctx, root, children); err != nil {
			t.Fatalf("Merge: %v", err)
		}
	})
	wantColumn(t, ReadAll(t, d, "orders"), "status", "new", "new")
	wantColumn(t, ReadAll(t, d, "orders__items"), "sku", "apple", "pear", "plum")

	// Second load: order 1 arrives twice (the greatest _dlt_id, compared
	// byte-wise, wins: "s2a" > "s2B", though a linguistic collation would
	// say otherwise), order 3 is new, order 2 untouched.
	// Children are staged in two batches.
	load(t, d, nil, func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, root, destination.ModeStage,
			[]any{"L2", "s2B", int64(1), "loser"}, []any{"L2", "s2a", int64(1), "shipped"})
		write(t, ctx, tx, root, destination.ModeStage, []any{"L2", "s3", int64(3), "new"})
		write(t, ctx, tx, items, destination.ModeStage,
			[]any{"j1", "s2B", "s2B", int64(0), "lost"}, []any{"j2", "s2a", "s2a", int64(0), "kept"})
		write(t, ctx, tx, items, destination.ModeStage, []any{"j3", "s3", "s3", int64(0), "fig"})
		write(t, ctx, tx, tags, destination.ModeStage,
			[]any{"u1", "j1", "s2B", int64(0), "lost-tag"}, []any{"u2", "j2", "s2a", int64(0), "blue"})
		if err := tx.Merge(ctx, root, children); err != nil {
			t.Fatalf("Merge: %v", err)
		}
	})
	orders := ReadAll(t, d, "orders")
	byID := map[int64]map[string]any{}
	for _, r := range orders {
		id, _ := r["id"].(int64)
		if byID[id] != nil {
			t.Errorf("order %d appears twice: %v", id, orders)
		}
		byID[id] = r
	}
	for id, want := range map[int64][2]string{1: {"s2a", "shipped"}, 2: {"r2", "new"}, 3: {"s3", "new"}} {
		r := byID[id]
		if r == nil || r[schema.ColID] != want[0] || r["status"] != want[1] {
			t.Errorf("order %d = %v, want _dlt_id %s status %s", id, r, want[0], want[1])
		}
	}
	if len(orders) != 3 {
		t.Errorf("orders = %v, want 3 rows", orders)
	}
	wantColumn(t, ReadAll(t, d, "orders__items"), "sku", "plum", "kept", "fig")
	wantColumn(t, ReadAll(t, d, "orders__items__tags"), schema.ColValue, "blue")

	// A load that stages root rows only still removes the replaced roots'
	// children, and staging is empty afterwards (merging again is a no-op).
	load(t, d, nil, func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, root, destination.ModeStage, []any{"L3", "s4", int64(3), "cancelled"})
		if err := tx.Merge(ctx, root, children); err != nil {
			t.Fatalf("Merge: %v", err)
		}
		if err := tx.Merge(ctx, root, children); err != nil {
			t.Fatalf("second Merge in one load: %v", err)
		}
	})
	wantColumn(t, ReadAll(t, d, "orders"), "status", "new", "shipped", "cancelled")
	wantColumn(t, ReadAll(t, d, "orders__items"), "sku", "plum", "kept")
}

// testMergeIntoNewTable: a merge into a table its own load created (which
// a destination may finish from the staged keys alone, the table holding
// nothing else: sqlgen.Staging.Created) keeps one row per key, the last
// staged, in every shape a load takes: duplicate keys in one write, a
// resource merged in two parts in one transaction (the second part's keys
// meet the first part's winners), rows appended to the table before the
// merge in the same transaction, a dedup_sort hint; and a later load
// merges into the table it left.
func testMergeIntoNewTable(t *testing.T, d destination.Destination, caps Caps) {
	type step struct {
		mode  destination.Mode
		rows  [][]any
		merge bool // after this write
	}
	row := func(id int, v string, n int, dltID string) []any { return []any{dltID, int64(id), v, int64(n)} }
	cases := []struct {
		name  string
		sort  bool
		loads [][]step
		want  []string // id=v, by id
	}{
		{"duplicate keys in one write", false, [][]step{{
			{destination.ModeStage, [][]any{row(1, "a", 0, "d1"), row(1, "b", 0, "d2"), row(2, "c", 0, "d3")}, true},
		}}, []string{"1=b", "2=c"}},
		{"two parts in one load", false, [][]step{{
			{destination.ModeStage, [][]any{row(1, "a", 0, "d1"), row(2, "b", 0, "d2")}, true},
			{destination.ModeStage, [][]any{row(1, "c", 0, "d3")}, true},
		}}, []string{"1=c", "2=b"}},
		{"appended before the merge", false, [][]step{{
			{destination.ModeAppend, [][]any{row(1, "old", 0, "d1")}, false},
			{destination.ModeStage, [][]any{row(1, "new", 0, "d2")}, true},
		}}, []string{"1=new"}},
		{"dedup_sort", true, [][]step{{
			{destination.ModeStage, [][]any{row(1, "low", 1, "d1"), row(1, "high", 9, "d2"), row(1, "mid", 5, "d3")}, true},
		}}, []string{"1=high"}},
		{"then a load into the existing table", false, [][]step{
			{{destination.ModeStage, [][]any{row(1, "a", 0, "d1"), row(2, "b", 0, "d2")}, true}},
			{{destination.ModeStage, [][]any{row(2, "c", 0, "e1"), row(2, "d", 0, "e2"), row(3, "e", 0, "e3")}, true}},
		}, []string{"1=a", "2=d", "3=e"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := table(fmt.Sprintf("fresh%d", i), "", schema.Merge,
				col(schema.ColID, schema.Text), pk(col("id", schema.BigInt)), col("v", schema.Text), col("n", schema.BigInt))
			if c.sort {
				tb.Merge = &schema.MergeSpec{DedupSort: "n", DedupDesc: true}
				if !caps.MergeHints {
					// Refused, not merged as if there were no hint.
					ctx := context.Background()
					tx, err := d.Begin(ctx)
					if err != nil {
						t.Fatal(err)
					}
					defer tx.Rollback(ctx)
					if err := tx.Apply(ctx, addTables(tb)); err != nil {
						t.Fatal(err)
					}
					write(t, ctx, tx, tb, destination.ModeStage, c.loads[0][0].rows...)
					if err := tx.Merge(ctx, tb, nil); !errors.Is(err, destination.ErrUnsupported) {
						t.Fatalf("Merge with dedup_sort: %v, want an error wrapping destination.ErrUnsupported", err)
					}
					return
				}
			}
			for j, steps := range c.loads {
				var changes []schema.Change
				if j == 0 {
					changes = addTables(tb)
				}
				load(t, d, changes, func(ctx context.Context, tx destination.Tx) {
					for _, s := range steps {
						write(t, ctx, tx, tb, s.mode, s.rows...)
						if s.merge {
							if err := tx.Merge(ctx, tb, nil); err != nil {
								t.Fatalf("Merge: %v", err)
							}
						}
					}
				})
			}
			var got []string
			for _, r := range ReadAll(t, d, tb.Name) {
				got = append(got, fmt.Sprintf("%v=%v", r["id"], r["v"]))
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("rows %q, want %q", got, c.want)
			}
		})
	}
}

func testMergeComposite(t *testing.T, d destination.Destination) {
	root := table("members", "", schema.Merge,
		col(schema.ColID, schema.Text), pk(col("tenant", schema.Text)), pk(col("id", schema.BigInt)), col("name", schema.Text))
	load(t, d, addTables(root), func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, root, destination.ModeStage,
			[]any{"a1", "t1", int64(1), "Ann"}, []any{"a2", "t1", int64(2), "Bob"}, []any{"a3", "t2", int64(1), "Cat"})
		if err := tx.Merge(ctx, root, nil); err != nil {
			t.Fatalf("Merge: %v", err)
		}
	})
	load(t, d, nil, func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, root, destination.ModeStage,
			[]any{"b1", "t1", int64(1), "Anna"}, []any{"b2", "t2", int64(2), "Dan"})
		if err := tx.Merge(ctx, root, nil); err != nil {
			t.Fatalf("Merge: %v", err)
		}
	})
	rows := ReadAll(t, d, "members")
	wantColumn(t, rows, schema.ColID, "a2", "a3", "b1", "b2")
	wantColumn(t, rows, "name", "Bob", "Cat", "Anna", "Dan")
}

// testMergeAwkwardKeys merges on a key of text, timestamp and date whose
// text holds quotes, commas, a line break, an empty string and "\.": the
// keys travel through whatever staging the destination uses, and each must
// still find its row.
func testMergeAwkwardKeys(t *testing.T, d destination.Destination) {
	root := table("events", "", schema.Merge,
		col(schema.ColID, schema.Text), pk(col("k", schema.Text)), pk(col("at", schema.Timestamp)), pk(col("day", schema.Date)), col("v", schema.Text))
	t1 := time.Date(2024, 1, 2, 3, 4, 5, 600000000, time.UTC)
	t2 := t1.Add(time.Microsecond)
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	keys := []string{"", `a"b,c`, "line\nbreak", `\.`, "plain"}
	var first, second [][]any
	for i, k := range keys {
		first = append(first, []any{fmt.Sprintf("a%d", i), k, t1, day, "old"})
		second = append(second, []any{fmt.Sprintf("b%d", i), k, t1, day, "new"})
	}
	second = append(second, []any{"b9", "", t2, day, "other instant"})
	load(t, d, addTables(root), func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, root, destination.ModeStage, first...)
		if err := tx.Merge(ctx, root, nil); err != nil {
			t.Fatalf("Merge: %v", err)
		}
	})
	load(t, d, nil, func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, root, destination.ModeStage, second...)
		if err := tx.Merge(ctx, root, nil); err != nil {
			t.Fatalf("Merge: %v", err)
		}
	})
	rows := ReadAll(t, d, "events")
	wantColumn(t, rows, schema.ColID, "b0", "b1", "b2", "b3", "b4", "b9")
	wantColumn(t, rows, "k", "", `a"b,c`, "line\nbreak", `\.`, "plain", "")
	wantColumn(t, rows, "v", "new", "new", "new", "new", "new", "other instant")
}

func testMergeUnsupported(t *testing.T, d destination.Destination) {
	root, _, _ := mergeTables()
	ctx := context.Background()
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	defer tx.Rollback(ctx)
	if err := tx.Apply(ctx, addTables(root)); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	err = tx.Merge(ctx, root, nil)
	if !errors.Is(err, destination.ErrUnsupported) {
		t.Fatalf("Merge = %v, want an error wrapping ErrUnsupported", err)
	}
}

func testRollback(t *testing.T, d destination.Destination) {
	ctx := context.Background()
	tb := table("kept", "", schema.Append, col(schema.ColID, schema.Text))
	load(t, d, addTables(tb), func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, tb, destination.ModeAppend, []any{"1"})
	})

	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	gone := table("gone", "", schema.Append, col(schema.ColID, schema.Text))
	if err := tx.Apply(ctx, addTables(gone)); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	write(t, ctx, tx, gone, destination.ModeAppend, []any{"x"})
	write(t, ctx, tx, tb, destination.ModeAppend, []any{"2"})
	write(t, ctx, tx, tb, destination.ModeReplace, []any{"3"})
	if err := tx.Rollback(ctx); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	err = d.Read(ctx, "gone", func(map[string]any) error { return nil })
	if !errors.Is(err, destination.ErrNoTable) {
		t.Errorf("Read of a table created in a rolled-back load = %v, want ErrNoTable", err)
	}
	wantColumn(t, ReadAll(t, d, "kept"), schema.ColID, "1")

	// Rollback after Commit is a no-op.
	tx, err = d.Begin(ctx)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	write(t, ctx, tx, tb, destination.ModeAppend, []any{"4"})
	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Errorf("Rollback after Commit: %v", err)
	}
	wantColumn(t, ReadAll(t, d, "kept"), schema.ColID, "1", "4")
}

func testMissingTable(t *testing.T, d destination.Destination) {
	ctx := context.Background()
	// The dataset itself does not exist yet.
	err := d.Read(ctx, "nope", func(map[string]any) error { return nil })
	if !errors.Is(err, destination.ErrNoTable) {
		t.Errorf("Read before the dataset exists = %v, want ErrNoTable", err)
	}
	if _, err := destination.Count(ctx, d, "nope"); !errors.Is(err, destination.ErrNoTable) {
		t.Errorf("Count before the dataset exists = %v, want ErrNoTable", err)
	}
	tb := table("present", "", schema.Append, col(schema.ColID, schema.Text))
	load(t, d, addTables(tb), nil)
	err = d.Read(ctx, "nope", func(map[string]any) error { return nil })
	if !errors.Is(err, destination.ErrNoTable) {
		t.Errorf("Read of a missing table = %v, want ErrNoTable", err)
	}
	if _, err := destination.Count(ctx, d, "nope"); !errors.Is(err, destination.ErrNoTable) {
		t.Errorf("Count of a missing table = %v, want ErrNoTable", err)
	}
	if err != nil && !strings.Contains(err.Error(), "nope") {
		t.Errorf("error %q does not name the table", err)
	}
	if rows := ReadAll(t, d, "present"); len(rows) != 0 {
		t.Errorf("new table has rows: %v", rows)
	}
	// An error from fn stops Read and is returned.
	load(t, d, nil, func(ctx context.Context, tx destination.Tx) {
		write(t, ctx, tx, tb, destination.ModeAppend, []any{"1"}, []any{"2"})
	})
	stop := errors.New("stop here")
	calls := 0
	err = d.Read(ctx, "present", func(map[string]any) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Read with failing fn = %v after %d calls, want the fn's error after 1", err, calls)
	}
}

func testBadValue(t *testing.T, d destination.Destination) {
	tb := table("strict", "", schema.Append, col(schema.ColID, schema.Text), col("n", schema.BigInt))
	load(t, d, addTables(tb), nil)
	ctx := context.Background()
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	defer tx.Rollback(ctx)
	_, err = tx.Write(ctx, tb, destination.ModeAppend, NewRows([]any{"1", "not a number"}))
	if err == nil {
		t.Fatal("Write of a string into a bigint column succeeded")
	}
	for _, want := range []string{"strict", "n"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	_, err = tx.Write(ctx, tb, destination.ModeAppend, NewRows([]any{"1", int64(1), "extra"}))
	if err == nil {
		t.Error("Write of a row longer than the table's columns succeeded")
	}
}

func testSourceError(t *testing.T, d destination.Destination) {
	tb := table("partial", "", schema.Append, col(schema.ColID, schema.Text))
	load(t, d, addTables(tb), nil)
	ctx := context.Background()
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	defer tx.Rollback(ctx)
	boom := errors.New("spool file truncated")
	src := NewRows([]any{"1"}, []any{"2"})
	src.Fail = boom
	if _, err := tx.Write(ctx, tb, destination.ModeAppend, src); !errors.Is(err, boom) {
		t.Fatalf("Write with a failing source = %v, want it wrapped", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if rows := ReadAll(t, d, "partial"); len(rows) != 0 {
		t.Errorf("rolled-back partial write left rows: %v", rows)
	}
}
