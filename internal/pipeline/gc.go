package pipeline

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// The garbage collector's defaults for a restload process. restload
// allocates fast (every page's decoded JSON, every row on its way to the
// destination) and keeps little alive (a few pages and row batches), so
// Go's default GOGC=100 collected every few MB allocated and a run spent a
// large share of its CPU time in the collector. GOGC=400 collects five
// times less often, and the soft memory limit makes it collect sooner when
// the heap nears 64 MiB, so memory stays bounded whatever the data: a run
// reaches the limit early and stays there. Measured with bench/ (8 x 100k
// records, two cores, runs alternated): JSONL append 9.6 s -> 7.1-8.5 s
// (peak RSS 57 -> 85-90 MB), DuckDB merge 16.7 s -> 12-15 s; with 2 x 1M
// records, JSONL, Parquet and PostgreSQL peaked within 7% of their 2 x 100k
// figures (a 96 MiB limit was as fast, but a 2 x 100k run ended before the
// heap reached it: JSONL peaked 12% higher at 1M).
//
// What is live grows with the API's page size, though (pages fetched
// ahead, the pages being handled, per resource): with 1,000-record pages
// of the seed's API, 8 resources at once kept ~67 MB live, above the
// limit, and the collector then ran back to back, a third of the CPU time
// (14.6 s instead of 7.9 s with a 128 MiB limit). So the default limit
// follows the live heap: after each collection it is set to limitHeadroom
// times what the collection left live, never below defaultMemoryLimit (see
// limitTuner). A limit the environment sets (GOMEMLIMIT), or a run's
// memory budget (applyMemory), is kept as set.
const (
	defaultGOGC        = 400
	defaultMemoryLimit = 64 << 20
	limitHeadroom      = 2
)

// SetGCDefaults applies defaultGOGC and defaultMemoryLimit, each unless
// the environment (read through getenv) sets its variable, GOGC or
// GOMEMLIMIT, which Go's runtime has then applied already; the default
// limit then follows the live heap (see limitTuner) until stop.
func SetGCDefaults(getenv func(string) string) (stop func()) {
	if !envSetsGC(getenv) {
		debug.SetGCPercent(defaultGOGC)
	}
	if getenv("GOMEMLIMIT") == "" {
		return startLimitTuner(defaultMemoryLimit)
	}
	return func() {}
}

// envSetsGC reports whether the environment sets GOGC, which restload's
// collector settings (these defaults, and a memory budget's in
// applyMemory) then leave alone.
func envSetsGC(getenv func(string) string) bool { return getenv("GOGC") != "" }

// limitFor is the soft memory limit for a heap with live bytes live:
// limitHeadroom times live, at least floor.
func limitFor(floor int64, live uint64) int64 {
	if live > math.MaxInt64/limitHeadroom {
		return math.MaxInt64
	}
	return max(floor, int64(live)*limitHeadroom)
}

// limitTuner keeps Go's soft memory limit at limitFor(floor, live) after
// every collection, while no run's budget holds the limit
// (holdMemoryLimit) and the limit in force is the one it set last (a
// limit anyone else sets is left alone).
type limitTuner struct {
	floor   int64
	last    int64 // the limit it set last
	stopped bool
	sample  []metrics.Sample
}

// memLimit guards the limit tuners' state and the budgets' holds on the
// limit.
var memLimit struct {
	sync.Mutex
	held int
}

// startLimitTuner sets the limit to floor and starts following the live
// heap; stop ends that (the limit stays as it is).
func startLimitTuner(floor int64) (stop func()) {
	t := &limitTuner{floor: floor, last: floor, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	memLimit.Lock()
	debug.SetMemoryLimit(floor)
	memLimit.Unlock()
	t.arm()
	return func() {
		memLimit.Lock()
		defer memLimit.Unlock()
		t.stopped = true
	}
}

// gcSentinel is allocated for nothing but its cleanup, which runs after
// the collection that finds it unreachable. It holds a pointer so that it
// is not packed with other tiny objects, whose cleanups can be late.
type gcSentinel struct {
	_ *byte
	_ [8]byte
}

// arm asks for tune, and arm again, after the next collection.
func (t *limitTuner) arm() {
	runtime.AddCleanup(new(gcSentinel), func(t *limitTuner) {
		if t.tune() {
			t.arm()
		}
	}, t)
}

// tune sets the limit for the live heap the last collection left, unless
// a budget holds the limit or someone else's limit is in force. It
// reports whether to go on.
func (t *limitTuner) tune() bool {
	memLimit.Lock()
	defer memLimit.Unlock()
	if t.stopped {
		return false
	}
	if memLimit.held > 0 || debug.SetMemoryLimit(-1) != t.last {
		return true
	}
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return false
	}
	t.last = limitFor(t.floor, t.sample[0].Value.Uint64())
	debug.SetMemoryLimit(t.last)
	return true
}

// holdMemoryLimit sets Go's soft memory limit to n and keeps the limit
// tuner off it until release, which sets the limit back to what it was.
// A run's memory budget is held so.
func holdMemoryLimit(n int64) (release func()) {
	memLimit.Lock()
	defer memLimit.Unlock()
	memLimit.held++
	prev := debug.SetMemoryLimit(n)
	return func() {
		memLimit.Lock()
		defer memLimit.Unlock()
		debug.SetMemoryLimit(prev)
		memLimit.held--
	}
}
