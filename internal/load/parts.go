package load

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PartPolicy says when a resource that still extracts has the rows it
// wrote so far loaded as a part (see Load.Part). Small parts overlap
// loading with extraction sooner, but each costs statements and CPU.
type PartPolicy struct {
	// MinRows is how many rows (over all its tables) a resource must have
	// written since its last part.
	MinRows int64
	// Every is how long since its last part must have passed.
	Every time.Duration
	// Idle is the share of the machine's CPU time that must have been idle
	// lately (read from /proc/stat; where there is none, parts are never
	// cut). Zero or less: the CPU is not looked at.
	Idle float64
}

// DefaultPartPolicy is the policy of a run that names none. Loading as it
// goes pays where extraction waits on the API (8 x 10k records at 20 ms
// latency: 1.64x -> ~1.3-1.45x the time of the slowest resource alone), and
// costs where extraction already keeps every core busy (8 x 100k records on
// two cores: ~10-15% more time, as loading competes with it): hence the
// idle check.
var DefaultPartPolicy = PartPolicy{MinRows: 4 << 10, Every: 500 * time.Millisecond, Idle: 0.25}

// Due reports whether a resource that wrote rows rows since its last part,
// cut at since, should be loaded in a part now. Safe for concurrent use.
func (p PartPolicy) Due(rows int64, since time.Time) bool {
	if rows < p.MinRows || time.Since(since) < p.Every {
		return false
	}
	return p.Idle <= 0 || machineIdle.share() >= p.Idle
}

// cpuIdle samples the share of the machine's CPU time that was idle over
// the last quarter second or so, from /proc/stat; -1 where there is none.
type cpuIdle struct {
	mu          sync.Mutex
	at          time.Time
	idle, total uint64
	spare       float64
}

// machineIdle is the process's one sampler: /proc/stat describes the
// machine, so every run shares its readings.
var machineIdle = cpuIdle{spare: -1}

func (c *cpuIdle) share() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) < 250*time.Millisecond {
		return c.spare
	}
	idle, total, ok := readCPUTimes()
	if !ok {
		return -1
	}
	if c.total > 0 && total > c.total {
		c.spare = float64(idle-c.idle) / float64(total-c.total)
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
