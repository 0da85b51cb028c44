package pipeline_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/pipeline"
)

const incrementalIssues = `
pipeline: {name: forge, dataset: forge}
retry: {max_retries: 0}
source:
  client:
    base_url: BASE
  resources:
    - name: issues
      primary_key: number
      write_disposition: merge
      endpoint:
        path: repos/1/issues
        data_selector: items
        paginator: json_link
        params:
          since: "{incremental.start_value}"
        incremental:
          cursor_path: updated_at
          initial_value: "2024-01-01T00:00:00Z"
`

// storedCursor reads the issues cursor from the destination's state table.
func storedCursor(t *testing.T, dest, resource string) map[string]any {
	t.Helper()
	d, err := destination.Open(context.Background(), "duckdb:"+dest, "forge")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, err := load.State(context.Background(), d, "forge")
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := st["incremental."+resource]
	if !ok {
		return nil
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("state %s: %v", raw, err)
	}
	return v
}

func sinceValues(f *forge, prefix string) []string {
	var out []string
	for _, r := range f.requests(prefix) {
		out = append(out, r.Path+"?since="+r.Query["since"]+"&page="+r.Query["page"])
	}
	return out
}

// TestIncrementalRuns: a first run, a run with nothing new (one request,
// the stored start value, no rows), a run after new records (only they are
// loaded, merged), a failed load and a failed resource (the cursor stays,
// the next run fetches again from it).
func TestIncrementalRuns(t *testing.T) {
	f := newForge(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "forge.duckdb")
	p := forgePipeline(t, f, incrementalIssues)
	run := func(opts pipeline.Options) (*pipeline.Summary, error) {
		t.Helper()
		f.resetLog()
		opts.Destination = "duckdb:" + dest
		opts.WorkDir = filepath.Join(dir, "work")
		return pipeline.Run(context.Background(), p, opts)
	}
	issues := func() []string { return rows(t, dest, "forge", "issues", "number", "updated_at") }

	// 1. First run: everything since the initial value, three pages.
	sum, err := run(pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/repos/1/issues?since=2024-01-01T00:00:00Z&page=", "/repos/1/issues?since=2024-01-01T00:00:00Z&page=2",
		"/repos/1/issues?since=2024-01-01T00:00:00Z&page=3"}
	if got := sinceValues(f, "/repos/1/issues"); !slices.Equal(got, want) {
		t.Errorf("run 1 requests %q, want %q", got, want)
	}
	if got := issues(); len(got) != 5 || sum.Resources[0].Records != 5 {
		t.Errorf("run 1: rows %q, %d records, want 5", got, sum.Resources[0].Records)
	}
	if c := storedCursor(t, dest, "issues"); c["last_value"] != "2024-01-05T00:00:00Z" {
		t.Errorf("run 1 stored %v, want last_value 2024-01-05T00:00:00Z", c)
	}

	// 2. Nothing new: one request with the stored value; the issue at the
	// boundary is the one already loaded, so no records.
	if sum, err = run(pipeline.Options{}); err != nil {
		t.Fatal(err)
	}
	want = []string{"/repos/1/issues?since=2024-01-05T00:00:00Z&page="}
	if got := sinceValues(f, "/repos/1/issues"); !slices.Equal(got, want) {
		t.Errorf("run 2 requests %q, want %q", got, want)
	}
	if sum.Resources[0].Records != 0 {
		t.Errorf("run 2 loaded %d records, want 0", sum.Resources[0].Records)
	}

	// 3. New records: only they are loaded; an updated issue is merged.
	f.addIssue(1, 106, 7)
	f.mu.Lock()
	f.issues[1][4]["updated_at"] = "2024-01-06T00:00:00Z"
	f.issues[1][4]["title"] = "edited"
	f.mu.Unlock()
	if sum, err = run(pipeline.Options{}); err != nil {
		t.Fatal(err)
	}
	if sum.Resources[0].Records != 2 {
		t.Errorf("run 3 loaded %d records, want 2 (the edited and the new issue)", sum.Resources[0].Records)
	}
	wantRows := []string{"101 2024-01-01 00:00:00 +0000 UTC", "102 2024-01-02 00:00:00 +0000 UTC", "103 2024-01-03 00:00:00 +0000 UTC",
		"104 2024-01-04 00:00:00 +0000 UTC", "105 2024-01-06 00:00:00 +0000 UTC", "106 2024-01-07 00:00:00 +0000 UTC"}
	if got := issues(); !slices.Equal(got, wantRows) {
		t.Errorf("run 3 rows\n%q\nwant\n%q", got, wantRows)
	}

	// 4. The load fails (the package is lost before loading): the cursor
	// must not move.
	f.addIssue(1, 107, 9)
	_, err = run(pipeline.Options{AfterExtract: func(dir string) { _ = os.RemoveAll(dir) }})
	if err == nil {
		t.Fatal("run 4 succeeded without its package")
	}
	if c := storedCursor(t, dest, "issues"); c["last_value"] != "2024-01-07T00:00:00Z" {
		t.Errorf("after a failed load the stored cursor is %v, want 2024-01-07T00:00:00Z", c["last_value"])
	}

	// 5. The resource fails on its second page: nothing of it is loaded and
	// the cursor stays.
	f.addIssue(1, 108, 10)
	f.failPage = 2
	_, err = run(pipeline.Options{})
	if err == nil || !strings.Contains(err.Error(), "resource issues: page 2: ") || !strings.Contains(err.Error(), "403") {
		t.Fatalf("run 5: error %v, want resource issues page 2 403", err)
	}
	if c := storedCursor(t, dest, "issues"); c["last_value"] != "2024-01-07T00:00:00Z" {
		t.Errorf("after a failed resource the stored cursor is %v, want 2024-01-07T00:00:00Z", c["last_value"])
	}

	// 6. The next run fetches from the unchanged cursor and loads both.
	f.failPage = 0
	if sum, err = run(pipeline.Options{}); err != nil {
		t.Fatal(err)
	}
	if sum.Resources[0].Records != 2 {
		t.Errorf("run 6 loaded %d records, want 2 (107 and 108)", sum.Resources[0].Records)
	}
	if got := sinceValues(f, "/repos/1/issues"); len(got) == 0 || !strings.Contains(got[0], "since=2024-01-07T00:00:00Z") {
		t.Errorf("run 6 requests %q, want since=2024-01-07T00:00:00Z", got)
	}
	if got := issues(); len(got) != 8 {
		t.Errorf("run 6 rows %q, want 8", got)
	}
	if c := storedCursor(t, dest, "issues"); c["last_value"] != "2024-01-10T00:00:00Z" {
		t.Errorf("run 6 stored %v, want 2024-01-10T00:00:00Z", c["last_value"])
	}
}

// TestIncrementalPerParent: a child's cursor is kept per parent record, so
// a late record under one parent is not lost because another parent is
// further ahead (dlt #2429).
func TestIncrementalPerParent(t *testing.T) {
	f := newForge(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "forge.duckdb")
	p := forgePipeline(t, f, forgeHead+`
    - name: issues
      primary_key: number
      write_disposition: merge
      endpoint:
        path: repos/{resources.repos.id}/issues
        data_selector: items
        paginator: json_link
        response_actions: [{status_code: 404, action: ignore}]
        params:
          since: {type: incremental, cursor_path: updated_at, initial_value: "2024-01-01T00:00:00Z"}
`)
	for run := 1; run <= 2; run++ {
		f.resetLog()
		if run == 2 {
			// Repo 2's cursor is at Jan 1, repo 1's at Jan 5: an issue
			// of repo 2 updated Jan 3 is new for repo 2 only.
			f.addIssue(2, 203, 3)
		}
		if _, err := runForge(t, p, dest); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		first := map[string]string{}
		for _, r := range f.requests("/repos/") {
			if r.Query["page"] == "" {
				first[r.Path] = r.Query["since"]
			}
		}
		want := map[string]string{"/repos/1/issues": "2024-01-01T00:00:00Z", "/repos/2/issues": "2024-01-01T00:00:00Z", "/repos/3/issues": "2024-01-01T00:00:00Z"}
		if run == 2 {
			want["/repos/1/issues"] = "2024-01-05T00:00:00Z"
		}
		for k, v := range want {
			if first[k] != v {
				t.Errorf("run %d: %s since=%q, want %q", run, k, first[k], v)
			}
		}
	}
	got := rows(t, dest, "forge", "issues", "number")
	if !slices.Contains(got, "203") || len(got) != 7 {
		t.Errorf("issues %q, want 7 including 203", got)
	}
	c := storedCursor(t, dest, "issues")
	parents, _ := c["parents"].(map[string]any)
	if len(parents) != 2 {
		t.Errorf("stored per-parent state %v, want entries for repos 1 and 2", c)
	}
	if st, _ := parents["resources.repos.id=2"].(map[string]any); st["last_value"] != "2024-01-03T00:00:00Z" {
		t.Errorf("repo 2 cursor %v, want 2024-01-03T00:00:00Z", parents["resources.repos.id=2"])
	}
}
