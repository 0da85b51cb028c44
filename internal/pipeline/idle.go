package pipeline

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// partIdle is the share of the machine's CPU time that must have been idle
// lately for a resource to be loaded in parts while it extracts. Loading
// as it goes pays where extraction waits on the API (8 x 10k records at 20
// ms latency: 1.64x -> ~1.3-1.45x the time of the slowest resource alone),
// and costs where extraction already keeps every core busy (8 x 100k
// records on two cores: ~10-15% more time, as loading competes with it).
var partIdle = 0.25

// cpuIdle tells whether the machine's CPUs were at least partIdle idle
// over the last quarter second or so, from /proc/stat. Where there is no
// /proc/stat it says no (parts are then never cut by time).
type cpuIdle struct {
	mu          sync.Mutex
	at          time.Time
	idle, total uint64
	spare       bool
}

var machineIdle cpuIdle

func (c *cpuIdle) enough() bool {
	if partIdle <= 0 {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) < 250*time.Millisecond {
		return c.spare
	}
	idle, total, ok := readCPUTimes()
	if !ok {
		return false
	}
	if c.total > 0 && total > c.total {
		c.spare = float64(idle-c.idle)/float64(total-c.total) >= partIdle
	}
	c.idle, c.total, c.at = idle, total, time.Now()
	return c.spare
}

// readCPUTimes reads the idle (idle and iowait) and total CPU time of all
// CPUs from /proc/stat's first line, in clock ticks.
func readCPUTimes() (idle, total uint64, ok bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return 0, 0, false
	}
	fields := strings.Fields(line)
	if len(fields) < 6 || fields[0] != "cpu" {
		return 0, 0, false
	}
	// user nice system idle iowait irq softirq steal (guest time is
	// counted in user already).
	for i, f := range fields[1:min(len(fields), 9)] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i == 3 || i == 4 {
			idle += v
		}
	}
	return idle, total, true
}
