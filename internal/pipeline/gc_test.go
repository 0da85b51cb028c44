package pipeline

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestSetGCDefaults(t *testing.T) {
	gogc := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(gogc)
		debug.SetMemoryLimit(limit)
	})
	tests := []struct {
		name      string
		env       map[string]string
		wantGOGC  int
		wantLimit int64
	}{
		{"defaults", nil, defaultGOGC, defaultMemoryLimit},
		{"GOGC set", map[string]string{"GOGC": "50"}, 100, defaultMemoryLimit},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, defaultGOGC, math.MaxInt64},
		{"both set", map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}, 100, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// What the runtime applied at start for the variables set is
			// stood in for by 100 and no limit.
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			SetGCDefaults(func(k string) string { return tt.env[k] })
			if got := debug.SetGCPercent(100); got != tt.wantGOGC {
				t.Errorf("GOGC = %d, want %d", got, tt.wantGOGC)
			}
			if got := debug.SetMemoryLimit(-1); got != tt.wantLimit {
				t.Errorf("memory limit = %d, want %d", got, tt.wantLimit)
			}
		})
	}
}
