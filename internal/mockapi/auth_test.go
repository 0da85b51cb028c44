package mockapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTokenGrants(t *testing.T) {
	good := func(v url.Values) url.Values {
		v.Set("client_id", DefaultClientID)
		v.Set("client_secret", DefaultClientSecret)
		return v
	}
	tests := []struct {
		name      string
		form      url.Values
		basic     bool // send client id/secret via HTTP Basic instead of the form
		wantCode  int
		wantError string
	}{
		{"refresh grant", good(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {DefaultRefreshToken}}), false, 200, ""},
		{"client credentials", good(url.Values{"grant_type": {"client_credentials"}}), false, 200, ""},
		{"basic auth client", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {DefaultRefreshToken}}, true, 200, ""},
		{"wrong secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {DefaultRefreshToken},
			"client_id": {DefaultClientID}, "client_secret": {"nope"}}, false, 401, "invalid_client"},
		{"no client", url.Values{"grant_type": {"client_credentials"}}, false, 401, "invalid_client"},
		{"bad refresh token", good(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"stolen"}}), false, 400, "invalid_grant"},
		{"unknown grant", good(url.Values{"grant_type": {"password"}}), false, 400, "unsupported_grant_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Options{})
			req := httptest.NewRequest(http.MethodPost, "/v2/auth/token", strings.NewReader(tc.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.basic {
				req.SetBasicAuth(DefaultClientID, DefaultClientSecret)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tc.wantCode {
				t.Fatalf("status %d, want %d (body %s)", rec.Code, tc.wantCode, rec.Body)
			}
			if tc.wantError != "" {
				if got := errorCode(t, rec); got != tc.wantError {
					t.Errorf("error %q, want %q", got, tc.wantError)
				}
				return
			}
			var tr tokenResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil {
				t.Fatal(err)
			}
			if tr.AccessToken == "" || tr.TokenType != "bearer" || tr.ExpiresIn != 3600 || tr.RefreshToken != DefaultRefreshToken {
				t.Errorf("token response %+v", tr)
			}
			if rec := get(t, s, tr.AccessToken, "/v2/files?limit=1"); rec.Code != 200 {
				t.Errorf("data request with new token: status %d", rec.Code)
			}
			if st := s.Stats(); st.TokenRequests != 1 || st.DataRequests != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestAccessTokensAreDistinct(t *testing.T) {
	s := New(Options{})
	seen := map[string]bool{}
	for range 50 {
		tok := accessToken(t, s)
		if seen[tok] {
			t.Fatalf("token %q issued twice", tok)
		}
		seen[tok] = true
	}
}

func TestRefreshTokenRotation(t *testing.T) {
	s := New(Options{RotateRefreshToken: true})
	refresh := func(rt string) *httptest.ResponseRecorder {
		return postToken(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
			"client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}})
	}
	rt := DefaultRefreshToken
	for step := range 3 {
		rec := refresh(rt)
		if rec.Code != 200 {
			t.Fatalf("step %d: status %d body %s", step, rec.Code, rec.Body)
		}
		var tr tokenResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil {
			t.Fatal(err)
		}
		if tr.RefreshToken == rt || tr.RefreshToken == "" {
			t.Fatalf("step %d: refresh token not rotated: %q", step, tr.RefreshToken)
		}
		if old := refresh(rt); old.Code != 400 || errorCode(t, old) != "invalid_grant" {
			t.Fatalf("step %d: old refresh token still accepted: %d %s", step, old.Code, old.Body)
		}
		rt = tr.RefreshToken
	}
}

func TestNoRotationKeepsRefreshToken(t *testing.T) {
	s := New(Options{})
	for range 3 {
		rec := postToken(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {DefaultRefreshToken},
			"client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}})
		if rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
	}
}

// fakeClock is a settable clock for token expiry.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestTokenExpiry(t *testing.T) {
	clock := &fakeClock{now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := New(Options{TokenTTL: time.Minute, Now: clock.Now})
	tok := accessToken(t, s)
	if rec := get(t, s, tok, "/v2/teams"); rec.Code != 200 {
		t.Fatalf("fresh token: status %d", rec.Code)
	}
	clock.Advance(59 * time.Second)
	if rec := get(t, s, tok, "/v2/teams"); rec.Code != 200 {
		t.Fatalf("token before expiry: status %d", rec.Code)
	}
	clock.Advance(time.Second)
	rec := get(t, s, tok, "/v2/teams")
	if rec.Code != 401 || errorCode(t, rec) != "unauthorized" {
		t.Fatalf("expired token: status %d body %s", rec.Code, rec.Body)
	}
	if st := s.Stats(); st.Unauthorized != 1 || st.DataRequests != 2 {
		t.Errorf("stats %+v", st)
	}
	if rec := get(t, s, accessToken(t, s), "/v2/teams"); rec.Code != 200 {
		t.Errorf("new token after expiry: status %d", rec.Code)
	}
}

func TestDataRequiresBearer(t *testing.T) {
	s := New(Options{})
	for _, auth := range []string{"", "Bearer", "Bearer nope", "Basic ZGVtbzpkZW1v"} {
		req := httptest.NewRequest(http.MethodGet, "/v2/files", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 401 {
			t.Errorf("Authorization %q: status %d", auth, rec.Code)
		}
	}
	if st := s.Stats(); st.Unauthorized != 4 || st.DataRequests != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestConcurrentRotationAcceptsOldTokenOnce(t *testing.T) {
	s := New(Options{RotateRefreshToken: true})
	const n = 8
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			codes <- postToken(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {DefaultRefreshToken},
				"client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}}).Code
		})
	}
	wg.Wait()
	close(codes)
	ok := 0
	for c := range codes {
		if c == 200 {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent refreshes with the same token succeeded, want 1", ok, n)
	}
}

func TestConcurrentDataRequests(t *testing.T) {
	s := New(Options{Records: 200, FaultEvery: 5})
	tok := accessToken(t, s)
	var wg sync.WaitGroup
	for _, res := range s.Resources() {
		for range 5 {
			wg.Go(func() {
				if rec := get(t, s, tok, "/v2/"+res+"?limit=100&page=2"); rec.Code != 200 && rec.Code < 500 {
					t.Errorf("%s: status %d", res, rec.Code)
				}
			})
		}
	}
	wg.Wait()
	if st := s.Stats(); st.DataRequests != 40 || st.Served5xx != 8 {
		t.Errorf("stats %+v, want 40 data requests and 8 faults", st)
	}
}
