package destination

import "context"

// MemoryLimiter is implemented by a destination that holds memory of its
// own, outside Go's heap (DuckDB's buffer manager in this process), so
// that a run's memory budget (run --memory, limits.memory) bounds it too.
type MemoryLimiter interface {
	// LimitMemory bounds what the destination holds to about bytes. A
	// limit its URL sets explicitly wins; LimitMemory then changes
	// nothing. It is called right after Open, before any Tx.
	LimitMemory(ctx context.Context, bytes int64) error
}
