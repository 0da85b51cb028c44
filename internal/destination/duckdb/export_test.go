package duckdb

// SetChunkBytes makes Write cut its CSV chunks at n bytes until the test
// ends, so a small test crosses many chunks.
func SetChunkBytes(tb interface{ Cleanup(func()) }, n int64) {
	old := csvChunkBytes
	csvChunkBytes = n
	tb.Cleanup(func() { csvChunkBytes = old })
}
