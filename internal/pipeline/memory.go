package pipeline

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/restload/restload/internal/destination"
)

// memoryReserve is what a budget keeps back for the process's fixed
// costs before it shares the rest out: the restload binary's pages the
// process maps and the package initialisation's heap (`restload version`
// alone peaks at ~130 MB RSS, ~110 MB of it the binary's file pages).
const memoryReserve = 128 << 20

// Shares of what a budget leaves after memoryReserve. A destination that
// holds memory of its own (destination.MemoryLimiter: DuckDB) gets 3/8 as
// its limit and Go's heap 1/4: DuckDB's RSS ran at about twice its
// memory_limit (bench/, 8 x 100k records merged, --memory 320MiB and
// 512MiB: 370 and 612 MB peak with halves for DuckDB), so the two fill
// the budget. Otherwise Go's heap gets 3/4.
const (
	destShare       = 0.375
	goShareBeside   = 0.25
	goShareByItself = 0.75
)

// memoryBudget returns the run's budget: Options.Memory, else the file's
// limits.memory, else 0 (the defaults).
func (r *run) memoryBudget() int64 {
	if r.opts.Memory > 0 {
		return r.opts.Memory
	}
	if r.p.Limits != nil {
		return int64(r.p.Limits.Memory)
	}
	return 0
}

// applyMemory shares the run's memory budget out, when it has one: the
// destination's limit (MemoryLimiter) and Go's soft memory limit
// (debug.SetMemoryLimit), with the collector left to run at that limit
// (GOGC off), which the run sets back when it ends. Go's
// limit is the process's, so runs in one process should not overlap with
// different budgets.
func (r *run) applyMemory(ctx context.Context) error {
	budget := r.memoryBudget()
	if budget <= 0 {
		return nil
	}
	work := max(budget-memoryReserve, budget/4)
	goShare := goShareByItself
	if lim, ok := r.dest.(destination.MemoryLimiter); ok {
		if err := lim.LimitMemory(ctx, int64(float64(work)*destShare)); err != nil {
			return fmt.Errorf("memory budget: %w", err)
		}
		goShare = goShareBeside
	}
	r.onClose(holdMemoryLimit(int64(float64(work) * goShare)))
	// With a budget, Go's heap may fill its share before it collects
	// (GOGC off under the soft limit): the default GOGC=400 collected as
	// soon as the heap was five times what is live, far below the share,
	// and collecting took a fifth of a run's CPU time. bench/, 8 x 100k
	// records into JSONL: GOGC=800 with a 128 MiB limit ran in 9.1 CPU s
	// instead of 11.6. A GOGC the environment sets is left alone.
	if !envSetsGC(os.Getenv) {
		prevGC := debug.SetGCPercent(-1)
		r.onClose(func() { debug.SetGCPercent(prevGC) })
	}
	r.log.Debug("memory budget", "bytes", budget, "go_limit", int64(float64(work)*goShare))
	return nil
}
