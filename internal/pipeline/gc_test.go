package pipeline

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
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
			stop := SetGCDefaults(func(k string) string { return tt.env[k] })
			defer stop()
			if got := debug.SetGCPercent(100); got != tt.wantGOGC {
				t.Errorf("GOGC = %d, want %d", got, tt.wantGOGC)
			}
			if got := debug.SetMemoryLimit(-1); got != tt.wantLimit {
				t.Errorf("memory limit = %d, want %d", got, tt.wantLimit)
			}
		})
	}
}

func TestLimitFor(t *testing.T) {
	const mib = 1 << 20
	for _, tt := range []struct {
		live uint64
		want int64
	}{
		{0, 64 * mib},
		{20 * mib, 64 * mib},
		{32 * mib, 64 * mib},
		{67 * mib, 134 * mib},
		{1 << 40, 2 << 40},
		{math.MaxUint64, math.MaxInt64},
	} {
		if got := limitFor(64*mib, tt.live); got != tt.want {
			t.Errorf("limitFor(64 MiB, %d) = %d, want %d", tt.live, got, tt.want)
		}
	}
}

// TestLimitTunerFollowsLiveHeap: with the default limit, a heap that
// keeps more alive than half the limit raises it (rather than collecting
// back to back), and the limit comes back down to the floor when that is
// let go; a run's budget holds the limit as it set it, and a limit set by
// anyone else is left alone.
func TestLimitTunerFollowsLiveHeap(t *testing.T) {
	const mib = 1 << 20
	const floor = 48 * mib
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	stop := startLimitTuner(floor)
	defer stop()
	// eventually runs collections until cond holds, or fails after a while.
	eventually := func(what string, cond func(limit int64) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			runtime.GC()
			time.Sleep(10 * time.Millisecond) // the tuner runs after the collection
			limit := debug.SetMemoryLimit(-1)
			if cond(limit) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the limit is %d MiB", what, limit/mib)
			}
		}
	}
	if got := debug.SetMemoryLimit(-1); got != floor {
		t.Fatalf("limit at start = %d, want the floor %d", got, floor)
	}

	live := make([][]byte, 80)
	for i := range live {
		live[i] = make([]byte, mib)
		live[i][0] = 1
	}
	eventually("80 MiB live", func(limit int64) bool { return limit >= 2*80*mib })

	release := holdMemoryLimit(40 * mib)
	runtime.GC()
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	if got := debug.SetMemoryLimit(-1); got != 40*mib {
		t.Errorf("a held budget's limit became %d MiB, want 40", got/mib)
	}
	release()
	if got := debug.SetMemoryLimit(-1); got < 2*80*mib {
		t.Errorf("after the budget's release the limit is %d MiB, want the tuner's again (>= 160)", got/mib)
	}

	runtime.KeepAlive(live)
	live = nil
	eventually("the live heap let go", func(limit int64) bool { return limit == floor })

	debug.SetMemoryLimit(30 * mib) // someone else's
	runtime.GC()
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	if got := debug.SetMemoryLimit(-1); got != 30*mib {
		t.Errorf("a limit set by someone else became %d MiB, want 30", got/mib)
	}
}
