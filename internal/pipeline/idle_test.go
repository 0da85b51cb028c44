package pipeline

import (
	"os"
	"testing"
	"time"
)

// TestReadCPUTimes: /proc/stat's first line parses, and a busy loop shows
// as busy (not idle) time, however many other cores idle meanwhile.
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
	// 300 ms on one core is 30 ticks at Linux's 100 per second; allow for
	// the loop being descheduled for some of it.
	if busy := (total2 - total1) - (idle2 - idle1); total2 <= total1 || busy < 10 {
		t.Errorf("a 300 ms busy loop: %d ticks in all, %d idle, %d busy; want 10 busy or more", total2-total1, idle2-idle1, busy)
	}
}
