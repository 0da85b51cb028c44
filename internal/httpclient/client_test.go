package httpclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sleeper records the waits Do asks for instead of waiting.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

// script answers each request with the next status (the last one repeats).
func script(t *testing.T, statuses []int, header http.Header, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		st := statuses[min(i, len(statuses)-1)]
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(st)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func inRange(d, lo time.Duration) bool { return d >= lo && d <= lo+lo/10 }

func TestDoRetriesThenSucceeds(t *testing.T) {
	srv, n := script(t, []int{503, 502, 200}, nil, `ok`)
	s := &sleeper{}
	c := &Client{Policy: DefaultPolicy(), Sleep: s.sleep}
	req, _ := http.NewRequest("GET", srv.URL+"/v2/files", nil)
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "ok" || n.Load() != 3 {
		t.Fatalf("body %q after %d requests", b, n.Load())
	}
	if len(s.waits) != 2 || !inRange(s.waits[0], 2*time.Second) || !inRange(s.waits[1], 4*time.Second) {
		t.Fatalf("waits = %v, want about [2s 4s]", s.waits)
	}
}

func TestDoGivesUpWithStatusError(t *testing.T) {
	srv, n := script(t, []int{503}, nil, `{"error":"down"}`)
	s := &sleeper{}
	c := &Client{Policy: DefaultPolicy(), Sleep: s.sleep}
	req, _ := http.NewRequest("GET", srv.URL+"/v2/files?limit=100&page=3", nil)
	_, err := c.Do(context.Background(), req)
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *StatusError", err)
	}
	want := "GET " + srv.URL + `/v2/files?limit=100&page=3: 503 Service Unavailable after 4 attempts: {"error":"down"}`
	if err.Error() != want {
		t.Errorf("message\n got %s\nwant %s", err, want)
	}
	if se.Attempts != 4 || n.Load() != 4 || se.StatusCode != 503 || string(se.Content) != `{"error":"down"}` {
		t.Errorf("attempts %d, requests %d, status %d, content %q", se.Attempts, n.Load(), se.StatusCode, se.Content)
	}
	for i, lo := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second} {
		if i >= len(s.waits) || !inRange(s.waits[i], lo) {
			t.Fatalf("waits = %v, want about [2s 4s 8s]", s.waits)
		}
	}
}

func TestDoDoesNotRetryOtherStatuses(t *testing.T) {
	srv, n := script(t, []int{404}, nil, "no such thing")
	c := &Client{Policy: DefaultPolicy(), Sleep: (&sleeper{}).sleep}
	req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
	_, err := c.Do(context.Background(), req)
	want := "GET " + srv.URL + "/x: 404 Not Found: no such thing"
	if err == nil || err.Error() != want || n.Load() != 1 {
		t.Fatalf("err = %v after %d requests, want %s", err, n.Load(), want)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"seconds", "5", 5 * time.Second},
		{"zero waits the minimum", "0", time.Second},
		{"fraction below minimum", "0.2", time.Second},
		{"capped by max delay", "3600", 60 * time.Second},
		{"http date", now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second},
		{"date in the past", now.Add(-time.Hour).Format(http.TimeFormat), time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := script(t, []int{429, 200}, http.Header{"Retry-After": {tt.value}}, "")
			s := &sleeper{}
			c := &Client{Policy: DefaultPolicy(), Sleep: s.sleep, Now: func() time.Time { return now }}
			req, _ := http.NewRequest("GET", srv.URL, nil)
			resp, err := c.Do(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if len(s.waits) != 1 || s.waits[0] != tt.want {
				t.Fatalf("waits = %v, want [%v]", s.waits, tt.want)
			}
		})
	}
}

func TestBackoffCappedByMaxDelay(t *testing.T) {
	p := Policy{MaxRetries: 10, BackoffFactor: 2, MaxDelay: 10 * time.Second}
	got := []time.Duration{p.Backoff(0), p.Backoff(1), p.Backoff(2), p.Backoff(3), p.Backoff(60)}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("backoffs = %v, want %v", got, want)
		}
	}
	if d := p.wait(5, nil, time.Now()); d != 10*time.Second {
		t.Errorf("jittered wait %v exceeds MaxDelay", d)
	}
}

func TestDoConnectionError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &sleeper{}
	c := &Client{Policy: DefaultPolicy(), Sleep: s.sleep, Redactor: NewRedactor("hunter2")}
	req, _ := http.NewRequest("GET", "http://"+addr+"/v2/files?api_key=hunter2", nil)
	_, err = c.Do(context.Background(), req)
	var re *RequestError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want *RequestError", err)
	}
	prefix := "GET http://" + addr + "/v2/files?api_key=[REDACTED]: failed after 4 attempts: "
	if !strings.HasPrefix(err.Error(), prefix) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("message %q, want prefix %q and no secret", err, prefix)
	}
	if len(s.waits) != 3 {
		t.Errorf("waits = %v, want 3", s.waits)
	}
}

func TestDoStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(503)
		cancel()
	}))
	defer srv.Close()
	// No Sleep injected: the real wait (2s or more) must end with ctx.
	c := &Client{Policy: DefaultPolicy()}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	_, err := c.Do(ctx, req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestDoReplaysBody(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		first := len(bodies) == 1
		mu.Unlock()
		if first {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	c := &Client{Policy: DefaultPolicy(), Sleep: (&sleeper{}).sleep}
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(`{"page":2}`))
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(bodies) != 2 || bodies[0] != `{"page":2}` || bodies[1] != bodies[0] {
		t.Fatalf("bodies = %q", bodies)
	}
}

func TestDoRedactsErrorsAndLogs(t *testing.T) {
	srv, _ := script(t, []int{500}, nil, `{"error":"bad token s3cr3t-token"}`)
	var logs bytes.Buffer
	red := NewRedactor("s3cr3t-token")
	c := &Client{
		Policy:   Policy{MaxRetries: 1, StatusCodes: []int{500}},
		Sleep:    (&sleeper{}).sleep,
		Redactor: red,
		Logger:   slog.New(RedactHandler(slog.NewTextHandler(&logs, nil), red)),
	}
	req, _ := http.NewRequest("GET", srv.URL+"/a?token=s3cr3t-token&page=2", nil)
	_, err := c.Do(context.Background(), req)
	want := "GET " + srv.URL + `/a?token=[REDACTED]&page=2: 500 Internal Server Error after 2 attempts: {"error":"bad token [REDACTED]"}`
	if err == nil || err.Error() != want {
		t.Errorf("message\n got %v\nwant %s", err, want)
	}
	log := logs.String()
	for _, s := range []string{"level=WARN", "method=GET", "status=500", "attempt=1", "wait=1", "token=[REDACTED]&page=2"} {
		if !strings.Contains(log, s) {
			t.Errorf("log %q lacks %q", log, s)
		}
	}
	if strings.Contains(log, "s3cr3t") {
		t.Errorf("log leaks the secret: %s", log)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	var inflight, peak atomic.Int32
	entered := make(chan struct{}, 10)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		entered <- struct{}{}
		<-release
		inflight.Add(-1)
	}))
	defer srv.Close()
	c := &Client{Limits: HostLimits{Concurrency: 2}}
	const total = 6
	var wg sync.WaitGroup
	for range total {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", srv.URL, nil)
			resp, err := c.Do(context.Background(), req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	for range total {
		<-entered
		release <- struct{}{}
	}
	wg.Wait()
	if p := peak.Load(); p > 2 {
		t.Fatalf("peak concurrency %d, limit 2", p)
	}
}
