package mockapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestFaultInjectionSequence(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want []int // status of data requests 1..len(want)
	}{
		{"none", Options{}, []int{200, 200, 200, 200}},
		{"429 every 3rd", Options{RateLimitEvery: 3}, []int{200, 200, 429, 200, 200, 429, 200}},
		{"429 bursts of 2 every 4", Options{RateLimitEvery: 4, BurstLen: 2}, []int{200, 200, 429, 429, 200, 200, 429, 429, 200}},
		{"5xx every 2nd cycles codes", Options{FaultEvery: 2}, []int{200, 500, 200, 502, 200, 503, 200, 504, 200, 500}},
		{"429 wins over 5xx", Options{RateLimitEvery: 4, FaultEvery: 2}, []int{200, 500, 200, 429, 200, 503, 200, 429}},
		{"same request faulted at most twice in a row", Options{FaultEvery: 1, MaxFaultStreak: 2}, []int{500, 502, 200, 504, 500, 200, 503}},
		{"default streak cap is three", Options{RateLimitEvery: 1}, []int{429, 429, 429, 200, 429, 429, 429, 200}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(tc.opts)
			tok := accessToken(t, s)
			var got []int
			var n429, n5xx int64
			for range tc.want {
				rec := get(t, s, tok, "/v2/templates?limit=5")
				got = append(got, rec.Code)
				switch {
				case rec.Code == 429:
					n429++
					if ra := rec.Header().Get("Retry-After"); ra != "1" {
						t.Errorf("429 Retry-After %q, want 1", ra)
					}
					if errorCode(t, rec) != "rate_limited" {
						t.Errorf("429 body %s", rec.Body)
					}
				case rec.Code >= 500:
					n5xx++
					if errorCode(t, rec) != "server_error" {
						t.Errorf("5xx body %s", rec.Body)
					}
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("statuses %v, want %v", got, tc.want)
			}
			want := Stats{DataRequests: int64(len(tc.want)), TokenRequests: 1, Served429: n429, Served5xx: n5xx}
			if st := s.Stats(); st != want {
				t.Errorf("stats %+v, want %+v", st, want)
			}
		})
	}
}

func TestRetryAfterValue(t *testing.T) {
	for _, ra := range []string{"0", "Wed, 21 Oct 2015 07:28:00 GMT"} {
		s := New(Options{RateLimitEvery: 1, RetryAfter: ra})
		rec := get(t, s, accessToken(t, s), "/v2/files")
		if rec.Code != 429 || rec.Header().Get("Retry-After") != ra {
			t.Errorf("status %d Retry-After %q, want 429 %q", rec.Code, rec.Header().Get("Retry-After"), ra)
		}
	}
}

func TestLatencyHonoursCancellation(t *testing.T) {
	s := New(Options{Latency: time.Hour})
	tok := accessToken(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v2/files", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req) // would block for an hour if cancellation were ignored
	if rec.Body.Len() != 0 {
		t.Errorf("cancelled request got a body: %.100s", rec.Body)
	}
	if st := s.Stats(); st.DataRequests != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestRateLimit: the bucket lets RateBurst requests through at once and
// answers the rest 429 with Retry-After, counted in Stats.
func TestRateLimit(t *testing.T) {
	s := New(Options{RateLimit: 0.5, RateBurst: 3, RetryAfter: "2"}) // refills one token in 2 s
	tok := accessToken(t, s)
	var codes []int
	for range 5 {
		rec := get(t, s, tok, "/v2/files?page=1")
		codes = append(codes, rec.Code)
		if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") != "2" {
			t.Errorf("Retry-After %q, want 2", rec.Header().Get("Retry-After"))
		}
	}
	if want := []int{200, 200, 200, 429, 429}; !slices.Equal(codes, want) {
		t.Errorf("statuses %v, want %v", codes, want)
	}
	if st := s.Stats(); st.Served429 != 2 || st.DataRequests != 5 {
		t.Errorf("stats %+v, want 2 of 5 requests answered 429", st)
	}
}
