package httpclient

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// vclock is a virtual clock: Sleep moves it on at once. Client and test
// server read the same clock, so a run of requests sent one after another
// is deterministic; no wall time is measured.
type vclock struct {
	mu sync.Mutex
	t  time.Time
}

func newVClock() *vclock { return &vclock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *vclock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *vclock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

// bucketAPI allows rate requests a second (a token bucket of burst
// requests on clk) and answers the rest 429, with Retry-After when
// retryAfter is set; headers, when set, adds rate-limit headers to every
// answer from the bucket's state. It counts what it answered.
type bucketAPI struct {
	*httptest.Server
	mu             sync.Mutex
	tokens         float64
	last           time.Time
	ok, tooMany    int
	rate, burst    float64
	clk            *vclock
	retryAfter     string
	headers        func(h http.Header, tokens float64, now time.Time)
	firstOK, ended time.Time
}

func newBucketAPI(t *testing.T, clk *vclock, rate, burst float64) *bucketAPI {
	a := &bucketAPI{rate: rate, burst: burst, tokens: burst, clk: clk, last: clk.now()}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		now := a.clk.now()
		a.tokens = min(a.burst, a.tokens+now.Sub(a.last).Seconds()*a.rate)
		a.last = now
		allowed := a.tokens >= 1
		if allowed {
			a.tokens--
		}
		if a.headers != nil {
			a.headers(w.Header(), a.tokens, now)
		}
		if !allowed {
			a.tooMany++
			if a.retryAfter != "" {
				w.Header().Set("Retry-After", a.retryAfter)
			}
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if a.ok == 0 {
			a.firstOK = now
		}
		a.ok++
		a.ended = now
		fmt.Fprint(w, `{}`)
	}))
	t.Cleanup(a.Close)
	return a
}

// get sends n requests one after another and fails the test on an error.
func (a *bucketAPI) get(t *testing.T, c *Client, n int) {
	t.Helper()
	for i := range n {
		req, _ := http.NewRequest("GET", a.URL+"/items?i="+strconv.Itoa(i), nil)
		if _, _, err := c.DoRead(context.Background(), req); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
}

// served returns the requests answered 200 and 429, and the rate the 200s
// came at (over the virtual clock).
func (a *bucketAPI) served() (ok, tooMany int, rate float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ok, a.tooMany, float64(a.ok-1) / a.ended.Sub(a.firstOK).Seconds()
}

// check fails t unless the API served at least minShare of its rate and
// answered at most max429 of the requests 429.
func (a *bucketAPI) check(t *testing.T, minShare, max429 float64) {
	t.Helper()
	ok, tooMany, rate := a.served()
	if rate < minShare*a.rate {
		t.Errorf("served at %.1f requests/s, want at least %.0f%% of the API's %g", rate, 100*minShare, a.rate)
	}
	if frac := float64(tooMany) / float64(ok+tooMany); frac > max429 {
		t.Errorf("%d of %d requests answered 429 (%.0f%%), want at most %.0f%%", tooMany, ok+tooMany, 100*frac, 100*max429)
	}
}

func pacedClient(clk *vclock, rps float64) *Client {
	return &Client{
		Policy: Policy{MaxRetries: 5, BackoffFactor: 0.01, StatusCodes: []int{429}, MaxDelay: time.Minute},
		Limits: HostLimits{RequestsPerSecond: rps},
		Sleep:  clk.sleep,
		Now:    clk.now,
	}
}

// TestRateIsReachedWithoutBursts: 95 requests/s against an API allowing
// 100 with no burst gets no 429, and reaches the configured rate.
func TestRateIsReachedWithoutBursts(t *testing.T) {
	clk := newVClock()
	a := newBucketAPI(t, clk, 100, 1)
	a.get(t, pacedClient(clk, 95), 300)
	ok, tooMany, rate := a.served()
	if tooMany != 0 || ok != 300 {
		t.Errorf("%d answered, %d of them 429, want 300 and none", ok, tooMany)
	}
	if rate < 0.9*95 || rate > 95.01 {
		t.Errorf("served at %.1f requests/s, want 90%% of 95 or more, and not above it", rate)
	}
}

// TestRateRecoversAfter429: against an API allowing half the configured
// rate, 429s cut the rate and it climbs back, so the API is kept busy (the
// old halving for a minute fell to a quarter of the configured rate), with
// few 429s.
func TestRateRecoversAfter429(t *testing.T) {
	clk := newVClock()
	a := newBucketAPI(t, clk, 20, 1)
	a.get(t, pacedClient(clk, 40), 400)
	a.check(t, 0.75, 0.08)
}

// TestAIMD: a 429 multiplies the rate by decreaseFactor once (not again for
// requests sent before the cut), and the rate then grows back linearly to
// the configured rate, and no further. (Nothing was served, so the served
// rate does not bound the cut.)
func TestAIMD(t *testing.T) {
	clk := newVClock()
	c := pacedClient(clk, 20)
	p := &c.host("api.test").pace
	_, gen := p.reserve(clk.now())
	_, gen2 := p.reserve(clk.now()) // a second request in flight
	clk.sleep(context.Background(), time.Second)
	p.tooMany(clk.now(), gen)
	if r := c.Rate("api.test"); r != 16 {
		t.Fatalf("rate after a 429 = %v, want 16", r)
	}
	p.tooMany(clk.now(), gen2) // the other request, sent before the cut
	if r := c.Rate("api.test"); r != 16 {
		t.Fatalf("rate after a second 429 of the same round = %v, want still 16", r)
	}
	clk.sleep(context.Background(), 500*time.Millisecond)
	if r := c.Rate("api.test"); math.Abs(r-18) > 1e-9 {
		t.Fatalf("rate half a second after = %v, want 18 (16 + 16*0.25/s * 0.5s)", r)
	}
	clk.sleep(context.Background(), 2*time.Second)
	if r := c.Rate("api.test"); r != 20 {
		t.Fatalf("rate 2.5 s after = %v, want back at the configured 20", r)
	}
	// A 429 to a request sent after the cut cuts again.
	_, later := p.reserve(clk.now())
	p.tooMany(clk.now(), later)
	if r := c.Rate("api.test"); r != 16 {
		t.Fatalf("rate after a later 429 = %v, want 16", r)
	}
}

// TestProbeIsGentleWithoutARate: without a configured rate the increase
// after a cut probes for the API's limit, by probePerSecond of the rate a
// second (a twentieth), not TestAIMD's quarter: climbing a quarter a
// second, the rate was back over the limit a fraction of a second after
// each cut.
func TestProbeIsGentleWithoutARate(t *testing.T) {
	t0 := newVClock().now()
	p := &pacer{rate: 100}
	_, gen := p.reserve(t0)
	if r := p.tooMany(t0, gen); r != 80 {
		t.Fatalf("rate after a 429 = %v, want 80", r)
	}
	if r := p.limit(t0.Add(time.Second)); math.Abs(r-84) > 1e-9 {
		t.Fatalf("rate a second after the cut = %v, want 84 (80 + 80*0.05/s)", r)
	}
	if r := p.limit(t0.Add(11 * time.Second)); math.Abs(r-124) > 1e-9 {
		t.Fatalf("rate 11 s after the cut = %v, want 124 (linear, no ceiling)", r)
	}
}

// TestSlotsTakenAgainAfterACut: requests waiting for slots given at the old
// pace take new slots at the pace of now.
func TestSlotsTakenAgainAfterACut(t *testing.T) {
	p := &pacer{ceiling: 10, rate: 10}
	now := newVClock().now()
	s1, g1 := p.reserve(now)
	s2, g2 := p.reserve(now)
	if !s2.Equal(s1.Add(100*time.Millisecond)) || !p.current(g1) {
		t.Fatalf("slots %v, %v: want 100ms apart, the first one current", s1, s2)
	}
	p.tooMany(now, g1)
	if p.current(g2) {
		t.Error("a slot given before a cut is still current")
	}
	if s3, g3 := p.reserve(now); !p.current(g3) || !s3.Equal(now.Add(125*time.Millisecond)) {
		t.Errorf("slot after the cut at %v, want one interval at the new 8/s from now", s3.Sub(now))
	}
}

// TestUnconfiguredHostLearns: without a configured rate, 429s start pacing
// the host, and it keeps most 429s away while serving near the API's rate.
func TestUnconfiguredHostLearns(t *testing.T) {
	clk := newVClock()
	a := newBucketAPI(t, clk, 50, 5)
	c := pacedClient(clk, 0)
	a.get(t, c, 500)
	a.check(t, 0.75, 0.10)
}

// TestRetryAfterStillWins: the retry of a 429 waits what Retry-After says,
// whatever the pacing.
func TestRetryAfterStillWins(t *testing.T) {
	clk := newVClock()
	a := newBucketAPI(t, clk, 1, 1)
	a.retryAfter = "7"
	s := &sleeper{}
	c := pacedClient(clk, 100)
	c.Sleep = func(ctx context.Context, d time.Duration) error {
		s.sleep(ctx, d)
		return clk.sleep(ctx, d)
	}
	a.get(t, c, 2)
	if len(s.waits) == 0 || s.waits[len(s.waits)-1] != 7*time.Second {
		t.Errorf("waits %v, want the last one Retry-After's 7s", s.waits)
	}
}

// TestRateLimitHeadersPace: an API that says how much of its quota remains
// is paced by it before any 429, whichever header style it uses.
func TestRateLimitHeadersPace(t *testing.T) {
	styles := map[string]func(h http.Header, remaining int, reset float64, now time.Time){
		"X-RateLimit seconds": func(h http.Header, rem int, reset float64, _ time.Time) {
			h.Set("X-RateLimit-Remaining", strconv.Itoa(rem))
			h.Set("X-RateLimit-Reset", strconv.FormatFloat(reset, 'f', 3, 64))
		},
		"X-RateLimit Unix time": func(h http.Header, rem int, reset float64, now time.Time) {
			h.Set("X-RateLimit-Remaining", strconv.Itoa(rem))
			h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(now.UnixMilli())/1e3+reset, 'f', 3, 64))
		},
		"RateLimit-Remaining": func(h http.Header, rem int, reset float64, _ time.Time) {
			h.Set("RateLimit-Remaining", strconv.Itoa(rem))
			h.Set("RateLimit-Reset", strconv.FormatFloat(reset, 'f', 3, 64))
		},
		"RateLimit draft 7": func(h http.Header, rem int, reset float64, _ time.Time) {
			h.Set("RateLimit", fmt.Sprintf("limit=20, remaining=%d, reset=%.3f", rem, reset))
		},
		"RateLimit structured": func(h http.Header, rem int, reset float64, _ time.Time) {
			h.Set("RateLimit-Policy", `"burst";q=20;w=1`)
			h.Set("RateLimit", fmt.Sprintf(`"burst";r=%d;t=%.3f, "daily";r=100000;t=80000`, rem, reset))
		},
	}
	for name, set := range styles {
		t.Run(name, func(t *testing.T) {
			clk := newVClock()
			// 20 requests a second, all at once (a fixed window): no
			// pacing without the headers would draw 429s.
			a := newBucketAPI(t, clk, 20, 20)
			a.headers = func(h http.Header, tokens float64, now time.Time) {
				set(h, int(tokens), (a.burst-tokens)/a.rate, now)
			}
			a.get(t, pacedClient(clk, 0), 100)
			if ok, tooMany, _ := a.served(); tooMany != 0 {
				t.Errorf("%d of %d requests answered 429, want none", tooMany, ok+tooMany)
			}
		})
	}
}

func TestRateLimitHeaders(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		h         map[string]string
		wantRem   float64
		wantReset time.Duration
		wantOK    bool
	}{
		{"none", nil, 0, 0, false},
		{"seconds", map[string]string{"X-RateLimit-Remaining": "10", "X-RateLimit-Reset": "5"}, 10, 5 * time.Second, true},
		{"unix seconds", map[string]string{"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": strconv.FormatInt(now.Unix()+30, 10)}, 3, 30 * time.Second, true},
		{"unix milliseconds", map[string]string{"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": strconv.FormatInt(now.UnixMilli()+1500, 10)}, 3, 1500 * time.Millisecond, true},
		{"reset in the past", map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Unix()-30, 10)}, 0, 0, false},
		{"negative remaining", map[string]string{"X-RateLimit-Remaining": "-1", "X-RateLimit-Reset": "5"}, 0, 0, false},
		{"garbage", map[string]string{"X-RateLimit-Remaining": "lots", "X-RateLimit-Reset": "soon"}, 0, 0, false},
		{"NaN", map[string]string{"X-RateLimit-Remaining": "NaN", "X-RateLimit-Reset": "5"}, 0, 0, false},
		{"only remaining", map[string]string{"X-RateLimit-Remaining": "5"}, 0, 0, false},
		{"draft 6", map[string]string{"RateLimit-Remaining": "4", "RateLimit-Reset": "2"}, 4, 2 * time.Second, true},
		{"draft 7", map[string]string{"RateLimit": "limit=100, remaining=50, reset=10"}, 50, 10 * time.Second, true},
		{"structured, the tighter policy", map[string]string{"RateLimit": `"a";r=50;t=10, "b";r=2;t=10`}, 2, 10 * time.Second, true},
		{"the tighter of two styles", map[string]string{"X-RateLimit-Remaining": "100", "X-RateLimit-Reset": "1", "RateLimit": `"a";r=1;t=1`}, 1, time.Second, true},
		{"huge reset", map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1e300"}, 0, time.Duration(math.MaxInt64), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.h {
				h.Set(k, v)
			}
			rem, reset, ok := rateLimitHeaders(h, now)
			if ok != tt.wantOK || (ok && (rem != tt.wantRem || reset != tt.wantReset)) {
				t.Errorf("rateLimitHeaders = %v, %v, %v; want %v, %v, %v", rem, reset, ok, tt.wantRem, tt.wantReset, tt.wantOK)
			}
		})
	}
}

// TestRateLimitHoldIsCapped: a quota spent with a reset far away holds the
// host no longer than the retry policy's longest wait.
func TestRateLimitHoldIsCapped(t *testing.T) {
	clk := newVClock()
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "99999999") // days away, in seconds
	}))
	t.Cleanup(srv.Close)
	s := &sleeper{}
	c := pacedClient(clk, 0)
	c.Policy.MaxDelay = 30 * time.Second
	c.Sleep = func(ctx context.Context, d time.Duration) error {
		s.sleep(ctx, d)
		return clk.sleep(ctx, d)
	}
	for range 2 {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if _, _, err := c.DoRead(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.waits) != 1 || s.waits[0] != 30*time.Second {
		t.Errorf("waits %v, want one of 30s (retry.max_delay)", s.waits)
	}
}

// TestHostsShared: clients given one Hosts pace a host together.
func TestHostsShared(t *testing.T) {
	clk := newVClock()
	a := newBucketAPI(t, clk, 10, 1)
	hosts := NewHosts(HostLimits{RequestsPerSecond: 10})
	var clients []*Client
	for range 3 {
		c := pacedClient(clk, 0)
		c.Hosts = hosts
		clients = append(clients, c)
	}
	for i := range 60 {
		a.get(t, clients[i%3], 1)
	}
	if ok, tooMany, _ := a.served(); tooMany != 0 {
		t.Errorf("%d of %d requests answered 429: the clients did not share the host's pace", tooMany, ok+tooMany)
	}
	if host := strings.TrimPrefix(a.URL, "http://"); clients[0].Rate(host) != 10 || clients[2].Rate(host) != 10 {
		t.Errorf("rates %v, %v, want 10", clients[0].Rate(host), clients[2].Rate(host))
	}
}

// TestSlowStartGrowsWithAnswers: a host without a configured rate, first
// cut from a low estimate, grows back with each answer (by a tenth, up to
// twice the rate it serves), not with time: waiting out a Retry-After
// raises nothing.
func TestSlowStartGrowsWithAnswers(t *testing.T) {
	t0 := newVClock().now()
	p := &pacer{}
	_, gen := p.reserve(t0)
	p.ok(t0.Add(100 * time.Millisecond))
	p.ok(t0.Add(200 * time.Millisecond))
	// Two answers in the 500 ms since the first request: 4/s, cut to 3.6
	// (the served rate bounds the cut: 90% of 4).
	if r := p.tooMany(t0.Add(500*time.Millisecond), gen); math.Abs(r-3.6) > 1e-9 {
		t.Fatalf("first cut to %v, want 3.6", r)
	}
	p.mu.Lock()
	idle := p.limit(t0.Add(3 * time.Second))
	p.mu.Unlock()
	if math.Abs(idle-3.6) > 1e-9 {
		t.Errorf("rate after 2.5 s without answers = %v, want still 3.6", idle)
	}
	// Answers 10 ms apart: each raises the rate by at most a tenth, and
	// never past twice the rate served in the last second.
	prev := idle
	for i := range 60 {
		at := t0.Add(3*time.Second + time.Duration(i)*10*time.Millisecond)
		p.ok(at)
		p.mu.Lock()
		r := p.limit(at)
		p.mu.Unlock()
		served := float64(i + 1) // answers in the last second, per second
		if r > prev*1.1+1e-9 || (r > prev && r > 2*served+1e-9) {
			t.Fatalf("answer %d raised the rate from %v to %v (%v/s served)", i+1, prev, r, served)
		}
		prev = r
	}
	if prev < 50 {
		t.Errorf("rate after 60 answers in 0.6 s = %v, want it grown to at least 50", prev)
	}
}

// TestCutsStopNearTheServedRate: 429s that keep coming for requests sent
// after each cut (slow start overshot) cut the rate by a fifth while it is
// well above what the host served in the last second, then by 5% only, so
// no cut lands far below 90% of the served rate.
func TestCutsStopNearTheServedRate(t *testing.T) {
	t0 := newVClock().now()
	p := &pacer{rate: 1000, step: 1, grown: t0.Add(time.Second)}
	p.reserve(t0)
	for i := range 100 { // 100 answers in the last second
		p.ok(t0.Add(time.Duration(i) * 10 * time.Millisecond))
	}
	now := t0.Add(time.Second)
	rate := 1000.0
	for i := range 20 {
		_, gen := p.reserve(now)
		r := p.tooMany(now, gen)
		switch {
		case i == 0 && math.Abs(r-800) > 1e-9:
			t.Fatalf("first cut from 1000 to %v, want 800", r)
		case r > 0.95*rate+1e-9:
			t.Fatalf("a cut from %v to %v, want at least 5%% less", rate, r)
		case rate > 90 && r < 0.95*90-1e-9:
			t.Fatalf("a cut from %v to %v, want none far below the 90/s that is 90%% of the served rate", rate, r)
		case rate <= 90 && math.Abs(r-0.95*rate) > 1e-9:
			t.Fatalf("a cut from %v to %v, want 5%% below 90%% of the served rate", rate, r)
		}
		rate = r
	}
}

// TestNewHostRampsUp: a host with no configured rate or concurrency gets
// at most initialWindow requests before it has answered any, then one
// more for each answer; every request gets through.
func TestNewHostRampsUp(t *testing.T) {
	var mu sync.Mutex
	answered, early := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if answered == 0 {
			early++
		}
		mu.Unlock()
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		answered++
		mu.Unlock()
		fmt.Fprint(w, `{}`)
	}))
	defer srv.Close()
	c := &Client{Policy: Policy{MaxRetries: 0}}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", srv.URL+"/items?i="+strconv.Itoa(i), nil)
			if _, _, err := c.DoRead(context.Background(), req); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if early > initialWindow || answered != 40 {
		t.Errorf("%d requests reached the server before the first answer, want at most %d; %d answered, want 40", early, initialWindow, answered)
	}
}
