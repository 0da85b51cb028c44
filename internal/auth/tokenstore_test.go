package auth

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/httpclient"
)

// newRun builds the auth of one run: a fresh RoundTripper over a store in
// dir whose configured refresh token came from origin.
func newRun(t *testing.T, ts *tokenServer, dir string, origin SecretOrigin, refresh string, red *httpclient.Redactor) (*Store, func(path string) int) {
	t.Helper()
	cfg := seedAuth(ts)
	cfg.RefreshToken = refresh
	st := &Store{Dir: dir, Pipeline: "p/../x", Origin: func(v string) (SecretOrigin, bool) { return origin, v == refresh }}
	rt, err := New(cfg, nil, host(ts.srv), withClock(t, Options{Store: st, Redactor: red}))
	if err != nil {
		t.Fatal(err)
	}
	return st, func(path string) int { return get(t, rt, ts.srv.URL+path).StatusCode }
}

// TestStoreCarriesRotatedTokenFromEnv checks that with the refresh token in
// an environment variable, the next run (same variable value) sends the
// rotated token from the store, that the store keeps no clear copy of the
// value rotated away, and that the tokens reach the redactor.
func TestStoreCarriesRotatedTokenFromEnv(t *testing.T) {
	clock := fakeClock(t)
	ts := newTokenServer(t)
	ts.rotate = true
	dir := filepath.Join(t.TempDir(), "tokens")
	env := SecretOrigin{EnvVar: "CLIENT_REFRESH_TOKEN"}
	red := httpclient.NewRedactor()
	st, get := newRun(t, ts, dir, env, "rt0-original", red)
	if code := get("/a"); code != 200 {
		t.Fatalf("run 1: %d", code)
	}
	rots := st.Rotations()
	files, _ := filepath.Glob(filepath.Join(dir, "p____x-*.json"))
	if len(files) != 1 || len(rots) != 1 || rots[0].SavedTo != files[0] || rots[0].Count != 1 {
		t.Fatalf("store files %v, rotations %+v", files, rots)
	}
	// (rt1 is shorter than httpclient.MinSecretLen, so only access1 shows.)
	if got := red.String("rt0-original access1"); got != "[REDACTED] [REDACTED]" {
		t.Errorf("redactor does not know the obtained tokens: %q", got)
	}
	b, _ := os.ReadFile(files[0])
	if strings.Contains(string(b), "rt0-original") || !strings.Contains(string(b), hashToken("rt0-original")) {
		t.Errorf("store file keeps the rotated-away value in clear or lacks its hash:\n%s", b)
	}

	// Run 2, an hour later (the access token expired), same env value.
	*clock = clock.Add(time.Hour)
	_, get = newRun(t, ts, dir, env, "rt0-original", httpclient.NewRedactor())
	if code := get("/a"); code != 200 {
		t.Fatalf("run 2: %d", code)
	}
	if got := ts.form(1).Get("refresh_token"); got != "rt1" {
		t.Errorf("run 2 sent refresh token %q, want the rotated rt1", got)
	}
	// Run 3 right after: the access token is reused, no token request.
	_, get = newRun(t, ts, dir, env, "rt0-original", httpclient.NewRedactor())
	if code := get("/a"); code != 200 || ts.tokenRequests() != 2 {
		t.Errorf("run 3: status %d after %d token requests, want 200 after 2", code, ts.tokenRequests())
	}
	// A value the user set anew wins over the store.
	*clock = clock.Add(time.Hour)
	_, get = newRun(t, ts, dir, env, "rt-user-new", httpclient.NewRedactor())
	get("/a")
	if got := ts.form(2).Get("refresh_token"); got != "rt-user-new" {
		t.Errorf("a new env value: sent %q, want rt-user-new", got)
	}
}

// TestSecretsFileThatCannotBeRewrittenFallsBackToStore checks that a
// refresh token in a value the editor will not touch (a multi-line string)
// goes to the store, and the next run, reading the old value from the
// file, sends the stored one.
func TestSecretsFileThatCannotBeRewrittenFallsBackToStore(t *testing.T) {
	clock := fakeClock(t)
	ts := newTokenServer(t)
	ts.rotate = true
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets.toml")
	const text = "client_refresh_token = \"\"\"rt0-file\"\"\"\n"
	if err := os.WriteFile(secrets, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	origin := SecretOrigin{File: secrets, Keys: []string{"client_refresh_token"}}
	st, get := newRun(t, ts, filepath.Join(dir, "tokens"), origin, "rt0-file", httpclient.NewRedactor())
	if code := get("/a"); code != 200 {
		t.Fatalf("run 1: %d", code)
	}
	if b, _ := os.ReadFile(secrets); string(b) != text {
		t.Errorf("the secrets file changed:\n%s", b)
	}
	if rots := st.Rotations(); len(rots) != 1 || !strings.HasPrefix(rots[0].SavedTo, filepath.Join(dir, "tokens")) {
		t.Errorf("rotations %+v, want one saved in the store", rots)
	}
	*clock = clock.Add(time.Hour)
	_, get = newRun(t, ts, filepath.Join(dir, "tokens"), origin, "rt0-file", httpclient.NewRedactor())
	get("/a")
	if got := ts.form(1).Get("refresh_token"); got != "rt1" {
		t.Errorf("run 2 sent %q, want the stored rt1", got)
	}
}

// TestStoreDir checks where the token store is: the flag, else
// pipeline.token_store relative to the pipeline file, else .restload/tokens
// beside it.
func TestStoreDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pipeline.yaml")
	tests := []struct {
		tokenStore, flag, want string
	}{
		{"", "", filepath.Join(dir, ".restload", "tokens")},
		{"state/tokens", "", filepath.Join(dir, "state", "tokens")},
		{"/mnt/tokens", "", "/mnt/tokens"},
		{"state/tokens", "/flag/dir", "/flag/dir"},
	}
	for _, tt := range tests {
		if got := StoreDir(file, tt.tokenStore, tt.flag); got != tt.want {
			t.Errorf("StoreDir(%q, %q) = %s, want %s", tt.tokenStore, tt.flag, got, tt.want)
		}
	}
}

// TestUnwritableStore checks a store that cannot be created does not stop a
// provider that never rotates, and that a rotated token that cannot be
// saved fails the request with a message saying so (and no token).
func TestUnwritableStore(t *testing.T) {
	fakeClock(t)
	blocker := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env := SecretOrigin{EnvVar: "CLIENT_REFRESH_TOKEN"}
	ts := newTokenServer(t)
	_, get := newRun(t, ts, filepath.Join(blocker, "tokens"), env, "rt0-original", httpclient.NewRedactor())
	if code := get("/a"); code != 200 {
		t.Fatalf("no rotation, unwritable store: status %d", code)
	}

	ts = newTokenServer(t)
	ts.rotate = true
	cfg := seedAuth(ts)
	cfg.RefreshToken = "rt0-original"
	st := &Store{Dir: filepath.Join(blocker, "tokens"), Pipeline: "p", Origin: func(string) (SecretOrigin, bool) { return env, true }}
	rt, err := New(cfg, nil, host(ts.srv), withClock(t, Options{Store: st}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&http.Client{Transport: rt}).Get(ts.srv.URL + "/a")
	if err == nil || !strings.Contains(err.Error(), "rotated the refresh token read from environment variable CLIENT_REFRESH_TOKEN, and the new one could not be saved") ||
		strings.Contains(err.Error(), "rt0-original") || strings.Contains(err.Error(), "access1") {
		t.Errorf("err = %v", err)
	}
}

// TestRewriteSecretKeepsModeAndFollowsSymlink checks the secrets file is
// replaced whole through a symlink (the link stays a link), keeps its mode,
// and leaves no temporary file.
func TestRewriteSecretKeepsModeAndFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.toml")
	if err := os.WriteFile(real, []byte("# mine\nt = 'old' # c\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "secrets.toml")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := rewriteSecret(link, []string{"t"}, "new"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(real); string(b) != "# mine\nt = \"new\" # c\n" {
		t.Errorf("file now %q", b)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced by a file")
	}
	if st, _ := os.Stat(real); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("directory holds %d entries, want the file and the link", len(entries))
	}
}
