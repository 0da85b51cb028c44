package httpclient

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HostLimits bounds the load put on each host. The zero value is unlimited.
type HostLimits struct {
	// Concurrency is the most requests in flight to one host (0: no bound).
	Concurrency int
	// RequestsPerSecond is the steady request rate to one host (0: no
	// bound), kept without bursts: one request every 1/RequestsPerSecond.
	// A 429 lowers it (see pacer) and it climbs back.
	RequestsPerSecond float64
}

// How a host's rate moves with 429s (additive increase, multiplicative
// decrease): a 429 multiplies the rate by decreaseFactor, at most once per
// round trip (429s to requests sent before the last cut do not cut it
// again) and never below servedShare of the rate the host answered in the
// last second (estimateWindow); it then grows back by increasePerSecond of
// itself each second, up to the configured rate (by probePerSecond without
// one). A host without a
// configured rate is not paced until its first 429, which starts pacing it
// at the rate it was served at lately, once it served at least
// minEstimateServed requests, and then raises that by slowStartPerOK of
// itself for each request answered without a 429 until the next 429 (slow
// start: the rate grows as fast as it is put to use, not while requests
// wait out a Retry-After).
const (
	decreaseFactor    = 0.8
	increasePerSecond = 0.25
	// probePerSecond is increasePerSecond for a host without a configured
	// rate: there the increase probes for a limit no one told, and a
	// quarter a second was back over it within a fraction of a second
	// after each cut, so 429s came all through a run and one met near
	// the end held its page a Retry-After past the rest (bench/,
	// ratelimit-none, 6 runs each: x1.11-1.43 of the ideal time with a
	// quarter, x1.08-1.30 with a twentieth).
	probePerSecond    = 0.05
	slowStartPerOK    = 0.1
	servedShare       = 0.9
	servedCut         = 0.95 // a cut the served rate bounds still cuts this much
	estimateWindow    = time.Second
	minEstimateWindow = 100 * time.Millisecond
	// floorDivisor bounds the decrease: never below the configured rate
	// over it, or minUnconfiguredRate without one.
	floorDivisor        = 16
	minUnconfiguredRate = 1.0
	minEstimateServed   = 2
	// maxReserves bounds how many times one request takes a new slot.
	maxReserves = 4
)

// hostState is the limiter state of one host.
type hostState struct {
	sem  chan struct{} // nil: no concurrency bound
	win  window
	pace pacer
}

// A host with neither a configured rate nor a concurrency bound starts
// with initialWindow requests in flight at most; each answer without a
// 429 opens the window by one (so it doubles each round trip), until it
// reaches maxWindow or the first 429 hands the host to the pacer, and the
// window is gone. A run that starts all its resources and their pages
// ahead at once (8 x 8 by default) would otherwise send them in one burst
// before the API could answer a single 429, and each request it refused
// would wait out a Retry-After.
const (
	initialWindow = 10
	maxWindow     = 256
)

// window bounds the requests in flight to one host while it is new (see
// initialWindow). Safe for concurrent use.
type window struct {
	mu       sync.Mutex
	size     int // 0: no bound
	inflight int
	wake     chan struct{} // closed when a request leaves or the window opens
}

// enter waits until the window has room for one more request.
func (w *window) enter(ctx context.Context) error {
	for {
		w.mu.Lock()
		if w.size == 0 || w.inflight < w.size {
			w.inflight++
			w.mu.Unlock()
			return nil
		}
		if w.wake == nil {
			w.wake = make(chan struct{})
		}
		wake := w.wake
		w.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("waiting for a request slot: %w", ctx.Err())
		}
	}
}

// leave ends a request that entered: answered without a 429 opens the
// window by one, a 429 opens it for good (the pacer takes over).
func (w *window) leave(answered, tooMany bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inflight--
	if w.size > 0 {
		switch {
		case tooMany:
			w.size = 0
		case answered:
			if w.size++; w.size >= maxWindow {
				w.size = 0
			}
		}
	}
	if w.wake != nil {
		close(w.wake)
		w.wake = nil
	}
}

// Hosts holds the limits of each host: its concurrency slots and its
// pacing. Clients that share one (Client.Hosts) share each host's limits,
// so every resource of a run, whichever auth its client has, counts
// against the same rate. Safe for concurrent use; the zero value is
// unlimited.
type Hosts struct {
	limits HostLimits
	mu     sync.Mutex
	m      map[string]*hostState
}

// NewHosts returns the limits of hosts, each bounded by l.
func NewHosts(l HostLimits) *Hosts { return &Hosts{limits: l} }

func (hs *Hosts) host(h string) *hostState {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if s, ok := hs.m[h]; ok {
		return s
	}
	if hs.m == nil {
		hs.m = make(map[string]*hostState)
	}
	s := &hostState{pace: pacer{ceiling: hs.limits.RequestsPerSecond, rate: hs.limits.RequestsPerSecond}}
	if hs.limits.Concurrency > 0 {
		s.sem = make(chan struct{}, hs.limits.Concurrency)
	} else if hs.limits.RequestsPerSecond == 0 {
		s.win.size = initialWindow
	}
	hs.m[h] = s
	return s
}

func (c *Client) host(h string) *hostState {
	if c.Hosts != nil {
		return c.Hosts.host(h)
	}
	c.ownOnce.Do(func() { c.own.limits = c.Limits })
	return c.own.host(h)
}

// acquire takes a concurrency slot, then waits for the host's next request
// slot (see pacer.reserve). It returns the pacing generation the request
// went out in, which tooMany needs.
func (s *hostState) acquire(ctx context.Context, clock func() time.Time, sleep func(context.Context, time.Duration) error) (uint64, error) {
	now := clock()
	if s.sem != nil {
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for a connection slot: %w", ctx.Err())
		}
	}
	if err := s.win.enter(ctx); err != nil {
		if s.sem != nil {
			<-s.sem
		}
		return 0, err
	}
	for try := 0; ; try++ {
		slot, gen := s.pace.reserve(now)
		if d := slot.Sub(now); d > 0 {
			if err := sleep(ctx, d); err != nil {
				s.release()
				return 0, fmt.Errorf("waiting for the rate limit: %w", ctx.Err())
			}
			now = clock()
		}
		// A slot given before the last cut is taken again at the pace of
		// now.
		if try == maxReserves-1 || s.pace.current(gen) {
			return gen, nil
		}
	}
}

// release gives back what acquire took, for a request that was not sent.
func (s *hostState) release() { s.done(false, false) }

// done gives back what acquire took once the request is answered (or
// failed): answered without a 429, or answered 429.
func (s *hostState) done(answered, tooMany bool) {
	s.win.leave(answered, tooMany)
	if s.sem != nil {
		<-s.sem
	}
}

// pacer spaces one host's requests: a request slot every 1/rate, no burst
// (a slot not taken is lost), at the lowest of the configured rate (as AIMD
// moves it after 429s) and the rate the API's rate-limit headers allow.
// Its methods are safe for concurrent use; time comes from the caller.
type pacer struct {
	mu      sync.Mutex
	ceiling float64 // the configured rate; 0: none
	rate    float64 // the rate now; 0: not paced (no configured rate, no 429 yet)
	step    float64 // additive increase, requests/s per second
	// slowStart: the last cut was made from an estimate; until the next
	// one, each answer without a 429 raises the rate by slowStartPerOK of
	// itself.
	slowStart bool
	grown     time.Time
	gen       uint64    // cuts so far
	next      time.Time // the next free slot

	// served holds when the requests of the last estimateWindow were
	// answered without a 429 (see servedRate).
	served []time.Time
	first  time.Time // the first slot given

	// From the API's rate-limit headers: quota requests/s until quotaEnd,
	// and nothing before hold.
	quota    float64
	quotaEnd time.Time
	hold     time.Time
}

// grow applies the additive increase up to now. Called with mu held.
func (p *pacer) grow(now time.Time) {
	if p.rate == 0 || p.step == 0 || !now.After(p.grown) {
		return
	}
	if !p.slowStart {
		p.rate += p.step * now.Sub(p.grown).Seconds()
	}
	p.grown = now
	if p.ceiling > 0 && p.rate >= p.ceiling {
		p.rate, p.step = p.ceiling, 0
	}
}

// limit is the rate requests go at now (0: not paced). Called with mu held.
func (p *pacer) limit(now time.Time) float64 {
	p.grow(now)
	r := p.rate
	if p.quota > 0 && now.Before(p.quotaEnd) && (r == 0 || p.quota < r) {
		r = p.quota
	}
	return r
}

// reserve takes the next request slot and returns its time (now, or later
// to wait for) and the pacing generation it belongs to.
func (p *pacer) reserve(now time.Time) (time.Time, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	slot := now
	if p.hold.After(slot) {
		slot = p.hold
	}
	r := p.limit(now)
	if r > 0 {
		if p.next.After(slot) {
			slot = p.next
		}
		p.next = slot.Add(time.Duration(float64(time.Second) / r))
	}
	if p.first.IsZero() {
		p.first = slot
	}
	return slot, p.gen
}

// current reports whether a request given a slot in generation gen may
// go: there was no cut since. (A request woken up late still goes: taking
// a new slot would lose its own, and on a busy machine most wake up late.)
func (p *pacer) current(gen uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return gen == p.gen
}

// ok counts a request answered without a 429.
func (p *pacer) ok(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cutoff := now.Add(-estimateWindow)
	i := 0
	for i < len(p.served) && p.served[i].Before(cutoff) {
		i++
	}
	p.served = append(p.served[i:], now)
	if p.slowStart {
		// Up to twice what the host serves now: the rate is not the only
		// bound on requests (concurrency, the pages left), and a rate far
		// above what is sent tells nothing and falls with many cuts.
		served, _ := p.servedRate(now)
		p.rate = max(p.rate, min(p.rate*(1+slowStartPerOK), 2*served))
	}
}

// servedRate is the rate the host answered without a 429 lately (over the
// last estimateWindow, or since the first request when that is shorter),
// and how many answers that counts. Called with mu held.
func (p *pacer) servedRate(now time.Time) (float64, int) {
	window := min(max(now.Sub(p.first), minEstimateWindow), estimateWindow)
	// served is in time order (as ok trims it; answers stamped within
	// microseconds of each other may swap, which moves the count by
	// those): count from the first answer in the window
	// (ok calls this for every answer during slow start; a scan of a
	// second's answers each time would grow with the square of the rate).
	from := now.Add(-window)
	i, _ := slices.BinarySearchFunc(p.served, from, func(t, from time.Time) int { return t.Compare(from) })
	n := len(p.served) - i
	return float64(n) / window.Seconds(), n
}

// tooMany lowers the rate after a 429 to a request sent in generation gen:
// by decreaseFactor, once per round trip (a request sent before the last
// cut does not cut again), and never below servedShare of the rate the
// host answered lately. It returns the new rate, 0 when it did not change.
func (p *pacer) tooMany(now time.Time, gen uint64) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen {
		return 0 // sent before the last cut: that cut answered it
	}
	cur := p.limit(now)
	p.slowStart = false
	served, n := p.servedRate(now)
	if cur == 0 {
		// Not paced yet: start from the rate the host served lately, if
		// it served any (a first request answered 429 tells no rate:
		// Retry-After alone decides then).
		if n < minEstimateServed {
			return 0
		}
		cur = max(served, minUnconfiguredRate)
		// That estimate is a floor more than a measure: early in a run
		// few answers are in when the first 429s come (against the
		// bench's API allowing 100/s it read 16-20/s, and growing back
		// by a quarter of that a second took 10 s). So the rate grows
		// by slowStartPerOK of itself with every answer until the next
		// 429 shows where the API's limit is.
		p.slowStart = true
	}
	floor := minUnconfiguredRate
	if p.ceiling > 0 {
		floor = p.ceiling / floorDivisor
	}
	// The served rate bounds the cut from below: 429s to requests sent
	// just before a cut keep coming for a round trip, and cutting on each
	// took the rate far below what the API serves (from slow start's
	// overshoot to 1470/s, down to 44/s against an API allowing 100/s).
	p.rate = max(cur*decreaseFactor, floor, min(served*servedShare, cur*servedCut))
	p.step = p.rate * increasePerSecond
	if p.ceiling == 0 {
		p.step = p.rate * probePerSecond
	}
	p.grown = now
	p.gen++
	// Slots given before are taken again (see current): the next goes one
	// new interval from now.
	p.next = now.Add(time.Duration(float64(time.Second) / p.rate))
	return p.rate
}

// observe reads the API's rate-limit headers: what remains of its quota
// and when the quota resets paces the host so the remainder lasts until
// then; nothing remaining holds the host until the reset. Resets are capped
// at maxWait (the retry policy's longest wait); values that do not parse,
// are negative or reset in the past are ignored.
func (p *pacer) observe(h http.Header, now time.Time, maxWait time.Duration) {
	remaining, reset, ok := rateLimitHeaders(h, now)
	if !ok {
		return
	}
	reset = min(reset, maxWait)
	p.mu.Lock()
	defer p.mu.Unlock()
	end := now.Add(reset)
	if remaining <= 0 {
		if end.After(p.hold) {
			p.hold = end
		}
		return
	}
	p.quota, p.quotaEnd = remaining/reset.Seconds(), end
}

// Rate returns the current request rate limit for host, 0 when it is not
// paced; it shows the effect of 429s and rate-limit headers.
func (c *Client) Rate(host string) float64 {
	p := &c.host(host).pace
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limit(c.now())
}

// rateLimitHeaders reads how many requests remain and when the quota
// resets, from the most restrictive of: X-RateLimit-Remaining and
// X-RateLimit-Reset (seconds, or a Unix time in seconds or milliseconds),
// the IETF draft's RateLimit-Remaining and RateLimit-Reset (seconds), and
// its RateLimit field (`limit=100, remaining=5, reset=3`, or the later
// drafts' `"policy";r=5;t=3`, one item per policy). ok is false when no
// usable pair was sent; reset is then above zero.
func rateLimitHeaders(h http.Header, now time.Time) (remaining float64, reset time.Duration, ok bool) {
	consider := func(rem, res string) {
		r, err := strconv.ParseFloat(strings.TrimSpace(rem), 64)
		if err != nil || r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
			return
		}
		d, good := resetIn(res, now)
		if !good {
			return
		}
		// Keep the pair that allows the lowest rate.
		if !ok || r/d.Seconds() < remaining/reset.Seconds() {
			remaining, reset, ok = r, d, true
		}
	}
	for _, prefix := range []string{"X-RateLimit-", "RateLimit-", "X-Rate-Limit-"} {
		if rem, res := h.Get(prefix+"Remaining"), h.Get(prefix+"Reset"); rem != "" && res != "" {
			consider(rem, res)
		}
	}
	for _, field := range h.Values("RateLimit") {
		var rem7, res7 string // draft 7: one list of key=value for one policy
		for item := range strings.SplitSeq(field, ",") {
			var rem, res string
			for param := range strings.SplitSeq(item, ";") {
				k, v, found := strings.Cut(strings.TrimSpace(param), "=")
				if !found {
					continue
				}
				v = strings.Trim(strings.TrimSpace(v), `"`)
				switch strings.ToLower(strings.TrimSpace(k)) {
				case "r":
					rem = v
				case "t":
					res = v
				case "remaining":
					rem7 = v
				case "reset":
					res7 = v
				}
			}
			if rem != "" && res != "" {
				consider(rem, res)
			}
		}
		if rem7 != "" && res7 != "" {
			consider(rem7, res7)
		}
	}
	return remaining, reset, ok
}

// resetIn reads a reset value: seconds from now, or a Unix time in seconds
// (above 1e9) or milliseconds (above 1e12). A reset that is not after now
// is not usable.
func resetIn(v string, now time.Time) (time.Duration, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 {
		return 0, false
	}
	secs := f
	switch {
	case f > 1e12:
		secs = f/1e3 - float64(now.UnixNano())/1e9
	case f > 1e9:
		secs = f - float64(now.UnixNano())/1e9
	}
	if secs <= 0 {
		return 0, false
	}
	if secs > float64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(math.MaxInt64), true
	}
	return time.Duration(secs * float64(time.Second)), true
}
