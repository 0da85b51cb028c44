package cli

import "runtime/debug"

// The garbage collector's defaults for a restload process. restload
// allocates fast (every page's decoded JSON, every row on its way to the
// destination) and keeps little alive (a few pages and row batches), so
// Go's default GOGC=100 collected every few MB allocated and a run spent a
// large share of its CPU time in the collector. GOGC=400 collects five
// times less often, and the soft memory limit makes it collect sooner when
// the heap nears 96 MiB, so memory stays bounded whatever the data.
// Measured with bench/ (8 x 100k records, two cores): JSONL append 8.4-9.0
// s -> 6.3-6.9 s (peak RSS 59 -> 86 MB), Parquet append 9.6-10.0 s ->
// 8.7-9.4 s (89 -> 128 MB), DuckDB merge 14.2-15.3 s -> 12.4-12.6 s.
const (
	defaultGOGC        = 400
	defaultMemoryLimit = 96 << 20
)

// SetGCDefaults applies defaultGOGC and defaultMemoryLimit, each unless
// the environment (read through getenv) sets its variable, GOGC or
// GOMEMLIMIT, which Go's runtime has then applied already.
func SetGCDefaults(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
