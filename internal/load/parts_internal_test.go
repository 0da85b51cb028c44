package load

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

// TestPartPolicyDue: a part is due once enough rows were written and
// enough time passed; Idle <= 0 skips the CPU check.
func TestPartPolicyDue(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name  string
		p     PartPolicy
		rows  int64
		since time.Time
		want  bool
	}{
		{"enough rows, no wait", PartPolicy{MinRows: 10}, 10, now, true},
		{"too few rows", PartPolicy{MinRows: 10}, 9, now.Add(-time.Hour), false},
		{"too soon", PartPolicy{MinRows: 1, Every: time.Hour}, 100, now, false},
		{"long enough", PartPolicy{MinRows: 1, Every: time.Millisecond}, 100, now.Add(-time.Second), true},
		{"cpu never idle enough", PartPolicy{MinRows: 1, Idle: 1.01}, 100, now.Add(-time.Second), false},
	}
	for _, tt := range tests {
		if got := tt.p.Due(tt.rows, tt.since); got != tt.want {
			t.Errorf("%s: Due(%d) = %v, want %v", tt.name, tt.rows, got, tt.want)
		}
	}
}
