package duckdb

import (
	"context"
	"database/sql/driver"
	"fmt"
	"math/big"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// cpuSeconds is this process's user+system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkAppender loads the rows destinationtest.BenchmarkWrite loads
// (100k rows of 12 columns) into a table of the same shape through the
// driver's Appender, in one transaction, for comparison with the CSV
// files read_csv reads ("cpu-s/op" counts DuckDB's threads too, which
// ns/op on a shared machine hides). On these rows the Appender took less
// CPU (~0.4 s against ~1.1 s for BenchmarkWrite, measured with
// /usr/bin/time over -benchtime 1x and 4x), but with the seed's rows end to
// end (8 x 20k records merged, CPU profile) it took more than CSV: 1.34 s
// against 1.04 s (encoding 0.27 s + read_csv 0.77 s), as every text value
// is a cgo call of its own; so restload keeps read_csv.
func BenchmarkAppender(b *testing.B) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(b.TempDir(), "a.duckdb"), "ds")
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if _, err := d.db.ExecContext(ctx, `CREATE SCHEMA ds; CREATE TABLE ds.bench (_dlt_load_id VARCHAR, _dlt_id VARCHAR,
		id BIGINT, name VARCHAR, email VARCHAR, score DOUBLE, amount DECIMAL(38,9), active BOOLEAN,
		created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, tags JSON, country VARCHAR)`); err != nil {
		b.Fatal(err)
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 100_000
	rows := make([][]driver.Value, n)
	for i := range rows {
		rows[i] = []driver.Value{"L1", fmt.Sprintf("id%08d", i), int64(i), fmt.Sprintf("user %d", i),
			fmt.Sprintf("user%d@example.com", i), float64(i) / 7, duckdb.Decimal{Width: 38, Scale: 9, Value: big.NewInt(int64(i)*1e9 + int64(i%100)*1e7)}, i%2 == 0,
			base.Add(time.Duration(i) * time.Second), base.Add(time.Duration(i) * time.Minute),
			`["a","b"]`, "NZ"}
	}
	cpu := cpuSeconds()
	b.ResetTimer()
	for b.Loop() {
		conn, err := d.db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
			b.Fatal(err)
		}
		err = conn.Raw(func(dc any) error {
			a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "ds", "bench")
			if err != nil {
				return err
			}
			for _, r := range rows {
				if err := a.AppendRow(r...); err != nil {
					return err
				}
			}
			return a.Close()
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			b.Fatal(err)
		}
		conn.Close()
	}
	b.ReportMetric((cpuSeconds()-cpu)/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
