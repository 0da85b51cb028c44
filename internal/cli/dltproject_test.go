package cli_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/restload/restload/internal/destination/destinationtest"
)

// writeDltProject writes a dlt project folder: the pipeline file and
// .dlt/secrets.toml (mode 0600) beside it.
func writeDltProject(t *testing.T, pipeline, secrets string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, ".dlt"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".dlt", "secrets.toml"), []byte(secrets), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(file, []byte(pipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestDltProjectFolderRuns: a dlt project folder runs as it is: the
// config leaves the token and the destination's credentials out, dlt's
// .dlt/secrets.toml and DESTINATION__POSTGRES__CREDENTIALS hold them, and
// restload loads into PostgreSQL with them, showing neither.
func TestDltProjectFolderRuns(t *testing.T) {
	const token = "tok-from-dlt-secrets-7731"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `[{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]`)
	}))
	t.Cleanup(api.Close)
	pg := destinationtest.PostgresURL(t)
	dataset := fmt.Sprintf("dltproj_%d", time.Now().UnixNano())
	destinationtest.DropOnCleanup(t, pg, dataset)
	t.Setenv("DESTINATION__POSTGRES__CREDENTIALS", pg)
	file := writeDltProject(t, `pipeline: {name: dltproj, dataset: `+dataset+`, destination: postgres}
source:
  client:
    base_url: `+api.URL+`
    auth: bearer
  resources:
    - name: things
      endpoint: {path: items, paginator: single_page}
`, "[sources.rest_api.credentials]\ntoken = \""+token+"\"\n")

	code, out, errOut := run(t, "check", file)
	if code != 0 || !strings.Contains(out, "from dlt's configuration: source.client.auth.token from sources.rest_api.credentials.token in ") {
		t.Fatalf("check: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out2, errOut2 := run(t, "run", file, "--progress", "none", "--work-dir", filepath.Join(t.TempDir(), "w"))
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out2, errOut2)
	}
	if n := countIn(t, pg, dataset, "things"); n != 2 {
		t.Errorf("things holds %d rows, want 2", n)
	}
	assertNoLeak(t, "dlt project", map[string]string{"check": out + errOut, "run": out2 + errOut2}, token)
}

// TestRotatedRefreshTokenInDltSecrets: a refresh token dlt's
// .dlt/secrets.toml supplies (the config leaves it out) is rewritten there
// when the provider rotates it, so the next run carries on.
func TestRotatedRefreshTokenInDltSecrets(t *testing.T) {
	api := rotatingAPI(t, 2*time.Second)
	unsetSecretsEnv(t)
	seed := seedPipeline(t, api)
	b, err := os.ReadFile(seed)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, l := range []string{"      client_id: ${secrets.client_id}\n", "      client_secret: ${secrets.client_secret}\n", "      refresh_token: ${secrets.client_refresh_token}\n"} {
		if !strings.Contains(s, l) {
			t.Fatalf("examples/analytics/pipeline.yaml lacks %q", l)
		}
		s = strings.Replace(s, l, "", 1)
	}
	const dltSecrets = `[sources.rest_api.credentials]
client_id = "demo-client"
client_secret = "demo-secret"
refresh_token = "demo-refresh" # rotated by the provider
`
	file := writeDltProject(t, s, dltSecrets)
	secrets := filepath.Join(filepath.Dir(file), ".dlt", "secrets.toml")
	saved, _ := tenRuns(t, api, file, nil)
	abs, _ := filepath.Abs(secrets)
	if len(saved) == 0 {
		t.Fatal("no run summary reported a rotation")
	}
	for _, p := range saved {
		if p != abs {
			t.Errorf("a rotation was saved to %s, want %s", p, abs)
		}
	}
	got, err := os.ReadFile(secrets)
	if err != nil {
		t.Fatal(err)
	}
	var tree struct {
		Sources struct {
			RestAPI struct {
				Credentials map[string]string `toml:"credentials"`
			} `toml:"rest_api"`
		} `toml:"sources"`
	}
	if _, err := toml.Decode(string(got), &tree); err != nil {
		t.Fatalf(".dlt/secrets.toml no longer parses: %v", err)
	}
	if rt := tree.Sources.RestAPI.Credentials["refresh_token"]; rt != api.Server.RefreshToken() {
		t.Errorf(".dlt/secrets.toml holds refresh token %q, the API accepts %q", rt, api.Server.RefreshToken())
	}
	if !strings.Contains(string(got), "# rotated by the provider") {
		t.Errorf("the comment was lost:\n%s", got)
	}
}
