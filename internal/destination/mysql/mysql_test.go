package mysql_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	_ "github.com/restload/restload/internal/destination/mysql"
	"github.com/restload/restload/internal/schema"
)

// openDataset opens the test server for dataset and drops the dataset's
// database when the test ends.
func openDataset(tb testing.TB, dataset string) destination.Destination {
	tb.Helper()
	url := destinationtest.MySQLURL(tb)
	d, err := destination.Open(context.Background(), url, dataset)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	destinationtest.DropMySQLOnCleanup(tb, url, dataset) // runs after the Close below
	tb.Cleanup(func() {
		if err := d.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return d
}

func TestConformance(t *testing.T) {
	destinationtest.Run(t, func(t *testing.T, dataset string) destination.Destination {
		return openDataset(t, dataset)
	}, destinationtest.Caps{Merge: true, IsolatedRead: true, MergeHints: true})
}

func BenchmarkWrite(b *testing.B) {
	destinationtest.BenchmarkWrite(b, func(b *testing.B, dataset string) destination.Destination {
		return openDataset(b, dataset)
	})
}

// TestLongIdentifiers checks that names MySQL would refuse are refused
// before any SQL runs, with a message naming the limit.
func TestLongIdentifiers(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("é", 60) + "_long" // 65 characters, 125 bytes
	t.Run("dataset", func(t *testing.T) {
		_, err := destination.Open(ctx, destinationtest.MySQLURL(t), long)
		if err == nil || !strings.Contains(err.Error(), "is 65 characters; MySQL allows only 64") {
			t.Fatalf("Open with a 65-character dataset: %v, want a length error", err)
		}
	})
	for _, c := range []struct {
		name string
		tb   *schema.Table
	}{
		{"table", &schema.Table{Name: long, Columns: []*schema.Column{{Name: "a", Type: schema.Text}}}},
		{"column", &schema.Table{Name: "t", Columns: []*schema.Column{{Name: long, Type: schema.Text}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := openDataset(t, destinationtest.Dataset(t))
			tx, err := d.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			err = tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: c.tb}})
			if err == nil || !strings.Contains(err.Error(), c.name+` name "`+long+`" is 65 characters`) {
				t.Fatalf("Apply: %v, want an error naming the %s", err, c.name)
			}
			_, err = tx.Write(ctx, c.tb, destination.ModeAppend, destinationtest.NewRows())
			if err == nil || !strings.Contains(err.Error(), "MySQL allows only 64") {
				t.Fatalf("Write: %v, want a length error", err)
			}
		})
	}
	// 64 characters of several bytes each are fine.
	ok := strings.Repeat("é", 64)
	d := openDataset(t, destinationtest.Dataset(t))
	tb := &schema.Table{Name: ok, Columns: []*schema.Column{{Name: ok, Type: schema.Text}}}
	destinationtest.CommitRows(t, d, tb, []schema.Change{{Kind: schema.AddTable, Table: tb}}, destination.ModeAppend, []any{"v"})
	if n, err := destination.Count(ctx, d, ok); err != nil || n != 1 {
		t.Errorf("count of a table with a 64-character name = %d, %v; want 1", n, err)
	}
}

// TestSchemaChangeMidLoad: MySQL commits the open transaction at every
// CREATE or ALTER TABLE. A load that writes rows, then creates a table
// and adds a column to the table it already wrote, must still be one
// transaction: nothing visible when it rolls back, everything when it
// commits, and no wait on its own table's lock.
func TestSchemaChangeMidLoad(t *testing.T) {
	ctx := context.Background()
	d := openDataset(t, destinationtest.Dataset(t))
	a := &schema.Table{Name: "a", Columns: []*schema.Column{{Name: "id", Type: schema.BigInt}}}
	destinationtest.CommitRows(t, d, a, []schema.Change{{Kind: schema.AddTable, Table: a}}, destination.ModeAppend, []any{int64(1)})
	wider := a.Clone()
	note := &schema.Column{Name: "note", Type: schema.Text}
	wider.Columns = append(wider.Columns, note)
	b := &schema.Table{Name: "b", Columns: []*schema.Column{{Name: "v", Type: schema.Text}}}

	for _, commit := range []bool{false, true} {
		destination.SetLockWait(d, destination.LockWait{Timeout: 5 * time.Second})
		tx, err := d.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Write(ctx, a, destination.ModeAppend, destinationtest.NewRows([]any{int64(2)})); err != nil {
			t.Fatal(err)
		}
		if err := tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: b}, {Kind: schema.AddColumn, Table: wider, Column: note}}); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Write(ctx, b, destination.ModeAppend, destinationtest.NewRows([]any{"x"})); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Write(ctx, wider, destination.ModeAppend, destinationtest.NewRows([]any{int64(3), "three"})); err != nil {
			t.Fatal(err)
		}
		if !commit {
			if err := tx.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			if n, err := destination.Count(ctx, d, "a"); err != nil || n != 1 {
				t.Errorf("after rollback: a has %d rows (%v), want the 1 committed before", n, err)
			}
			if _, err := destination.Count(ctx, d, "b"); !errors.Is(err, destination.ErrNoTable) {
				t.Errorf("after rollback: count of b = %v, want ErrNoTable", err)
			}
			continue
		}
		start := time.Now()
		if err := tx.Commit(ctx); err != nil {
			t.Fatalf("commit: %v", err)
		}
		if el := time.Since(start); el > 4*time.Second {
			t.Errorf("commit took %s: it waited for a lock", el)
		}
	}
	var notes []any
	err := d.Read(ctx, "a", func(row map[string]any) error { notes = append(notes, row["note"]); return nil })
	if err != nil || !reflect.DeepEqual(notes, []any{nil, nil, "three"}) {
		t.Errorf("a's notes = %v, %v; want nil, nil, three", notes, err)
	}
	if n, err := destination.Count(ctx, d, "b"); err != nil || n != 1 {
		t.Errorf("b has %d rows (%v), want 1", n, err)
	}
}

// TestValuesMySQLCannotHold: LOAD DATA LOCAL stores a value the column
// cannot hold as zero or clipped, with a warning only. Such values fail
// the write instead, naming table, column and value, and nothing loads.
func TestValuesMySQLCannotHold(t *testing.T) {
	ctx := context.Background()
	small := &schema.Column{Name: "price", Type: schema.Decimal, Nullable: true, Precision: new(5), Scale: new(2)}
	tb := &schema.Table{Name: "t", Columns: []*schema.Column{
		{Name: "ratio", Type: schema.Double, Nullable: true}, {Name: "at", Type: schema.Timestamp, Nullable: true},
		{Name: "day", Type: schema.Date, Nullable: true}, small}}
	for _, c := range []struct {
		name string
		row  []any
		want string
	}{
		{"infinity", []any{math.Inf(1), nil, nil, nil}, `column "ratio": cannot load +Inf into a double column`},
		{"nan", []any{math.NaN(), nil, nil, nil}, `column "ratio": cannot load NaN`},
		{"year 500", []any{nil, time.Date(500, 1, 1, 0, 0, 0, 0, time.UTC), nil, nil}, `column "at": cannot load 0500-01-01T00:00:00Z into a timestamp column: MySQL holds years 1000 to 9999 only`},
		{"year 10000", []any{nil, nil, "10000-01-01", nil}, `column "day"`},
		{"decimal too wide", []any{nil, nil, nil, "123456.5"}, "could not store every value as given"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := openDataset(t, destinationtest.Dataset(t))
			tx, err := d.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if err := tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: tb}}); err != nil {
				t.Fatal(err)
			}
			_, err = tx.Write(ctx, tb, destination.ModeAppend, destinationtest.NewRows([]any{1.5, nil, nil, "1.25"}, c.row))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `table "`) {
				t.Fatalf("Write: %v, want an error with %q", err, c.want)
			}
		})
	}
	// A decimal with more digits after the point than the scale is rounded,
	// as PostgreSQL does, not refused.
	d := openDataset(t, destinationtest.Dataset(t))
	destinationtest.CommitRows(t, d, tb, []schema.Change{{Kind: schema.AddTable, Table: tb}}, destination.ModeAppend, []any{nil, nil, nil, "1.255"})
	if rows := destinationtest.ReadAll(t, d, "t"); len(rows) != 1 || rows[0]["price"] != "1.26" {
		t.Errorf("rows = %v, want price 1.26", rows)
	}
}

// TestOpenErrorHidesPassword: a failed connection names the server but
// never the password.
func TestOpenErrorHidesPassword(t *testing.T) {
	for _, url := range []string{
		"mysql://loader:s3cret-pw@127.0.0.1:1/db?timeout=2s",
		"mysql://loader:s3cret-pw@127.0.0.1:1/db?tls=bogus&x=s3cret-pw",
		"mysql://loader:s3cret-pw@127.0.0.1:1/a/b",
	} {
		_, err := destination.Open(context.Background(), url, "ds")
		if err == nil {
			t.Fatalf("Open(%s) succeeded", url)
		}
		if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("error leaks the password: %v", err)
		}
		if !strings.Contains(err.Error(), "loader:xxxxx@127.0.0.1:1") {
			t.Errorf("error %q does not name the server", err)
		}
	}
}

// TestKeysCompareByteWise: MySQL's default collations say 'a' = 'A' =
// 'a ', which would merge three records into one. Text columns use a
// binary NO PAD collation: three keys stay three rows, and a key merged
// again keeps only its newest row.
func TestKeysCompareByteWise(t *testing.T) {
	d := openDataset(t, destinationtest.Dataset(t))
	tb := &schema.Table{Name: "k", WriteDisposition: schema.Merge, Columns: []*schema.Column{
		{Name: schema.ColID, Type: schema.Text}, {Name: "key", Type: schema.Text, PrimaryKey: true}, {Name: "v", Type: schema.Text}}}
	destinationtest.CommitRows(t, d, tb, []schema.Change{{Kind: schema.AddTable, Table: tb}}, destination.ModeStage,
		[]any{"1", "a", "lower"}, []any{"2", "A", "upper"}, []any{"3", "a ", "trailing space"})
	destinationtest.CommitRows(t, d, tb, nil, destination.ModeStage, []any{"4", "a", "lower again"})
	var got []string
	for _, r := range destinationtest.ReadAll(t, d, "k") {
		got = append(got, fmt.Sprintf("%q=%v", r["key"], r["v"]))
	}
	if want := []string{`"A"=upper`, `"a "=trailing space`, `"a"=lower again`}; !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %v, want %v", got, want)
	}
}
