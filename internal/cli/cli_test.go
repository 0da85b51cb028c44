package cli_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/restload/restload/internal/cli"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/mockapi"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func countRows(t *testing.T, dest, table string) int {
	t.Helper()
	return countRowsIn(t, dest, "analytics", table)
}

func countRowsIn(t *testing.T, dest, dataset, table string) int {
	t.Helper()
	d, err := destination.Open(context.Background(), dest, dataset)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n := 0
	if err := d.Read(context.Background(), table, func(map[string]any) error { n++; return nil }); err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return n
}

// TestDemo runs `restload demo` twice: all eight tables load, and the second
// run merges, leaving the same row counts.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	dest := "duckdb:" + filepath.Join(dir, "demo.duckdb")
	resources := []string{"files", "connections", "datasets", "members", "teams", "templates", "workspaces", "workbooks"}
	var first map[string]int
	for i := 0; i < 2; i++ {
		code, out, errOut := run(t, "demo", "--records", "230", "--dest", dest, "--work-dir", filepath.Join(dir, "work"))
		if code != 0 {
			t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		for _, r := range resources {
			if !regexp.MustCompile(`(?m)^` + r + `\s+loaded\s+230\s`).MatchString(out) {
				t.Errorf("demo output has no line saying %s loaded 230 records:\n%s", r, out)
			}
		}
		if !strings.Contains(out, "SELECT") {
			t.Errorf("demo output does not show how to query the data:\n%s", out)
		}
		counts := map[string]int{}
		for _, r := range resources {
			counts[r] = countRows(t, dest, r)
			if counts[r] != 230 {
				t.Errorf("run %d: table %s has %d rows, want 230", i+1, r, counts[r])
			}
		}
		counts["files__tags"] = countRows(t, dest, "files__tags")
		if first == nil {
			first = counts
		} else if counts["files__tags"] != first["files__tags"] {
			t.Errorf("files__tags has %d rows after the second run, %d after the first", counts["files__tags"], first["files__tags"])
		}
	}
}

const secret = "sEcReT-v4lue-9931"

// pipelineFile writes a one-resource pipeline against baseURL.
func pipelineFile(t *testing.T, baseURL, tokenURL string) string {
	t.Helper()
	body := `pipeline:
  name: errs
  dataset: errs
source:
  client:
    base_url: ` + baseURL + `
    auth:
      type: oauth2
      client_id: ${secrets.client_id}
      client_secret: ${secrets.client_secret}
      refresh_token: ${secrets.client_refresh_token}
      token_url: ` + tokenURL + `
  resources:
    - name: files
      primary_key: id
      write_disposition: merge
      endpoint:
        data_selector: entries
        params: {limit: 50}
        paginator: {type: page_number, page_param: page, limit_param: limit, start_from_page: 1}
retry:
  backoff_factor: 0.001
  max_delay: 0.01
`
	path := filepath.Join(t.TempDir(), "pipeline.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func setSecrets(t *testing.T, clientSecret string) {
	t.Setenv("CLIENT_ID", mockapi.DefaultClientID)
	t.Setenv("CLIENT_SECRET", clientSecret)
	t.Setenv("CLIENT_REFRESH_TOKEN", mockapi.DefaultRefreshToken)
}

// TestErrors checks each kind of bad input gives one clear message, a
// non-zero exit code, and never the secret.
func TestErrors(t *testing.T) {
	api, err := mockapi.Start(context.Background(), "127.0.0.1:0", mockapi.Options{Records: 60, ClientSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/token") {
			api.Server.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>Maintenance</body></html>"))
	}))
	defer notJSON.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + ln.Addr().String() + "/v2"
	ln.Close()

	good := pipelineFile(t, api.URL, api.TokenURL)
	dest := func() string { return "duckdb:" + filepath.Join(t.TempDir(), "x.duckdb") }

	cases := []struct {
		name     string
		setup    func(t *testing.T) []string
		code     int
		want     []string
		wantRows bool
	}{
		{
			name: "malformed file",
			setup: func(t *testing.T) []string {
				p := filepath.Join(t.TempDir(), "bad.yaml")
				os.WriteFile(p, []byte("source:\n  client:\n    base_url: [unclosed\n"), 0o644)
				setSecrets(t, secret)
				return []string{"run", p, "--dest", dest()}
			},
			code: 2,
			want: []string{"bad.yaml:"},
		},
		{
			name: "unknown key",
			setup: func(t *testing.T) []string {
				b, _ := os.ReadFile(good)
				p := filepath.Join(t.TempDir(), "typo.yaml")
				os.WriteFile(p, bytes.Replace(b, []byte("data_selector"), []byte("data_selecter"), 1), 0o644)
				setSecrets(t, secret)
				return []string{"run", p, "--dest", dest()}
			},
			code: 2,
			want: []string{"typo.yaml:18:9: source.resources[0].endpoint.data_selecter", "data_selecter", `did you mean "data_selector"`},
		},
		{
			name: "missing secret",
			setup: func(t *testing.T) []string {
				setSecrets(t, secret)
				os.Unsetenv("CLIENT_SECRET")
				return []string{"run", good, "--dest", dest()}
			},
			code: 2,
			want: []string{"pipeline.yaml:10:22: source.client.auth.client_secret", "CLIENT_SECRET"},
		},
		{
			name: "wrong client secret",
			setup: func(t *testing.T) []string {
				setSecrets(t, "not-the-"+secret)
				return []string{"run", good, "--dest", dest()}
			},
			code: 1,
			want: []string{"files", "invalid_client"},
		},
		{
			name: "unreachable API",
			setup: func(t *testing.T) []string {
				setSecrets(t, secret)
				return []string{"run", pipelineFile(t, deadURL, api.TokenURL), "--dest", dest()}
			},
			code: 1,
			want: []string{"resource files: page 1: GET http://127.0.0.1:", "connection refused"},
		},
		{
			name: "non-JSON response",
			setup: func(t *testing.T) []string {
				setSecrets(t, secret)
				return []string{"run", pipelineFile(t, notJSON.URL+"/v2", api.TokenURL), "--dest", dest()}
			},
			code: 1,
			want: []string{"resource files: page 1", "not JSON", "text/html", "Maintenance"},
		},
		{
			name: "unknown destination scheme",
			setup: func(t *testing.T) []string {
				setSecrets(t, secret)
				return []string{"run", good, "--dest", "sqlite:x.db"}
			},
			code: 2,
			want: []string{`destination "sqlite:x.db"`, `unknown scheme "sqlite"`, "known: duckdb"},
		},
		{
			name: "unknown resource",
			setup: func(t *testing.T) []string {
				setSecrets(t, secret)
				return []string{"run", good, "--dest", dest(), "--resource", "filez"}
			},
			code: 2,
			want: []string{"--resource filez: no resource of that name"},
		},
		{
			name: "good run for contrast",
			setup: func(t *testing.T) []string {
				setSecrets(t, secret)
				return []string{"run", good, "--dest", dest(), "--work-dir", t.TempDir()}
			},
			code: 0,
			want: []string{"files", "loaded", "60"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.setup(t)
			code, out, errOut := run(t, append(args, "--log-level", "debug")...)
			all := out + errOut
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
			if strings.Contains(all, secret) {
				t.Errorf("the client secret appears in the output:\n%s", all)
			}
			if strings.Contains(all, mockapi.DefaultRefreshToken) {
				t.Errorf("the refresh token appears in the output:\n%s", all)
			}
		})
	}
}
