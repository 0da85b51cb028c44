package cli_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/restload/restload/internal/mockapi"
)

// withTokenURL writes the seed pipeline for api with its token_url replaced.
func withTokenURL(t *testing.T, api *mockapi.Running, tokenURL string) string {
	t.Helper()
	file := seedPipeline(t, api)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "token_url: "+api.TokenURL, "token_url: "+tokenURL, 1)
	if s == string(b) {
		t.Fatal("the seed pipeline has no token_url to replace")
	}
	if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestTokenRequestNotRedirectedOffHost checks that a token endpoint
// answering 307 or 308 (which re-post the body) to another host gets no
// client_secret or refresh_token there: the run fails naming the token URL
// and the redirect's host. A redirect on the same host is followed.
func TestTokenRequestNotRedirectedOffHost(t *testing.T) {
	api := startMock(t, mockapi.Options{Records: 20})
	setSecrets(t, mockapi.DefaultClientSecret)
	var foreign atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreign.Add(1)
		body, _ := io.ReadAll(r.Body)
		t.Errorf("the other host got %s %s (client_secret in the body: %v)", r.Method, r.URL, strings.Contains(string(body), "client_secret"))
		w.WriteHeader(500)
	}))
	defer other.Close()
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) + "/steal"
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/same-host" {
				http.Redirect(w, r, "/real-token", status)
				return
			}
			if r.URL.Path == "/real-token" {
				u, _ := url.Parse(api.TokenURL)
				r.URL.Path = u.Path
				httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: u.Host}).ServeHTTP(w, r)
				return
			}
			http.Redirect(w, r, otherURL, status)
		}))
		file := withTokenURL(t, api, redirector.URL+"/token?key=abc")
		dir := t.TempDir()
		code, out, errOut := run(t, "run", file, "--dest", "duckdb:"+filepath.Join(dir, "r.duckdb"), "--work-dir", dir, "--progress", "none")
		host := strings.TrimPrefix(strings.Replace(other.URL, "127.0.0.1", "localhost", 1), "http://")
		if code != 1 || !strings.Contains(errOut, "oauth2 token request to "+redirector.URL+"/token?key=[REDACTED]") ||
			!strings.Contains(errOut, "redirected to another host, http://"+host) {
			t.Errorf("%d redirect: exit %d, stderr:\n%s\nstdout:\n%s", status, code, errOut, out)
		}
		if strings.Contains(errOut, mockapi.DefaultClientSecret) || strings.Contains(errOut, mockapi.DefaultRefreshToken) {
			t.Errorf("%d redirect: stderr shows a secret:\n%s", status, errOut)
		}

		// The same host: followed.
		file = withTokenURL(t, api, redirector.URL+"/same-host")
		code, out, errOut = run(t, "run", file, "--dest", "duckdb:"+filepath.Join(dir, "s.duckdb"), "--work-dir", dir, "--progress", "none", "--resource", "files")
		if code != 0 {
			t.Errorf("%d redirect on the same host: exit %d, stderr:\n%s\nstdout:\n%s", status, code, errOut, out)
		}
		redirector.Close()
	}
	if n := foreign.Load(); n != 0 {
		t.Errorf("the other host got %d token requests", n)
	}
}

// TestTokenRequestRetried checks the token endpoint's 500, 503 (with
// Retry-After) and 429 answers are retried under the pipeline's retry
// policy, a refused connection too, and that invalid_grant is not retried
// and says the refresh token was rejected and where it came from.
func TestTokenRequestRetried(t *testing.T) {
	api := startMock(t, mockapi.Options{Records: 20})
	setSecrets(t, mockapi.DefaultClientSecret)
	var hits atomic.Int32
	var always500 atomic.Bool
	u, _ := url.Parse(api.TokenURL)
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: u.Host})
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		if always500.Load() {
			w.WriteHeader(500)
			return
		}
		switch n {
		case 1:
			w.WriteHeader(500)
		case 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(503)
		case 3:
			w.WriteHeader(429)
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	defer flaky.Close()
	dir := t.TempDir()
	file := withTokenURL(t, api, flaky.URL+u.Path)
	code, out, errOut := run(t, "run", file, "--dest", "duckdb:"+filepath.Join(dir, "r.duckdb"), "--work-dir", dir, "--progress", "none", "--resource", "files")
	if code != 0 || hits.Load() != 4 {
		t.Errorf("exit %d after %d token requests (want 0 after 4)\nstderr:\n%s\nstdout:\n%s", code, hits.Load(), errOut, out)
	}

	// Retries spent (max_retries 3): the message says how many attempts.
	always500.Store(true)
	code, _, errOut = run(t, "run", file, "--dest", "duckdb:"+filepath.Join(dir, "r.duckdb"), "--work-dir", dir, "--progress", "none", "--resource", "files", "--token-store", filepath.Join(dir, "empty-store"))
	if code != 1 || !strings.Contains(errOut, "oauth2 token request to "+flaky.URL+u.Path+": 500 Internal Server Error after 4 attempts") {
		t.Errorf("spent retries: exit %d, stderr:\n%s", code, errOut)
	}

	// A connection cut before the answer is retried too, by the token
	// request alone (not once more by each data request's retries).
	var cuts atomic.Int32
	cutter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cuts.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer cutter.Close()
	file = withTokenURL(t, api, cutter.URL+"/token")
	code, _, errOut = run(t, "run", file, "--dest", "duckdb:"+filepath.Join(dir, "r.duckdb"), "--work-dir", dir, "--progress", "none", "--resource", "files")
	if code != 1 || !strings.Contains(errOut, "oauth2 token request to "+cutter.URL+"/token failed after 4 attempts") || cuts.Load() != 4 {
		t.Errorf("cut connection: exit %d after %d token requests (want 1 after 4), stderr:\n%s", code, cuts.Load(), errOut)
	}

	// invalid_grant: one request, and the message says where the token
	// was read from, for an environment variable and for a secrets file.
	before := api.Server.Stats().TokenRequests
	t.Setenv("CLIENT_REFRESH_TOKEN", "rt-revoked-long-ago")
	file = seedPipeline(t, api)
	code, _, errOut = run(t, "run", file, "--dest", "duckdb:"+filepath.Join(dir, "r.duckdb"), "--work-dir", dir, "--progress", "none", "--resource", "files")
	if code != 1 || !strings.Contains(errOut, "400 invalid_grant") ||
		!strings.Contains(errOut, "the refresh token was rejected: it was revoked, has expired or was rotated away; it was read from environment variable CLIENT_REFRESH_TOKEN") ||
		strings.Contains(errOut, "rt-revoked-long-ago") {
		t.Errorf("invalid_grant from env: exit %d, stderr:\n%s", code, errOut)
	}
	if n := api.Server.Stats().TokenRequests - before; n != 1 {
		t.Errorf("invalid_grant was sent %d times, want once", n)
	}
	unsetSecretsEnv(t)
	secrets := filepath.Join(filepath.Dir(file), ".restload", "secrets.toml")
	if err := os.MkdirAll(filepath.Dir(secrets), 0o700); err != nil {
		t.Fatal(err)
	}
	toml := strings.Replace(secretsTOML, `"demo-refresh"`, `"rt-revoked-long-ago"`, 1)
	if err := os.WriteFile(secrets, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run(t, "run", file, "--dest", "duckdb:"+filepath.Join(dir, "r.duckdb"), "--work-dir", dir, "--progress", "none", "--resource", "files")
	abs, _ := filepath.Abs(secrets)
	if code != 1 || !strings.Contains(errOut, "it was read from secrets file "+abs+" (key sources.rest_api.client_refresh_token)") {
		t.Errorf("invalid_grant from a secrets file: exit %d, stderr:\n%s", code, errOut)
	}
}
