package cli_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/restload/restload/internal/mockapi"
)

const twoResources = `pipeline: {name: pc, dataset: pc}
source:
  client: {base_url: "http://127.0.0.1:1/"}
  resources:
    - name: members
      endpoint: {path: /members}
    - name: teams
      endpoint: {path: /teams}
`

// TestUnknownResourceSuggests: --resource with a name the file lacks is a
// usage error naming the nearest resource and listing them all.
func TestUnknownResourceSuggests(t *testing.T) {
	file := writePipeline(t, twoResources, "")
	dest := "duckdb:" + filepath.Join(t.TempDir(), "x.duckdb")
	for _, tc := range []struct{ name, want string }{
		{"member", `(did you mean "members"?)`},
		{"temas", `(did you mean "teams"?)`},
		{"zzzzzzzzzz", "its resources: members, teams"},
	} {
		code, _, errOut := run(t, "run", file, "--dest", dest, "--resource", tc.name)
		if code != 2 {
			t.Errorf("--resource %s: exit %d, want 2\n%s", tc.name, code, errOut)
		}
		if !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "members, teams") {
			t.Errorf("--resource %s: stderr lacks %q and the list of names:\n%s", tc.name, tc.want, errOut)
		}
		if tc.name == "zzzzzzzzzz" && strings.Contains(errOut, "did you mean") {
			t.Errorf("--resource %s: suggests a name far from it:\n%s", tc.name, errOut)
		}
	}
}

// TestDemoIntoFilesAppends: a merge pipeline into Parquet or JSONL runs,
// appending, with one warning that says so.
func TestDemoIntoFilesAppends(t *testing.T) {
	for _, kind := range []string{"parquet", "jsonl"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			dest := kind + ":" + filepath.Join(dir, "out")
			code, out, errOut := run(t, "demo", "--records", "30", "--dest", dest, "--work-dir", filepath.Join(dir, "work"), "--progress", "none")
			if code != 0 {
				t.Fatalf("demo --dest %s: exit %d\nstdout:\n%s\nstderr:\n%s", dest, code, out, errOut)
			}
			if n := strings.Count(errOut, "are appended"); n != 1 {
				t.Errorf("stderr has %d warnings that merge appends, want 1:\n%s", n, errOut)
			}
			if !strings.Contains(errOut, "write_disposition merge") {
				t.Errorf("the warning does not name the write disposition:\n%s", errOut)
			}
			if !regexp.MustCompile(`(?m)^files\s+loaded\s+30\s`).MatchString(out) {
				t.Errorf("demo output has no line saying files loaded 30 records:\n%s", out)
			}
		})
	}
}

// TestAnalyticsExampleAnyPort runs examples/analytics/pipeline.yaml against
// a mock on a free port, found through ANALYTICS_URL (its URLs are
// ${env.ANALYTICS_URL:-http://127.0.0.1:8080}/...).
func TestAnalyticsExampleAnyPort(t *testing.T) {
	api, err := mockapi.Start(context.Background(), "127.0.0.1:0", mockapi.Options{Records: 40})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	t.Setenv("ANALYTICS_URL", "http://"+api.Addr)
	t.Setenv("CLIENT_ID", mockapi.DefaultClientID)
	t.Setenv("CLIENT_SECRET", mockapi.DefaultClientSecret)
	t.Setenv("CLIENT_REFRESH_TOKEN", mockapi.DefaultRefreshToken)
	src, err := os.ReadFile("../../examples/analytics/pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(file, src, 0o600); err != nil {
		t.Fatal(err)
	}
	dest := "duckdb:" + filepath.Join(dir, "a.duckdb")
	code, out, errOut := run(t, "run", file, "--dest", dest, "--resource", "files", "--progress", "none")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if n := countRows(t, dest, "files"); n != 40 {
		t.Errorf("files has %d rows, want 40", n)
	}
}

// TestDemoHintRuns: the demo's closing hint is a `restload query` command
// that works for the destination it loaded into.
func TestDemoHintRuns(t *testing.T) {
	for _, kind := range []string{"duckdb", "parquet", "jsonl"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			dest := kind + ":" + filepath.Join(dir, "it's here")
			code, out, errOut := run(t, "demo", "--records", "7", "--dest", dest, "--work-dir", filepath.Join(dir, "work"), "--progress", "none")
			if code != 0 {
				t.Fatalf("demo: exit %d\n%s%s", code, out, errOut)
			}
			line := regexp.MustCompile(`(?m)^  restload (query .*)$`).FindStringSubmatch(out)
			if line == nil {
				t.Fatalf("demo output has no restload query hint:\n%s", out)
			}
			args := shellWords(t, line[1])
			code, qout, qerr := run(t, args...)
			if code != 0 {
				t.Fatalf("%q: exit %d\n%s", line[1], code, qerr)
			}
			if !strings.Contains(qout, "owner__email") || !strings.Contains(qout, "(5 rows)") {
				t.Errorf("%q printed:\n%s", line[1], qout)
			}
		})
	}
}

// shellWords splits s as a POSIX shell would, for single-quoted words.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	in, inWord := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			in, inWord = !in, true
		case c == '"' && !in:
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				t.Fatalf("unclosed \" in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == ' ' && !in:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// TestRelativeDestinationOneRule: a relative path in pipeline.destination
// resolves against the current directory in run, info, schema and query
// alike, wherever the pipeline file is.
func TestRelativeDestinationOneRule(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[{"id": 1}, {"id": 2}]`))
	}))
	defer api.Close()
	file := writePipeline(t, `pipeline: {name: rel, dataset: rel, destination: "duckdb:data/rel.duckdb"}
source:
  client: {base_url: "{{API}}"}
  resources:
    - name: items
      endpoint: {path: /items, paginator: single_page}
`, api.URL)
	cwd := t.TempDir()
	if err := os.Mkdir(filepath.Join(cwd, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(cwd)
	if code, out, errOut := run(t, "run", file, "--progress", "none", "--work-dir", filepath.Join(cwd, "work")); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(cwd, "data", "rel.duckdb")); err != nil {
		t.Fatalf("run did not load into ./data/rel.duckdb: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"info", file}, "items"},
		{[]string{"schema", file}, "items"},
		{[]string{"query", file, "SELECT count(*) AS n FROM items"}, "n\n2\n"},
	} {
		args := tc.args
		code, out, errOut := run(t, args...)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d\n%s%s", args[0], code, out, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(file), "data")); err == nil {
		t.Errorf("a command created data/ beside the pipeline file")
	}
}
