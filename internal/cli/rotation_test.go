package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/restload/restload/internal/destination/duckdb"
	"github.com/restload/restload/internal/mockapi"
)

// startMock starts the mock API for opts, closed when the test ends.
func startMock(t *testing.T, opts mockapi.Options) *mockapi.Running {
	t.Helper()
	api, err := mockapi.Start(context.Background(), "127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })
	return api
}

// rotatingAPI starts a mock that issues a new refresh token on every
// renewal and revokes the one presented, with access tokens living ttl.
func rotatingAPI(t *testing.T, ttl time.Duration) *mockapi.Running {
	t.Helper()
	return startMock(t, mockapi.Options{Records: 150, RotateRefreshToken: true, TokenTTL: ttl, Latency: 20 * time.Millisecond})
}

// unsetSecretsEnv makes sure no CLIENT_* variable is set, so secrets come
// from the secrets file.
func unsetSecretsEnv(t *testing.T) {
	for _, k := range []string{"CLIENT_ID", "CLIENT_SECRET", "CLIENT_REFRESH_TOKEN"} {
		t.Setenv(k, "") // restored when the test ends
		os.Unsetenv(k)
	}
}

// secretsTOML is a secrets file as a person writes it: comments, a table,
// both string kinds, a key restload does not use.
const secretsTOML = `# credentials for the analytics API
client_id = "demo-client"   # the mock's client

[sources.rest_api]
client_secret = 'demo-secret'
# the provider rotates this one on every renewal
client_refresh_token = "demo-refresh" # keep it quoted
unrelated = "kept as it is"
`

// withoutLine drops the line holding key, to compare the rest of a file.
func withoutLine(s, key string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, key+" =") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// assertNoLeak fails when any of values appears in any of texts.
func assertNoLeak(t *testing.T, what string, texts map[string]string, values ...string) {
	t.Helper()
	for name, text := range texts {
		for _, v := range values {
			if v != "" && strings.Contains(text, v) {
				t.Errorf("%s: %s holds a token value", what, name)
			}
		}
	}
}

type rotationSummary struct {
	Rotations []struct {
		SavedTo string `json:"saved_to"`
		Count   int    `json:"rotations"`
	} `json:"refresh_token_rotations"`
}

// tenRuns runs the seed pipeline ten times in a row against api and
// returns, per run, where its summary says rotated tokens went.
func tenRuns(t *testing.T, api *mockapi.Running, file string, before func()) (saved []string, tokens []string) {
	t.Helper()
	dir := t.TempDir()
	dest := "duckdb:" + filepath.Join(dir, "rot.duckdb")
	sumFile := filepath.Join(dir, "summary.json")
	tokens = []string{api.Server.RefreshToken()}
	for i := 1; i <= 10; i++ {
		if before != nil {
			before()
		}
		code, out, errOut := run(t, "run", file, "--dest", dest, "--work-dir", filepath.Join(dir, "work"),
			"--summary-json", sumFile, "--progress", "none", "--log-level", "debug")
		if code != 0 {
			t.Fatalf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", i, code, out, errOut)
		}
		b, err := os.ReadFile(sumFile)
		if err != nil {
			t.Fatal(err)
		}
		var sum rotationSummary
		if err := json.Unmarshal(b, &sum); err != nil {
			t.Fatal(err)
		}
		for _, r := range sum.Rotations {
			saved = append(saved, r.SavedTo)
			want := fmt.Sprintf("oauth2: the refresh token was rotated (%d time(s)); the new one was saved to %s", r.Count, r.SavedTo)
			if !strings.Contains(out, want) {
				t.Errorf("run %d: stdout lacks %q:\n%s", i, want, out)
			}
		}
		if n := countRows(t, dest, "files"); n != 150 {
			t.Errorf("run %d: files holds %d rows, want 150", i, n)
		}
		if cur := api.Server.RefreshToken(); cur != tokens[len(tokens)-1] {
			tokens = append(tokens, cur)
		}
		db, _ := os.ReadFile(strings.TrimPrefix(dest, "duckdb:"))
		assertNoLeak(t, fmt.Sprintf("run %d", i), map[string]string{"stdout": out, "stderr": errOut, "summary": string(b), "database": string(db)}, tokens...)
	}
	if len(tokens) < 3 {
		t.Fatalf("the refresh token was rotated %d times in ten runs; the test wants at least 2", len(tokens)-1)
	}
	return saved, tokens
}

// TestRotatedRefreshTokenInSecretsFile runs the seed pipeline ten times
// against a mock that rotates and revokes the refresh token on every
// renewal, with two-second access tokens, the refresh token in the secrets
// file: each rotation is written back into the file in place, keeping its
// comments, other keys and mode, and no run sends a revoked token.
func TestRotatedRefreshTokenInSecretsFile(t *testing.T) {
	api := rotatingAPI(t, 2*time.Second)
	unsetSecretsEnv(t)
	file := seedPipeline(t, api)
	secrets := filepath.Join(filepath.Dir(file), ".restload", "secrets.toml")
	if err := os.MkdirAll(filepath.Dir(secrets), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secrets, []byte(secretsTOML), 0o640); err != nil {
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		b, err := os.ReadFile(secrets)
		if err != nil {
			t.Fatal(err)
		}
		var tree struct {
			Sources struct {
				RestAPI map[string]string `toml:"rest_api"`
			} `toml:"sources"`
		}
		if _, err := toml.Decode(string(b), &tree); err != nil {
			t.Fatalf("the secrets file no longer parses: %v\n%s", err, b)
		}
		if got, want := tree.Sources.RestAPI["client_refresh_token"], api.Server.RefreshToken(); got != want {
			t.Fatalf("secrets file holds refresh token %q, the API accepts %q", got, want)
		}
		if withoutLine(string(b), "client_refresh_token") != withoutLine(secretsTOML, "client_refresh_token") {
			t.Errorf("the rest of the secrets file changed:\n%s", b)
		}
		if !strings.Contains(string(b), `" # keep it quoted`) {
			t.Errorf("the comment after the value was lost:\n%s", b)
		}
		if st, err := os.Stat(secrets); err != nil || st.Mode().Perm() != 0o640 {
			t.Errorf("secrets file mode %v (err %v), want 0640", st.Mode().Perm(), err)
		}
	}
	saved, _ := tenRuns(t, api, file, nil)
	check()
	abs, _ := filepath.Abs(secrets)
	if len(saved) == 0 {
		t.Fatal("no run summary reported a rotation")
	}
	for _, s := range saved {
		if s != abs {
			t.Errorf("a rotation was saved to %s, want the secrets file %s", s, abs)
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(secrets), ".secrets.toml.tmp-*")); len(matches) > 0 {
		t.Errorf("temporary files left beside the secrets file: %v", matches)
	}

	// restload info names the file, never the token.
	dest := "duckdb:" + filepath.Join(t.TempDir(), "info.duckdb")
	loadOne(t, dest, "analytics") // info reads an existing dataset only
	code, out, errOut := run(t, "info", file, "--dest", dest)
	if code != 0 || !strings.Contains(out, "the current one is saved in "+abs) {
		t.Errorf("info: exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	assertNoLeak(t, "info", map[string]string{"stdout": out}, api.Server.RefreshToken())
}

// TestRotatedRefreshTokenFromEnv runs the seed pipeline ten times with the
// refresh token in CLIENT_REFRESH_TOKEN, set to the same original value
// before every run as a scheduler does: the token store carries the rotated
// token from run to run, keeps only a hash of the value rotated away, and a
// new value the user puts in the variable wins.
func TestRotatedRefreshTokenFromEnv(t *testing.T) {
	api := rotatingAPI(t, 2*time.Second)
	file := seedPipeline(t, api)
	saved, tokens := tenRuns(t, api, file, func() { setSecrets(t, mockapi.DefaultClientSecret) })
	store := filepath.Join(filepath.Dir(file), ".restload", "tokens")
	files, _ := filepath.Glob(filepath.Join(store, "analytics-*.json"))
	if len(files) != 1 {
		t.Fatalf("token store files %v, want one", files)
	}
	for _, s := range saved {
		if s != files[0] {
			t.Errorf("a rotation was saved to %s, want the store file %s", s, files[0])
		}
	}
	if st, err := os.Stat(store); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("token store mode %v (%v), want 0700", st.Mode().Perm(), err)
	}
	if st, err := os.Stat(files[0]); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("token store file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	b, _ := os.ReadFile(files[0])
	assertNoLeak(t, "token store", map[string]string{"store file": string(b)}, tokens[:len(tokens)-1]...)

	// The user authorizes again and sets the new token: it wins over the
	// store's.
	fresh := api.Server.Reauthorize()
	t.Setenv("CLIENT_REFRESH_TOKEN", fresh)
	dir := t.TempDir()
	code, out, errOut := run(t, "run", file, "--dest", "duckdb:"+filepath.Join(dir, "new.duckdb"), "--work-dir", dir, "--progress", "none")
	if code != 0 {
		t.Fatalf("run with a new refresh token: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// TestAccessTokenReusedAcrossRuns checks a still-valid access token is taken
// from the store by the next run (no token request), and that one the API
// refuses is renewed once.
func TestAccessTokenReusedAcrossRuns(t *testing.T) {
	api := startMock(t, mockapi.Options{Records: 30})
	setSecrets(t, mockapi.DefaultClientSecret)
	file := seedPipeline(t, api)
	dir := t.TempDir()
	store := filepath.Join(dir, "mounted", "tokens")
	for i := 1; i <= 2; i++ {
		code, out, errOut := run(t, "run", file, "--dest", "duckdb:"+filepath.Join(dir, "r.duckdb"), "--work-dir", dir, "--progress", "none", "--token-store", store)
		if code != 0 {
			t.Fatalf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", i, code, out, errOut)
		}
	}
	if n := api.Server.Stats().TokenRequests; n != 1 {
		t.Errorf("two runs made %d token requests, want 1 (the second reuses the stored access token)", n)
	}
	if files, _ := filepath.Glob(filepath.Join(store, "analytics-*.json")); len(files) != 1 {
		t.Errorf("--token-store %s holds %v, want one store file", store, files)
	}

	// Another API process does not know the stored token: 401, one renewal.
	api.Close()
	api2, err := mockapi.Start(context.Background(), api.Addr, mockapi.Options{Records: 30})
	if err != nil {
		t.Fatalf("restarting the mock on %s: %v", api.Addr, err)
	}
	defer api2.Close()
	code, out, errOut := run(t, "run", file, "--dest", "duckdb:"+filepath.Join(dir, "r.duckdb"), "--work-dir", dir, "--progress", "none", "--token-store", store)
	if code != 0 {
		t.Fatalf("run against a new API: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if st := api2.Server.Stats(); st.TokenRequests != 1 || st.Unauthorized == 0 {
		t.Errorf("new API: %d token requests, %d 401s; want 1 renewal after a 401", st.TokenRequests, st.Unauthorized)
	}
}

// TestConcurrentRunsShareRotatedToken starts two processes of the same
// pipeline at once (separate work dirs and DuckDB files), three times, with
// access tokens that expired between rounds, so both renew together against
// a mock that revokes the refresh token each renewal rotates away: the lock
// makes one renew and the other use its result, for a secrets file and for
// an environment variable.
func TestConcurrentRunsShareRotatedToken(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the restload binary")
	}
	bin := filepath.Join(t.TempDir(), "restload")
	build := exec.Command("go", "build", "-tags", duckdb.BuildTags, "-o", bin, "./cmd/restload")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, mode := range []string{"secrets file", "environment"} {
		t.Run(mode, func(t *testing.T) {
			api := rotatingAPI(t, time.Second)
			file := seedPipeline(t, api)
			env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
			if mode == "environment" {
				env = append(env, "CLIENT_ID="+mockapi.DefaultClientID, "CLIENT_SECRET="+mockapi.DefaultClientSecret,
					"CLIENT_REFRESH_TOKEN="+mockapi.DefaultRefreshToken)
			} else {
				secrets := filepath.Join(filepath.Dir(file), ".restload", "secrets.toml")
				if err := os.MkdirAll(filepath.Dir(secrets), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(secrets, []byte(secretsTOML), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			for round := 1; round <= 3; round++ {
				var wg sync.WaitGroup
				errs := make([]string, 2)
				for p := range 2 {
					wg.Go(func() {
						work := filepath.Join(dir, fmt.Sprint(p))
						cmd := exec.Command(bin, "run", file, "--dest", "duckdb:"+work+".duckdb", "--work-dir", work, "--progress", "none")
						cmd.Env = env
						var out bytes.Buffer
						cmd.Stdout, cmd.Stderr = &out, &out
						if err := cmd.Run(); err != nil {
							errs[p] = fmt.Sprintf("process %d: %v\n%s", p, err, out.String())
						}
					})
				}
				wg.Wait()
				for _, e := range errs {
					if e != "" {
						t.Fatalf("round %d: %s", round, e)
					}
				}
				time.Sleep(1100 * time.Millisecond) // the access token expires
			}
			if api.Server.RefreshToken() == mockapi.DefaultRefreshToken {
				t.Fatal("the refresh token was never rotated")
			}
		})
	}
}
