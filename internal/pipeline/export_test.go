package pipeline

import "testing"

// SetPartRows makes resources load in parts of any n rows or more, idle
// CPU or not, until the test ends, so small test data crosses many parts.
func SetPartRows(t testing.TB, n int64) {
	minRows, every, idle := partMinRows, partEvery, partIdle
	partMinRows, partEvery, partIdle = n, 0, 0
	t.Cleanup(func() { partMinRows, partEvery, partIdle = minRows, every, idle })
}
