package destinationtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// BenchRows is how many rows BenchmarkWrite loads per iteration.
const BenchRows = 100_000

// BenchmarkWrite measures appending BenchRows rows of 12 columns (text,
// bigint, double, decimal, bool, timestamp, JSON) in one transaction, and
// reports rows/s. open is called once per benchmark run.
func BenchmarkWrite(b *testing.B, open func(b *testing.B, dataset string) destination.Destination) {
	d := open(b, Dataset(b))
	ctx := context.Background()
	tb := table("bench", "", schema.Append,
		col(schema.ColLoadID, schema.Text), col(schema.ColID, schema.Text),
		col("id", schema.BigInt), col("name", schema.Text), col("email", schema.Text),
		col("score", schema.Double), col("amount", schema.Decimal), col("active", schema.Bool),
		col("created_at", schema.Timestamp), col("updated_at", schema.Timestamp),
		col("tags", schema.JSON), col("country", schema.Text))
	tx, err := d.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := tx.Apply(ctx, addTables(tb)); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([][]any, BenchRows)
	for i := range rows {
		rows[i] = []any{"L1", fmt.Sprintf("id%08d", i), int64(i), fmt.Sprintf("user %d", i),
			fmt.Sprintf("user%d@example.com", i), float64(i) / 7, fmt.Sprintf("%d.%02d", i, i%100), i%2 == 0,
			base.Add(time.Duration(i) * time.Second), base.Add(time.Duration(i) * time.Minute),
			`["a","b"]`, "NZ"}
	}
	b.ResetTimer()
	for b.Loop() {
		tx, err := d.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		n, err := tx.Write(ctx, tb, destination.ModeAppend, NewRows(rows...))
		if err != nil {
			b.Fatal(err)
		}
		if n != BenchRows {
			b.Fatalf("wrote %d rows, want %d", n, BenchRows)
		}
		if err := tx.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(BenchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
