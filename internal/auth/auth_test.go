package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// seen is what a server received.
type seen struct {
	mu   sync.Mutex
	reqs []*http.Request
	body []string
}

func (s *seen) add(r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r)
	s.body = append(s.body, string(b))
}

func (s *seen) last() *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs[len(s.reqs)-1]
}

// recorder is an API server that records requests and answers 200.
func recorder(t *testing.T) (*httptest.Server, *seen) {
	s := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.add(r)
		io.WriteString(w, `{}`)
	}))
	t.Cleanup(srv.Close)
	return srv, s
}

func host(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

// otherHost is srv's address under a different host name (still loopback).
func otherHost(srv *httptest.Server) string {
	return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
}

func get(t *testing.T, rt http.RoundTripper, u string) *http.Response {
	t.Helper()
	resp, err := (&http.Client{Transport: rt}).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestStaticCredentialsOnTheWire(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("ann:p4ss"))
	tests := []struct {
		name   string
		cfg    Config
		header string // header checked
		want   string
		query  string // expected raw query, when checked
	}{
		{"bearer", Config{Type: "bearer", Token: "tok1"}, "Authorization", "Bearer tok1", "limit=5"},
		{"api_key default name", Config{Type: "api_key", APIKey: "k1"}, "Authorization", "k1", "limit=5"},
		{"api_key header", Config{Type: "api_key", Name: "X-API-Key", APIKey: "k1", Location: "header"}, "X-Api-Key", "k1", "limit=5"},
		{"api_key query", Config{Type: "api_key", Name: "api_key", APIKey: "k/1", Location: "query"}, "Authorization", "", "api_key=k%2F1&limit=5"},
		{"api_key cookie", Config{Type: "api_key", Name: "session", APIKey: "k1", Location: "cookie"}, "Cookie", "session=k1", "limit=5"},
		{"http_basic", Config{Type: "http_basic", Username: "ann", Password: "p4ss"}, "Authorization", basic, "limit=5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, s := recorder(t)
			rt, err := New(&tt.cfg, nil, host(srv), Options{})
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", srv.URL+"/v2/files?limit=5", nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := s.last()
			if v := got.Header.Get(tt.header); v != tt.want {
				t.Errorf("%s = %q, want %q", tt.header, v, tt.want)
			}
			if got.URL.RawQuery != tt.query {
				t.Errorf("query = %q, want %q", got.URL.RawQuery, tt.query)
			}
			if len(req.Header) != 0 || req.URL.RawQuery != "limit=5" {
				t.Errorf("caller's request was modified: %v %s", req.Header, req.URL)
			}
			// The same credentials must not reach another host.
			get(t, rt, otherHost(srv)+"/next?limit=5")
			foreign := s.last()
			if foreign.Header.Get("Authorization") != "" || foreign.Header.Get("Cookie") != "" ||
				foreign.Header.Get("X-Api-Key") != "" || foreign.URL.RawQuery != "limit=5" {
				t.Errorf("foreign host got credentials: %v %s", foreign.Header, foreign.URL)
			}
		})
	}
}

func TestRedirectToOtherHostDropsCredentials(t *testing.T) {
	other, s := recorder(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherHost(other)+"/landed", http.StatusFound)
	}))
	defer api.Close()
	for _, cfg := range []Config{
		{Type: "bearer", Token: "tok1"},
		{Type: "api_key", Name: "X-Key", APIKey: "k1"},
		{Type: "api_key", Name: "key", APIKey: "k1", Location: "query"},
	} {
		rt, err := New(&cfg, nil, host(api), Options{})
		if err != nil {
			t.Fatal(err)
		}
		get(t, rt, api.URL+"/start")
		got := s.last()
		if got.URL.Path != "/landed" || got.Header.Get("Authorization") != "" || got.Header.Get("X-Key") != "" || got.URL.RawQuery != "" {
			t.Errorf("%s: redirected request carried credentials: %v %s", cfg.Type, got.Header, got.URL)
		}
	}
}

// tokenServer is an OAuth2 token endpoint plus an API that accepts only the
// latest token it issued.
type tokenServer struct {
	srv       *httptest.Server
	mu        sync.Mutex
	forms     []url.Values
	basic     []string
	issued    int
	current   string
	expiresIn string // JSON fragment, "" for none
	rotate    bool
	fail      string // error code to answer with
	refuse    bool   // the API refuses every token
	data      *seen
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{expiresIn: `,"expires_in":3600`, data: &seen{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		ts.mu.Lock()
		defer ts.mu.Unlock()
		ts.forms = append(ts.forms, r.PostForm)
		ts.basic = append(ts.basic, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		if ts.fail != "" {
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"error":%q}`, ts.fail)
			return
		}
		ts.issued++
		ts.current = fmt.Sprintf("access%d", ts.issued)
		refresh := ""
		if ts.rotate {
			refresh = fmt.Sprintf(`,"refresh_token":"rt%d"`, ts.issued)
		}
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"bearer"%s%s}`, ts.current, ts.expiresIn, refresh)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		ts.data.add(r)
		ts.mu.Lock()
		ok := r.Header.Get("Authorization") == "Bearer "+ts.current && !ts.refuse
		ts.mu.Unlock()
		if !ok {
			w.WriteHeader(401)
			return
		}
		io.WriteString(w, `{"entries":[]}`)
	})
	ts.srv = httptest.NewServer(mux)
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tokenServer) tokenRequests() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.forms)
}

func (ts *tokenServer) form(i int) url.Values {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.forms[i]
}

// clocks holds the fake clock of each test that made one (fakeClock).
var clocks sync.Map // *testing.T -> *time.Time

// fakeClock makes a clock for one test, which withClock injects into the
// Options of the auth the test builds; the test moves it by writing to it.
func fakeClock(t *testing.T) *time.Time {
	t.Helper()
	clock := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clocks.Store(t, &clock)
	t.Cleanup(func() { clocks.Delete(t) })
	return &clock
}

// withClock sets opts.Now to t's fake clock, when it has one.
func withClock(t *testing.T, opts Options) Options {
	if v, ok := clocks.Load(t); ok {
		clock := v.(*time.Time)
		opts.Now = func() time.Time { return *clock }
	}
	return opts
}

func seedAuth(ts *tokenServer) *Config {
	return &Config{Type: "oauth2", ClientID: "cid", ClientSecret: "csecret", RefreshToken: "rt0", TokenURL: ts.srv.URL + "/token"}
}

func mustNew(t *testing.T, cfg *Config, ts *tokenServer) http.RoundTripper {
	t.Helper()
	rt, err := New(cfg, nil, host(ts.srv), withClock(t, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func TestRefreshGrantFormAndCaching(t *testing.T) {
	fakeClock(t)
	ts := newTokenServer(t)
	rt := mustNew(t, seedAuth(ts), ts)
	for range 3 {
		if resp := get(t, rt, ts.srv.URL+"/v2/files"); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if n := ts.tokenRequests(); n != 1 {
		t.Fatalf("%d token requests for 3 data requests, want 1", n)
	}
	want := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt0"}, "client_id": {"cid"}, "client_secret": {"csecret"}}
	if got := ts.form(0); got.Encode() != want.Encode() {
		t.Errorf("token form = %v, want %v", got, want)
	}
	if ts.basic[0] != "" {
		t.Errorf("seed oauth2 sent a Basic header %q; credentials belong in the form", ts.basic[0])
	}
}

func TestRenewalBeforeExpiry(t *testing.T) {
	tests := []struct {
		name            string
		expiresIn       string
		defaultExpiry   int
		typ             string
		stillValid, due time.Duration
	}{
		{"hour token renewed 60s early", `,"expires_in":3600`, 0, "oauth2", 3539 * time.Second, 3541 * time.Second},
		{"short token renewed at 90%", `,"expires_in":100`, 0, "oauth2", 89 * time.Second, 91 * time.Second},
		{"no expires_in uses default_token_expiration", "", 100, "oauth2_client_credentials", 89 * time.Second, 91 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakeClock(t)
			start := *clock
			ts := newTokenServer(t)
			ts.expiresIn = tt.expiresIn
			cfg := seedAuth(ts)
			if tt.typ == "oauth2_client_credentials" {
				cfg = &Config{Type: tt.typ, ClientID: "cid", ClientSecret: "cs", AccessTokenURL: ts.srv.URL + "/token", DefaultTokenExpiration: tt.defaultExpiry}
			}
			rt := mustNew(t, cfg, ts)
			get(t, rt, ts.srv.URL+"/a")
			*clock = start.Add(tt.stillValid)
			get(t, rt, ts.srv.URL+"/a")
			if n := ts.tokenRequests(); n != 1 {
				t.Fatalf("token renewed too early: %d token requests", n)
			}
			*clock = start.Add(tt.due)
			get(t, rt, ts.srv.URL+"/a")
			if n := ts.tokenRequests(); n != 2 {
				t.Fatalf("token not renewed before expiry: %d token requests", n)
			}
		})
	}
}

func TestRotatedRefreshTokenIsUsed(t *testing.T) {
	clock := fakeClock(t)
	ts := newTokenServer(t)
	ts.rotate = true
	rt := mustNew(t, seedAuth(ts), ts)
	get(t, rt, ts.srv.URL+"/a")
	*clock = clock.Add(2 * time.Hour)
	get(t, rt, ts.srv.URL+"/a")
	*clock = clock.Add(2 * time.Hour)
	get(t, rt, ts.srv.URL+"/a")
	for i, want := range []string{"rt0", "rt1", "rt2"} {
		if got := ts.form(i).Get("refresh_token"); got != want {
			t.Errorf("refresh %d sent refresh_token %q, want %q", i, got, want)
		}
	}
}

func TestUnauthorizedRenewsOnceAndRetries(t *testing.T) {
	fakeClock(t)
	ts := newTokenServer(t)
	rt := mustNew(t, seedAuth(ts), ts)
	get(t, rt, ts.srv.URL+"/a")
	// The API revokes the token early: it now expects a token it has not
	// issued, as if issued elsewhere.
	ts.mu.Lock()
	ts.current = "access2"
	ts.issued = 1
	ts.mu.Unlock()
	req, _ := http.NewRequest("POST", ts.srv.URL+"/search", strings.NewReader(`{"q":1}`))
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d after 401 renewal", resp.StatusCode)
	}
	if n := ts.tokenRequests(); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
	ts.data.mu.Lock()
	bodies := ts.data.body[1:]
	ts.data.mu.Unlock()
	if len(bodies) != 2 || bodies[0] != `{"q":1}` || bodies[1] != bodies[0] {
		t.Errorf("data request bodies %q, want the body sent twice", bodies)
	}

	// A token the API keeps refusing is renewed only once per request.
	ts.mu.Lock()
	ts.refuse = true
	ts.mu.Unlock()
	if resp := get(t, rt, ts.srv.URL+"/b"); resp.StatusCode != 401 {
		t.Fatalf("status %d, want the API's 401", resp.StatusCode)
	}
	if n := ts.tokenRequests(); n != 3 {
		t.Errorf("%d token requests, want 3", n)
	}
}

func TestTokenErrorMessage(t *testing.T) {
	tests := []struct {
		code, hint string
		cfg        func(*tokenServer) *Config
	}{
		{"invalid_client", "(check client_id and client_secret)", seedAuth},
		{"invalid_grant", "(the refresh token was rejected: it was revoked, has expired or was rotated away; it was read from refresh_token in the pipeline's auth block; put a new refresh token there)", seedAuth},
	}
	for _, tt := range tests {
		ts := newTokenServer(t)
		ts.fail = tt.code
		rt := mustNew(t, tt.cfg(ts), ts)
		_, err := (&http.Client{Transport: rt}).Get(ts.srv.URL + "/a")
		want := fmt.Sprintf("oauth2 token request to %s/token: 401 %s %s", ts.srv.URL, tt.code, tt.hint)
		var te *TokenError
		if err == nil || !strings.HasSuffix(err.Error(), want) || !errors.As(err, &te) || te.Code != tt.code {
			t.Errorf("err = %v\nwant suffix %s", err, want)
		}
		if strings.Contains(err.Error(), "csecret") || strings.Contains(err.Error(), "rt0") {
			t.Errorf("error leaks a secret: %v", err)
		}
	}
}

func TestClientCredentialsGrants(t *testing.T) {
	fakeClock(t)
	// dlt's oauth2_client_credentials: credentials and request data in the
	// form (TestClientCredentialsWireAsDlt checks the bytes).
	ts := newTokenServer(t)
	rt := mustNew(t, &Config{
		Type: "oauth2_client_credentials", ClientID: "cid", ClientSecret: "cs",
		AccessTokenURL: ts.srv.URL + "/token", AccessTokenRequestData: map[string]string{"audience": "api"},
	}, ts)
	if resp := get(t, rt, ts.srv.URL+"/a"); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if f := ts.form(0); f.Get("grant_type") != "client_credentials" || f.Get("audience") != "api" || f.Get("client_secret") != "cs" || ts.basic[0] != "" {
		t.Errorf("form %v, Authorization %q", f, ts.basic[0])
	}

	// The seed's oauth2 without a refresh token: credentials in the form.
	ts2 := newTokenServer(t)
	rt2 := mustNew(t, &Config{Type: "oauth2", ClientID: "cid", ClientSecret: "cs", TokenURL: ts2.srv.URL + "/token"}, ts2)
	get(t, rt2, ts2.srv.URL+"/a")
	want := url.Values{"grant_type": {"client_credentials"}, "client_id": {"cid"}, "client_secret": {"cs"}}
	if f := ts2.form(0); f.Encode() != want.Encode() || ts2.basic[0] != "" {
		t.Errorf("form %v (want %v), Authorization %q", f, want, ts2.basic[0])
	}
}

func TestOAuthTokenNotSentToOtherHost(t *testing.T) {
	fakeClock(t)
	ts := newTokenServer(t)
	rt := mustNew(t, seedAuth(ts), ts)
	other, s := recorder(t)
	get(t, rt, otherHost(other)+"/x")
	if a := s.last().Header.Get("Authorization"); a != "" {
		t.Errorf("foreign host got Authorization %q", a)
	}
	if n := ts.tokenRequests(); n != 0 {
		t.Errorf("a foreign request fetched a token (%d token requests)", n)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Type: "magic"},
		{Type: "bearer"},
		{Type: "api_key", APIKey: "k", Location: "body"},
		{Type: "oauth2", ClientID: "x"},
		{Type: "oauth2_client_credentials", ClientID: "x"},
	} {
		if _, err := New(&cfg, nil, "h", Options{}); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	if rt, err := New(nil, http.DefaultTransport, "h", Options{}); err != nil || rt != http.DefaultTransport {
		t.Errorf("New(nil) = %v, %v; want the base transport", rt, err)
	}
}
