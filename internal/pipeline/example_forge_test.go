package pipeline_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/config"
)

// TestForgeExample runs examples/forge/pipeline.yaml, unchanged but for
// its base_url, against the forge API twice: the second run asks each
// repository only for issues since its own cursor and loads no new issue.
func TestForgeExample(t *testing.T) {
	f := newForge(t)
	p, err := config.Load(filepath.Join("..", "..", "examples", "forge", "pipeline.yaml"), config.LoadOptions{
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatal(err)
	}
	p.Source.Client.BaseURL = f.URL
	dest := filepath.Join(t.TempDir(), "forge.duckdb")

	want := map[string]int{"repos": 2, "issues": 5, "comments": 10, "labels": 2, "search_hits": 1, "repo_stats": 1, "topics": 1}
	for run := 1; run <= 2; run++ {
		f.resetLog()
		sum, err := runForge(t, p, dest)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		for table, n := range want {
			if got := rows(t, dest, "forge", table, "_dlt_id"); len(got) != n {
				t.Errorf("run %d: %s has %d rows, want %d", run, table, len(got), n)
			}
		}
		for _, table := range []string{"orgs", "events", "reports"} {
			if hasTable(t, dest, "forge", table) {
				t.Errorf("run %d: table %s exists", run, table)
			}
		}
		for _, rs := range sum.Resources {
			if rs.Status != "loaded" {
				t.Errorf("run %d: %s %s %s", run, rs.Name, rs.Status, rs.Error)
			}
			if run == 2 && rs.Name == "issues" && rs.Records != 0 {
				t.Errorf("run 2 loaded %d issues, want 0", rs.Records)
			}
		}
		for _, r := range f.requests("/repos/1/issues") {
			if strings.HasSuffix(r.Path, "/issues") && run == 2 && r.Query["since"] != "2024-01-05T00:00:00Z" {
				t.Errorf("run 2 asked repo 1 for issues since %q, want 2024-01-05T00:00:00Z", r.Query["since"])
			}
		}
	}
}
