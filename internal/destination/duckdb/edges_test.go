package duckdb_test

import (
	"context"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/destination/duckdb"
	"github.com/restload/restload/internal/schema"
)

// TestValueEdges loads values at the edges of what each column type holds
// and reads back what a user's query would see. It runs in both builds
// (rows as CSV files, and as Arrow batches with -tags duckdb_arrow;
// duckdb.ArrowLoads says which), which must store the same: instants to
// the microsecond, finer digits cut (not rounded) before and after 1970; a
// timestamp column without time zone holding the UTC wall time; a
// millisecond timestamp cut to milliseconds; dates as the value's own
// calendar day; bytes as they are (empty bytes are not NULL); text that is not UTF-8 with U+FFFD for
// its bad bytes; NaN and infinities; integers sized by a precision hint.
func TestValueEdges(t *testing.T) {
	t.Logf("rows reach DuckDB as Arrow batches: %v", duckdb.ArrowLoads)
	ctx := context.Background()
	d := openFile(t, "edges")
	noZone := false
	naive := &schema.Column{Name: "naive", Type: schema.Timestamp, Nullable: true, Timezone: &noZone}
	ms := &schema.Column{Name: "ms", Type: schema.Timestamp, Nullable: true, Timezone: &noZone, Precision: new(3)}
	tiny := &schema.Column{Name: "tiny", Type: schema.BigInt, Nullable: true, Precision: new(8)}
	huge := &schema.Column{Name: "huge", Type: schema.BigInt, Nullable: true, Precision: new(128)}
	col := func(name string, typ schema.DataType) *schema.Column {
		return &schema.Column{Name: name, Type: typ, Nullable: true}
	}
	tb := &schema.Table{Name: "edges", WriteDisposition: schema.Append, Columns: []*schema.Column{
		col("id", schema.BigInt), col("ts", schema.Timestamp), naive, ms, col("day", schema.Date),
		col("blob", schema.Binary), col("txt", schema.Text), col("dbl", schema.Double), tiny, huge,
		col("tod", schema.Time), col("doc", schema.JSON),
	}}
	east := time.FixedZone("+0530", 5*3600+30*60)
	west := time.FixedZone("-0700", -7*3600)
	rows := [][]any{
		{int64(1), time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC), time.Date(2024, 6, 1, 10, 30, 0, 0, west),
			time.Date(2024, 1, 2, 3, 4, 5, 123_456_789, time.UTC), time.Date(1969, 7, 20, 0, 0, 0, 0, time.UTC),
			"\x00\xff\x80abc", "a\xffb", math.NaN(), int64(127), int64(math.MaxInt64), "23:59:59.999999", `{"k":[1,"x"]}`},
		{int64(2), time.Date(2024, 1, 1, 12, 0, 0, 1_500, east), nil,
			time.Date(1960, 1, 1, 0, 0, 0, 999_999, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.FixedZone("+09", 9*3600)),
			"", "", math.Inf(1), int64(-128), int64(math.MinInt64), "00:00:00", `[]`},
		{int64(3), nil, nil, nil, nil, nil, nil, math.Inf(-1), nil, nil, nil, nil},
		{int64(4), nil, nil, nil, nil, nil, nil, math.Copysign(0, -1), nil, nil, nil, nil},
	}
	destinationtest.CommitRows(t, d, tb, []schema.Change{{Kind: schema.AddTable, Table: tb}}, destination.ModeAppend, rows...)

	got := destinationtest.ReadAll(t, d, "edges")
	if len(got) != 4 {
		t.Fatalf("read %d rows, want 4", len(got))
	}
	instant := func(row int, c string, want time.Time) {
		t.Helper()
		v, ok := got[row][c].(time.Time)
		if !ok || !v.Equal(want) {
			t.Errorf("row %d %s = %#v, want %s", row+1, c, got[row][c], want.Format(time.RFC3339Nano))
		}
	}
	wall := func(row int, c, want string) {
		t.Helper()
		v, ok := got[row][c].(time.Time)
		if !ok || v.Format("2006-01-02 15:04:05.999999") != want {
			t.Errorf("row %d %s = %#v, want the wall time %s", row+1, c, got[row][c], want)
		}
	}
	instant(0, "ts", time.Date(1969, 12, 31, 23, 59, 59, 999_999_000, time.UTC))
	instant(1, "ts", time.Date(2024, 1, 1, 6, 30, 0, 1_000, time.UTC))
	wall(0, "naive", "2024-06-01 17:30:00")
	wall(0, "ms", "2024-01-02 03:04:05.123")
	// DuckDB's cast to milliseconds cuts toward the epoch, which before
	// 1970 is up: .000999 s becomes .001.
	wall(1, "ms", "1960-01-01 00:00:00.001")
	wall(0, "day", "1969-07-20 00:00:00")
	wall(1, "day", "2024-03-01 00:00:00")

	if b, ok := got[0]["blob"].([]byte); !ok || string(b) != "\x00\xff\x80abc" {
		t.Errorf("row 1 blob = %#v, want the bytes 00 ff 80 'abc'", got[0]["blob"])
	}
	if b, ok := got[1]["blob"].([]byte); !ok || len(b) != 0 {
		t.Errorf("row 2 blob = %#v, want empty bytes (not NULL)", got[1]["blob"])
	}
	if got[0]["txt"] != "a\uFFFDb" || got[1]["txt"] != "" || got[2]["txt"] != nil {
		t.Errorf("txt = %q, %q, %v; want \"a\\uFFFDb\", \"\" and NULL", got[0]["txt"], got[1]["txt"], got[2]["txt"])
	}
	dbl := func(row int) float64 { f, _ := got[row]["dbl"].(float64); return f }
	// -0 reads back as 0 from DuckDB, whichever way it went in.
	if !math.IsNaN(dbl(0)) || !math.IsInf(dbl(1), 1) || !math.IsInf(dbl(2), -1) || dbl(3) != 0 || got[3]["dbl"] == nil {
		t.Errorf("dbl = %v, %v, %v, %v; want NaN, +Inf, -Inf, 0", got[0]["dbl"], got[1]["dbl"], got[2]["dbl"], got[3]["dbl"])
	}
	if got[0]["tiny"] != int8(127) || got[1]["tiny"] != int8(-128) {
		t.Errorf("tiny = %#v, %#v; want the TINYINTs 127 and -128", got[0]["tiny"], got[1]["tiny"])
	}
	for i, want := range []int64{math.MaxInt64, math.MinInt64} {
		if h, ok := got[i]["huge"].(*big.Int); !ok || !h.IsInt64() || h.Int64() != want {
			t.Errorf("row %d huge = %#v, want the HUGEINT %d", i+1, got[i]["huge"], want)
		}
	}
	if v, ok := got[0]["tod"].(time.Time); !ok || v.Format("15:04:05.999999") != "23:59:59.999999" {
		t.Errorf("row 1 tod = %#v, want 23:59:59.999999", got[0]["tod"])
	}
	if s, _ := got[0]["doc"].(string); strings.ReplaceAll(s, " ", "") != `{"k":[1,"x"]}` {
		t.Errorf("row 1 doc = %#v, want the JSON {\"k\":[1,\"x\"]}", got[0]["doc"])
	}

	// A value the sized column cannot hold fails the write, naming it.
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	_, err = tx.Write(ctx, tb, destination.ModeAppend, destinationtest.NewRows([]any{int64(5), nil, nil, nil, nil, nil, nil, nil, int64(300)}))
	if err == nil || !strings.Contains(err.Error(), "300") {
		t.Errorf("writing 300 into a TINYINT column: err = %v, want an error naming the value", err)
	}
}
