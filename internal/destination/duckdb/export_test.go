package duckdb

// SetChunkBytes makes Write cut its chunks at n bytes until the test
// ends, so a small test crosses many chunks.
func SetChunkBytes(tb interface{ Cleanup(func()) }, n int64) {
	old := chunkBytes
	chunkBytes = n
	tb.Cleanup(func() { chunkBytes = old })
}

// MemoryLimit returns d's memory_limit setting as DuckDB shows it.
func MemoryLimit(d *DuckDB) (string, error) {
	var s string
	err := d.db.QueryRow("SELECT current_setting('memory_limit')").Scan(&s)
	return s, err
}
