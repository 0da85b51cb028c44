package pipeline

import "runtime/debug"

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
const (
	defaultGOGC        = 400
	defaultMemoryLimit = 64 << 20
)

// SetGCDefaults applies defaultGOGC and defaultMemoryLimit, each unless
// the environment (read through getenv) sets its variable, GOGC or
// GOMEMLIMIT, which Go's runtime has then applied already.
func SetGCDefaults(getenv func(string) string) {
	if !envSetsGC(getenv) {
		debug.SetGCPercent(defaultGOGC)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

// envSetsGC reports whether the environment sets GOGC, which restload's
// collector settings (these defaults, and a memory budget's in
// applyMemory) then leave alone.
func envSetsGC(getenv func(string) string) bool { return getenv("GOGC") != "" }
