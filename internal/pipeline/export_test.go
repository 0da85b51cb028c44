package pipeline

import (
	"testing"
	"time"
)

// SetPartRows makes resources load in parts of n rows (and of any rows
// after a millisecond) until the test ends, so small test data crosses
// many parts.
func SetPartRows(t testing.TB, n int64) {
	rows, minRows, every := partRows, partMinRows, partEvery
	partRows, partMinRows, partEvery = n, 1, time.Millisecond
	t.Cleanup(func() { partRows, partMinRows, partEvery = rows, minRows, every })
}
