package duckdb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// DuckDB appends rows in vectors of 2,048 values per column, a few of
// them at once per INSERT (read_csv's output, the cast, the table's
// append buffer), and keeps the rows of an uncommitted row group in
// memory until COMMIT. A very wide row (5,000 text columns: ~650 MB to
// insert, ~175 MB held until COMMIT) or a very long value (read_csv's
// buffer holds two lines, the table a copy) then needs far more than the
// 128MB memory_limit a database file gets by default, however few rows
// there are. So a chunk whose rows need it raises memory_limit for the
// rest of its transaction, by what it needs, and the limit is set back
// when the transaction ends: ordinary chunks, narrow and short, never
// raise it, and a run's steady state is what the settings say.
const (
	// vectorBytes is what one column's vector of strings takes.
	vectorBytes = 2048 * 16
	// vectorsPerInsert is how many vectors of each column an INSERT from
	// read_csv holds at its peak (measured: 5,000 columns loaded at a
	// 700MB limit, not at 512MB; 5,000 x 4 x 32 KiB = 640 MiB).
	vectorsPerInsert = 6
	// raiseAbove is the need below which a chunk fits the ordinary
	// working set and raises nothing (~250 columns, or 10 MB values).
	raiseAbove = 32 << 20
	// longRow is the row length from which a chunk's rows are taken to
	// stay in memory until COMMIT.
	longRow = 1 << 20
)

// chunkMemory estimates what inserting a chunk takes beyond DuckDB's
// ordinary working set: its columns' vectors, and three copies of its
// longest row (read_csv's two-line buffer, the value in the table; an
// Arrow scan copies the value from Go's batch instead).
func chunkMemory(st chunkStats) int64 {
	return int64(st.Columns)*vectorsPerInsert*vectorBytes + 3*st.Longest
}

// raiseMemory raises memory_limit, for the rest of the transaction, so
// that inserting a chunk (st) fits in it on top of what the transaction's
// earlier large chunks hold (see above). It does nothing for an ordinary
// chunk.
func (t *tx) raiseMemory(ctx context.Context, st chunkStats) error {
	need := chunkMemory(st)
	if need < raiseAbove {
		return nil
	}
	if t.memLimit == "" {
		if err := t.conn.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&t.memLimit); err != nil {
			return fmt.Errorf("read memory_limit: %w", err)
		}
		t.memBase = parseBytes(t.memLimit)
	}
	limit := t.memBase + t.memHeld + need
	if st.Longest >= longRow {
		// Its long values stay in memory until COMMIT; a wide table's
		// rows go to its column segments, which do not grow per chunk.
		t.memHeld += st.Bytes
	}
	if limit <= t.memRaised {
		return nil
	}
	if _, err := t.conn.ExecContext(ctx, fmt.Sprintf("SET memory_limit = '%dB'", limit)); err != nil {
		return fmt.Errorf("raise memory_limit for a chunk of wide or long rows: %w", err)
	}
	t.memRaised = limit
	return nil
}

// restoreMemory sets memory_limit back to what it was before raiseMemory
// raised it, once the transaction ended and freed what it held.
func (t *tx) restoreMemory() {
	if t.memRaised == 0 {
		return
	}
	t.memRaised = 0
	// The limit goes back to its setting; should DuckDB refuse (it cannot
	// free enough yet), the raised one stays until the database closes.
	_, _ = t.conn.ExecContext(context.Background(), "SET memory_limit = "+sqlString(t.memLimit))
}

// LimitMemory sets DuckDB's memory_limit to bytes, the share of a run's
// memory budget DuckDB gets (destination.MemoryLimiter), unless the URL's
// query sets memory_limit. Wide or long chunks still raise it for their
// transaction (see raiseMemory): they cannot load below what they need.
func (d *DuckDB) LimitMemory(ctx context.Context, bytes int64) error {
	if d.urlMemory {
		return nil
	}
	if _, err := d.db.ExecContext(ctx, fmt.Sprintf("SET GLOBAL memory_limit = '%dB'", bytes)); err != nil {
		return fmt.Errorf("%s: set memory_limit: %w", d.name, err)
	}
	return nil
}

// parseBytes reads a size as DuckDB shows a setting ("122.0 MiB",
// "1.5 GB", "512 bytes"); an unreadable one is taken as 128 MiB, restoring
// which is harmless: the limit is only ever raised above it.
func parseBytes(s string) int64 {
	num, unit, _ := strings.Cut(strings.TrimSpace(s), " ")
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 128 << 20
	}
	mult := map[string]float64{"": 1, "bytes": 1, "B": 1, "KB": 1e3, "KiB": 1 << 10, "MB": 1e6, "MiB": 1 << 20,
		"GB": 1e9, "GiB": 1 << 30, "TB": 1e12, "TiB": 1 << 40}[strings.TrimSpace(unit)]
	if mult == 0 {
		return 128 << 20
	}
	return int64(f * mult)
}
