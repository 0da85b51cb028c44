package pipeline

import (
	"os"
	"testing"
	"time"
)

// TestReadCPUTimes: /proc/stat's first line parses, and a busy loop moves
// the total more than the idle time.
func TestReadCPUTimes(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc/stat on this system: parts are cut by size only")
	}
	idle1, total1, ok := readCPUTimes()
	if !ok || total1 == 0 || idle1 > total1 {
		t.Fatalf("readCPUTimes = %d idle of %d, %v", idle1, total1, ok)
	}
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
	}
	idle2, total2, _ := readCPUTimes()
	if total2 <= total1 || total2-total1 <= idle2-idle1 {
		t.Errorf("a 300 ms busy loop: %d ticks in all, %d idle", total2-total1, idle2-idle1)
	}
}
