package httpclient

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestUnreachableHost: a refused connection is retried per policy without
// a warning per retry, an unknown host is not retried, and the error says
// once, with a hint to check base_url.
func TestUnreachableHost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/items"
	ln.Close()
	unknownHost := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "api.example.test", IsNotFound: true}}
	}}}
	for _, tc := range []struct {
		name     string
		http     *http.Client
		url      string
		attempts int
		want     string
	}{
		{"refused", nil, refused, 4, "failed after 4 attempts: dial tcp " + strings.TrimPrefix(strings.TrimSuffix(refused, "/items"), "http://") + ": connect: connection refused (nothing listens at " + strings.TrimPrefix(strings.TrimSuffix(refused, "/items"), "http://") + ": is the API running, and is source.client.base_url right?)"},
		{"unknown host", unknownHost, "http://api.example.test/items", 1, "GET http://api.example.test/items: dial tcp: lookup api.example.test: no such host (no host api.example.test: check source.client.base_url)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := &sleeper{}
			c := &Client{HTTP: tc.http, Policy: DefaultPolicy(), Sleep: s.sleep, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))}
			req, _ := http.NewRequest("GET", tc.url, nil)
			_, err := c.Do(context.Background(), req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant one containing %q", err, tc.want)
			}
			if got := len(s.waits) + 1; got != tc.attempts {
				t.Errorf("%d attempts, want %d", got, tc.attempts)
			}
			if logs.Len() != 0 {
				t.Errorf("retries of an unreachable host logged at info or above:\n%s", logs.String())
			}
		})
	}
}

// TestRetryWaitRounded: a retry warning prints its wait rounded for
// people (1.5s, not 1.503221877s).
func TestRetryWaitRounded(t *testing.T) {
	srv, _ := script(t, []int{503, 503, 503, 200}, nil, "")
	var logs bytes.Buffer
	c := &Client{Policy: Policy{MaxRetries: 3, BackoffFactor: 1.5, StatusCodes: []int{503}}, Sleep: (&sleeper{}).sleep,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waits := regexp.MustCompile(`wait=(\S+)`).FindAllStringSubmatch(logs.String(), -1)
	if len(waits) != 3 {
		t.Fatalf("%d retry warnings, want 3:\n%s", len(waits), logs.String())
	}
	for _, w := range waits {
		if !regexp.MustCompile(`^\d+(\.\d)?s$`).MatchString(w[1]) {
			t.Errorf("wait printed as %s, want seconds with at most one decimal", w[1])
		}
	}
	for d, want := range map[string]string{"1.503221877s": "1.5s", "12.7s": "13s", "15.2519ms": "15ms", "0s": "0s"} {
		pd, _ := time.ParseDuration(d)
		if got := roundWait(pd).String(); got != want {
			t.Errorf("roundWait(%s) = %s, want %s", d, got, want)
		}
	}
}
