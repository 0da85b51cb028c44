package httpclient

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// HostLimits bounds the load put on each host. The zero value is unlimited.
type HostLimits struct {
	// Concurrency is the most requests in flight to one host (0: no bound).
	Concurrency int
	// RequestsPerSecond is the steady request rate to one host (0: no
	// bound). After a 429 the host's rate is halved (down to a sixteenth of
	// this) and restored once SlowdownPeriod passes without another 429.
	RequestsPerSecond float64
}

// SlowdownPeriod is how long a host stays slowed down after its last 429.
const SlowdownPeriod = time.Minute

// hostState is the limiter state of one host.
type hostState struct {
	sem     chan struct{} // nil: no concurrency bound
	limiter *rate.Limiter // nil: no rate bound
	base    rate.Limit

	mu        sync.Mutex
	slowUntil time.Time
}

func (c *Client) host(h string) *hostState {
	c.hostsMu.Lock()
	defer c.hostsMu.Unlock()
	if s, ok := c.hosts[h]; ok {
		return s
	}
	if c.hosts == nil {
		c.hosts = make(map[string]*hostState)
	}
	s := &hostState{}
	if c.Limits.Concurrency > 0 {
		s.sem = make(chan struct{}, c.Limits.Concurrency)
	}
	if c.Limits.RequestsPerSecond > 0 {
		s.base = rate.Limit(c.Limits.RequestsPerSecond)
		burst := max(1, int(c.Limits.RequestsPerSecond))
		s.limiter = rate.NewLimiter(s.base, burst)
	}
	c.hosts[h] = s
	return s
}

// acquire takes a concurrency slot, then waits for the rate limiter.
func (s *hostState) acquire(ctx context.Context, now time.Time) error {
	if s.sem != nil {
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("waiting for a connection slot: %w", ctx.Err())
		}
	}
	if s.limiter != nil {
		s.mu.Lock()
		if !s.slowUntil.IsZero() && now.After(s.slowUntil) {
			s.slowUntil = time.Time{}
			s.limiter.SetLimit(s.base)
		}
		s.mu.Unlock()
		if err := s.limiter.Wait(ctx); err != nil {
			s.release()
			return fmt.Errorf("waiting for the rate limit: %w", err)
		}
	}
	return nil
}

func (s *hostState) release() {
	if s.sem != nil {
		<-s.sem
	}
}

// throttled halves the host's rate after a 429.
func (s *hostState) throttled(now time.Time) {
	if s.limiter == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slowUntil = now.Add(SlowdownPeriod)
	s.limiter.SetLimit(max(s.limiter.Limit()/2, s.base/16))
}

// Rate returns the current request rate limit for host, 0 when unlimited;
// it shows the effect of 429 slowdowns.
func (c *Client) Rate(host string) float64 {
	s := c.host(host)
	if s.limiter == nil {
		return 0
	}
	return float64(s.limiter.Limit())
}
