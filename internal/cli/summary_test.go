package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/restload/restload/examples"
	"github.com/restload/restload/internal/mockapi"
)

// seedPipeline writes examples/analytics/pipeline.yaml pointed at api, with
// retries that wait milliseconds instead of seconds.
func seedPipeline(t *testing.T, api *mockapi.Running) string {
	t.Helper()
	data, err := examples.FS.ReadFile("analytics/pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(data), "${env.ANALYTICS_URL:-http://127.0.0.1:8080}/v2", api.URL)
	s = strings.Replace(s, "backoff_factor: 2", "backoff_factor: 0.001", 1)
	if !strings.Contains(s, "base_url: "+api.URL) || !strings.Contains(s, "backoff_factor: 0.001") {
		t.Fatal("examples/analytics/pipeline.yaml no longer points at ${env.ANALYTICS_URL:-http://127.0.0.1:8080}/v2 with backoff_factor: 2")
	}
	path := filepath.Join(t.TempDir(), "pipeline.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type runSummary struct {
	Seconds   float64 `json:"seconds"`
	Resources []struct {
		Name    string           `json:"name"`
		Status  string           `json:"status"`
		Records int64            `json:"records"`
		Pages   int64            `json:"pages"`
		Retries int64            `json:"retries"`
		Seconds float64          `json:"seconds"`
		Rows    map[string]int64 `json:"rows"`
	} `json:"resources"`
	Changes []string `json:"schema_changes"`
	Phases  struct {
		Extract float64 `json:"extract_seconds"`
		Load    float64 `json:"load_seconds"`
		Commit  float64 `json:"commit_seconds"`
	} `json:"phases"`
}

// TestRunSummary runs the seed pipeline against the mock (a different
// record count per resource, one fault every 7 requests) twice and checks
// that --summary-json and the printed table say what the mock served and
// what the tables hold, and that the plain progress lines and JSON logs
// reach stderr.
func TestRunSummary(t *testing.T) {
	counts := map[string]int{"files": 230, "connections": 101, "datasets": 100, "members": 1,
		"teams": 0, "templates": 57, "workspaces": 199, "workbooks": 340}
	api, err := mockapi.Start(context.Background(), "127.0.0.1:0", mockapi.Options{RecordsPer: counts, FaultEvery: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	setSecrets(t, mockapi.DefaultClientSecret)
	file := seedPipeline(t, api)
	dir := t.TempDir()
	dest := "duckdb:" + filepath.Join(dir, "summary.duckdb")
	sumFile := filepath.Join(dir, "summary.json")

	for i := 1; i <= 2; i++ {
		before := api.Server.Stats()
		code, out, errOut := run(t, "run", file, "--dest", dest, "--work-dir", filepath.Join(dir, "work"),
			"--summary-json", sumFile, "--progress", "plain", "--log-format", "json", "--log-level", "info")
		if code != 0 {
			t.Fatalf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", i, code, out, errOut)
		}
		b, err := os.ReadFile(sumFile)
		if err != nil {
			t.Fatal(err)
		}
		var sum runSummary
		if err := json.Unmarshal(b, &sum); err != nil {
			t.Fatalf("--summary-json wrote invalid JSON: %v\n%s", err, b)
		}
		if len(sum.Resources) != len(counts) {
			t.Fatalf("run %d: summary has %d resources, want %d:\n%s", i, len(sum.Resources), len(counts), b)
		}
		var retries int64
		for _, r := range sum.Resources {
			want := int64(counts[r.Name])
			// limit 100; the paginator stops at the total (an empty
			// resource takes one empty page).
			wantPages := max(1, (want+99)/100)
			if r.Status != "loaded" || r.Records != want || r.Pages != wantPages {
				t.Errorf("run %d: %s: status %s, %d records, %d pages; want loaded, %d records, %d pages",
					i, r.Name, r.Status, r.Records, r.Pages, want, wantPages)
			}
			if r.Rows[r.Name] != want {
				t.Errorf("run %d: %s: summary rows[%s] = %d, want %d", i, r.Name, r.Name, r.Rows[r.Name], want)
			}
			for table, n := range r.Rows {
				// Merge replaces, so each table holds exactly one run's rows.
				if got := countRows(t, dest, table); int64(got) != n {
					t.Errorf("run %d: summary says %d rows for %s, the table holds %d", i, n, table, got)
				}
			}
			line := fmt.Sprintf(`(?m)^%s\s+loaded\s+%d\s+%d\s+%d\s+\d+\.\d\d\s`, r.Name, r.Records, r.Pages, r.Retries)
			if !regexp.MustCompile(line).MatchString(out) {
				t.Errorf("run %d: the summary table has no row %q:\n%s", i, line, out)
			}
			if r.Seconds <= 0 || r.Seconds > sum.Seconds {
				t.Errorf("run %d: %s took %.3fs of a %.3fs run", i, r.Name, r.Seconds, sum.Seconds)
			}
			retries += r.Retries
		}
		faults := api.Server.Stats().Served5xx - before.Served5xx
		if retries != faults {
			t.Errorf("run %d: summary counts %d retries, the mock answered %d faults", i, retries, faults)
		}
		if i == 1 && !contains(sum.Changes, "new table files__tags") {
			t.Errorf("run 1: schema_changes lacks the new table files__tags: %q", sum.Changes)
		}
		if i == 2 && len(sum.Changes) != 0 {
			t.Errorf("run 2 changed the schema again: %q", sum.Changes)
		}
		if !strings.Contains(out, fmt.Sprintf("%d records in", 1028)) {
			t.Errorf("run %d: no total line with 1028 records:\n%s", i, out)
		}
		// Extraction outlasts every resource's; the phases fit in the run.
		ph := sum.Phases
		var slowest float64
		for _, r := range sum.Resources {
			slowest = max(slowest, r.Seconds)
		}
		if ph.Extract < slowest || ph.Load < 0 || ph.Commit <= 0 || ph.Extract+ph.Load+ph.Commit > sum.Seconds {
			t.Errorf("run %d: phases extract %.3fs, load %.3fs, commit %.3fs; the slowest resource took %.3fs, the run %.3fs",
				i, ph.Extract, ph.Load, ph.Commit, slowest, sum.Seconds)
		}
		phases := fmt.Sprintf("  time: extract %.2fs, then load %.2fs and commit %.2fs\n", ph.Extract, ph.Load, ph.Commit)
		if !strings.Contains(out, phases) {
			t.Errorf("run %d: the summary lacks the line %q:\n%s", i, phases, out)
		}

		// The seed's "total" is a record count: progress shows it.
		if !strings.Contains(errOut, "workbooks: 4 pages, 340 of 340 records (100%), ") || !strings.Contains(errOut, "into the destination...") {
			t.Errorf("run %d: stderr lacks the plain progress lines:\n%s", i, errOut)
		}
		var jsonLines int
		for _, l := range strings.Split(errOut, "\n") {
			if strings.HasPrefix(l, "{") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(l), &rec); err != nil || rec["level"] == nil || rec["msg"] == nil {
					t.Errorf("run %d: --log-format json wrote a bad line %q (%v)", i, l, err)
				}
				jsonLines++
			}
		}
		if jsonLines == 0 {
			t.Errorf("run %d: --log-format json --log-level info logged nothing:\n%s", i, errOut)
		}
	}
}

// TestRunProgressNone checks --progress none prints no progress and a bad
// mode is a usage error.
func TestRunProgressNone(t *testing.T) {
	api, err := mockapi.Start(context.Background(), "127.0.0.1:0", mockapi.Options{Records: 30})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	setSecrets(t, mockapi.DefaultClientSecret)
	file := seedPipeline(t, api)
	dir := t.TempDir()
	dest := "duckdb:" + filepath.Join(dir, "none.duckdb")
	code, out, errOut := run(t, "run", file, "--dest", dest, "--work-dir", dir, "--progress", "none", "--resource", "files")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q (want 0 and nothing)\nstdout:\n%s", code, errOut, out)
	}
	code, _, errOut = run(t, "run", file, "--dest", dest, "--progress", "fancy")
	if code != 2 || !strings.Contains(errOut, `--progress "fancy": want auto, bar, plain or none`) {
		t.Errorf("--progress fancy: exit %d, stderr %q", code, errOut)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
