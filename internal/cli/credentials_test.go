package cli_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/apitest"
)

// newWire is an apitest server (it records every request) answering with h.
func newWire(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *apitest.Server {
	t.Helper()
	return apitest.New(t, func(w http.ResponseWriter, r *http.Request, _ int) { h(w, r) })
}

// TestSecretHeadersOnlyToAPIHost: client headers and endpoint headers whose
// values come from ${secrets.X} or ${env.X}, and auth, reach the API's host
// only. A next link to another host, a child path that begins with a
// placeholder and a redirect to another host all still fetch their data,
// without those headers and without a Referer.
func TestSecretHeadersOnlyToAPIHost(t *testing.T) {
	t.Setenv("API_KEY", "key-0123456789")
	t.Setenv("TENANT_TOKEN", "tenant-abcdef")
	var api *apitest.Server
	other := newWire(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/items":
			fmt.Fprintf(w, `{"items": [{"id": 2, "url": %q}], "next": null}`, api.URL+"/redirect?api_key=q-key-9876")
		default:
			fmt.Fprintf(w, `{"detail": %q}`, r.URL.Path)
		}
	})
	api = newWire(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/items":
			fmt.Fprintf(w, `{"items": [{"id": 1, "url": %q}], "next": %q}`, other.URL+"/detail/1", other.URL+"/items?page=2")
		case "/redirect":
			http.Redirect(w, r, other.URL+"/detail/2", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})
	file := writePipeline(t, fmt.Sprintf(`
pipeline: {name: hostile, dataset: hostile}
source:
  client:
    base_url: %s/
    auth: {type: http_basic, username: alice, password: "${secrets.api_key}"}
    headers:
      X-Api-Key: ${secrets.api_key}
      X-Tenant: "tenant ${env.TENANT_TOKEN}"
      X-Client: restload-test
  resources:
    - name: items
      endpoint:
        path: items
        data_selector: items
        paginator: {type: json_link, next_url_path: next}
    - name: details
      endpoint:
        path: "{resources.items.url}"
        headers: {X-Child-Key: "${secrets.api_key}"}
`, api.URL), "")
	dir := filepath.Dir(file)
	dest := "duckdb:" + filepath.Join(dir, "out.duckdb")
	code, out, errOut := run(t, "run", file, "--dest", dest, "--progress", "none")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if n := countIn(t, dest, "hostile", "details"); n != 2 {
		t.Errorf("details has %d rows, want 2 (from the other host, one through a redirect)", n)
	}
	secretHeaders := []string{"X-Api-Key", "X-Tenant", "X-Child-Key", "Authorization", "Referer"}
	otherGot := other.Requests("")
	for _, req := range otherGot {
		for _, name := range secretHeaders {
			if v := req.Header.Get(name); v != "" {
				t.Errorf("other host got %s: %q on %s", name, v, req.Path)
			}
		}
		if req.Header.Get("X-Client") != "restload-test" {
			t.Errorf("other host lost the plain header X-Client on %s: %v", req.Path, req.Header)
		}
	}
	if len(otherGot) != 3 {
		t.Errorf("other host got %d requests, want 3: the next page and two details", len(otherGot))
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:key-0123456789"))
	for _, req := range api.Requests("") {
		h := req.Header
		if h.Get("X-Api-Key") != "key-0123456789" || h.Get("X-Tenant") != "tenant tenant-abcdef" || h.Get("Authorization") != basic {
			t.Errorf("API host request %s lacks its credentials: %v", req.Path, h)
		}
		if ref := h.Get("Referer"); ref != "" {
			t.Errorf("API host got Referer %q on %s", ref, req.Path)
		}
	}
}

// TestEchoedCredentialsHiddenAndEscaped: an API whose error body echoes the
// request's Authorization header (Basic base64 of user:password) and other
// credential headers, wrapped in ANSI escape sequences, bidi overrides and
// fake lines, shows none of it raw on stderr or in --summary-json.
func TestEchoedCredentialsHiddenAndEscaped(t *testing.T) {
	t.Setenv("API_PASSWORD", "pw-0123456789")
	api := newWire(t, func(w http.ResponseWriter, r *http.Request) {
		user, pw, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "\x1b[2J\x1b[Hbad request\nrestload: all done, 0 errors\r\u202eauth=%s user=%s pw=%s enc=%s \x9b31m",
			r.Header.Get("Authorization"), user, pw, base64.URLEncoding.EncodeToString([]byte(pw)))
		fmt.Fprint(w, "\u009b2J \u2066x\u2069")
	})
	file := writePipeline(t, fmt.Sprintf(`
pipeline: {name: echo, dataset: echo}
source:
  client:
    base_url: %s/
    auth: {type: http_basic, username: alice, password: "${secrets.api_password}"}
  resources:
    - name: items
      endpoint: {path: items, paginator: single_page}
`, api.URL), "")
	errOut, sumJSON := runFailing(t, file)
	var s struct {
		Resources []struct{ Error string }
	}
	if err := json.Unmarshal(sumJSON, &s); err != nil || len(s.Resources) != 1 {
		t.Fatalf("summary %s: %v", sumJSON, err)
	}
	basic := base64.StdEncoding.EncodeToString([]byte("alice:pw-0123456789"))
	for where, text := range map[string]string{"stderr": errOut, "summary error": s.Resources[0].Error} {
		for _, leak := range []string{"pw-0123456789", basic, base64.URLEncoding.EncodeToString([]byte("pw-0123456789")), "\x1b", "\x9b", "\u009b", "\u202e", "\u2066", "\r"} {
			if strings.Contains(text, leak) {
				t.Errorf("%s shows %q:\n%s", where, leak, text)
			}
		}
		if !strings.Contains(text, `\x1b[2J\x1b[Hbad request\nrestload: all done`) {
			t.Errorf("%s does not show the body escaped on one line:\n%s", where, text)
		}
	}
	for _, line := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(line, "restload: all done") {
			t.Errorf("the API forged a line on stderr: %q", line)
		}
	}
}

// runFailing runs file (into a DuckDB file beside it) expecting exit code 1,
// and returns stderr and the --summary-json file.
func runFailing(t *testing.T, file string, flags ...string) (stderr string, summary []byte) {
	t.Helper()
	dir := filepath.Dir(file)
	sumFile := filepath.Join(dir, "summary.json")
	args := append(flags, "run", file, "--dest", "duckdb:"+filepath.Join(dir, "out.duckdb"), "--progress", "plain", "--summary-json", sumFile)
	code, _, errOut := run(t, args...)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", code, errOut)
	}
	summary, err := os.ReadFile(sumFile)
	if err != nil {
		t.Fatal(err)
	}
	return errOut, summary
}

// TestEchoedAccessTokenHidden: an OAuth2 access token and a refresh token
// restload obtained at run time, echoed back by the API, are masked on stderr, in the logs and in
// --summary-json.
func TestEchoedAccessTokenHidden(t *testing.T) {
	t.Setenv("CLIENT_SECRET", "cs-0123456789")
	tokens := newWire(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token": "at-runtime-123456", "refresh_token": "rt-from-response-42", "token_type": "Bearer", "expires_in": 3600}`)
	})
	api := newWire(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "you sent %s; your refresh token is rt-from-response-42", r.Header.Get("Authorization"))
	})
	file := writePipeline(t, fmt.Sprintf(`
pipeline: {name: token_echo, dataset: token_echo}
source:
  client:
    base_url: %s/
    auth: {type: oauth2_client_credentials, access_token_url: %s/token, client_id: cid, client_secret: "${secrets.client_secret}"}
  resources:
    - name: items
      endpoint: {path: items, paginator: single_page}
`, api.URL, tokens.URL), "")
	errOut, sumJSON := runFailing(t, file, "--log-level", "debug")
	for where, text := range map[string]string{"stderr": errOut, "summary": string(sumJSON)} {
		if strings.Contains(text, "at-runtime-123456") || strings.Contains(text, "rt-from-response-42") {
			t.Errorf("%s shows a token obtained at run time:\n%s", where, text)
		}
		if !strings.Contains(text, "you sent [REDACTED]") {
			t.Errorf("%s does not show the echoed body masked:\n%s", where, text)
		}
	}
}

// TestSecretsFileModeWarning: check (and run) warn on stderr about a secrets
// file readable by others, naming it, its mode and the chmod to run.
func TestSecretsFileModeWarning(t *testing.T) {
	file := writePipeline(t, "source:\n  client:\n    base_url: https://api.example.com\n    auth: {token: \"${secrets.token}\"}\n  resources: [items]\n", "")
	secrets := filepath.Join(filepath.Dir(file), "secrets.toml")
	if err := os.WriteFile(secrets, []byte("token = \"tok-123456\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(secrets, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "check", file, "--secrets", secrets)
	want := fmt.Sprintf("restload: warning: secrets file %s is readable by others (mode 0644); restrict it with: chmod 600 %s\n", secrets, secrets)
	if code != 0 || errOut != want {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 0 and:\n%s", code, errOut, want)
	}
}

// TestCheckAliasBomb: check refuses a billion laughs file at once, with the
// problem placed in the file, and exit code 2.
func TestCheckAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("source:\n  client: {base_url: https://api.example.com}\n  resources:\n    - name: r\n      endpoint:\n        json:\n")
	b.WriteString("          x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "          x%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	file := writePipeline(t, b.String(), "")
	start := time.Now()
	code, _, errOut := run(t, "check", file)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("check took %v", d)
	}
	if code != 2 || !strings.Contains(errOut, file+":") || !strings.Contains(errOut, "YAML aliases expand to more than 100000 values") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and the alias limit at a position in %s", code, errOut, file)
	}
}
