package pipeline_test

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/restload/restload/internal/config"
)

const forgeHead = `
pipeline: {name: forge, dataset: forge}
retry: {max_retries: 0}
source:
  client:
    base_url: BASE
  resources:
    - name: repos
      endpoint: {path: orgs/acme/repos, paginator: single_page}
`

// TestParentChildPlaceholders runs a child of repos with its parent value
// in each place dlt allows one, against repos 1, 2 and 3 (3 answers 404,
// ignored), and checks the child's rows and what went over the wire.
func TestParentChildPlaceholders(t *testing.T) {
	tests := []struct {
		name, child, table string
		cols               []string
		want               []string
		wire               func(t *testing.T, f *forge)
	}{{
		name: "path",
		child: `
    - name: topics
      include_from_parent: [name]
      endpoint:
        path: repos/{resources.repos.id}/topics
        data_selector: names
        response_actions: [{status_code: 404, action: ignore}]`,
		table: "topics", cols: []string{"value", "_repos_name"},
		want: []string{"topic-1 widgets", "topic-2 gadgets"},
		wire: func(t *testing.T, f *forge) {
			got := paths(f.requests("/repos/"))
			want := []string{"/repos/1/topics", "/repos/2/topics", "/repos/3/topics"}
			if !slices.Equal(got, want) {
				t.Errorf("requests %v, want %v", got, want)
			}
		},
	}, {
		name: "legacy resolve param",
		child: `
    - name: topics
      endpoint:
        path: repos/{repo_id}/topics
        params:
          repo_id: {type: resolve, resource: repos, field: id}
        data_selector: names
        response_actions: [{status_code: 404, action: ignore}]`,
		table: "topics", cols: []string{"value"},
		want: []string{"topic-1", "topic-2"},
		wire: func(t *testing.T, f *forge) {
			for _, r := range f.requests("/repos/") {
				if len(r.Query) != 0 {
					t.Errorf("%s sent query %v: a resolve param bound in the path is not a query param", r.Path, r.Query)
				}
			}
		},
	}, {
		name: "params",
		child: `
    - name: labels
      endpoint:
        path: labels
        params: {repo: "{resources.repos.id}", per_page: 100}
        response_actions: [{status_code: 404, action: ignore}]`,
		table: "labels", cols: []string{"name"},
		want: []string{"bug-1", "bug-2", "docs-1", "docs-2"},
		wire: func(t *testing.T, f *forge) {
			for _, r := range f.requests("/labels") {
				if r.Query["per_page"] != "100" || r.Query["repo"] == "" {
					t.Errorf("labels query %v, want repo and per_page=100", r.Query)
				}
			}
		},
	}, {
		name: "json body",
		child: `
    - name: search
      endpoint:
        path: search
        method: POST
        json: {repo_id: "{resources.repos.id}", q: "is:open {{literal}}"}
        data_selector: results
        response_actions: [{status_code: 404, action: ignore}]`,
		table: "search", cols: []string{"hit", "query"},
		want: []string{"repo-1 is:open {literal}", "repo-2 is:open {literal}"},
		wire: func(t *testing.T, f *forge) {
			var bodies []string
			for _, r := range f.requests("/search") {
				bodies = append(bodies, r.Method+" "+r.Body)
			}
			want := `POST {"q":"is:open {literal}","repo_id":"1"}`
			if len(bodies) != 3 || strings.TrimSpace(bodies[0]) != want {
				t.Errorf("search requests %q, want 3, the first %q", bodies, want)
			}
		},
	}, {
		name: "headers",
		child: `
    - name: stats
      endpoint:
        path: stats
        headers: {X-Repo: "{resources.repos.id}"}
        response_actions: [{status_code: 404, action: ignore}]`,
		table: "stats", cols: []string{"stars"},
		want: []string{"10", "20"},
		wire: func(t *testing.T, f *forge) {
			var got []string
			for _, r := range f.requests("/stats") {
				got = append(got, r.Repo)
			}
			if !slices.Equal(got, []string{"1", "2", "3"}) {
				t.Errorf("X-Repo headers %v, want 1 2 3", got)
			}
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newForge(t)
			dest := filepath.Join(t.TempDir(), "forge.duckdb")
			sum, err := runForge(t, forgePipeline(t, f, forgeHead+tc.child), dest)
			if err != nil {
				t.Fatal(err)
			}
			if got := rows(t, dest, "forge", tc.table, tc.cols...); !slices.Equal(got, tc.want) {
				t.Errorf("%s rows %q, want %q", tc.table, got, tc.want)
			}
			if got := rows(t, dest, "forge", "repos", "id"); len(got) != 3 {
				t.Errorf("repos rows %q, want 3", got)
			}
			for _, rs := range sum.Resources {
				if rs.Status != "loaded" {
					t.Errorf("resource %s: status %s (%s)", rs.Name, rs.Status, rs.Error)
				}
			}
			tc.wire(t, f)
		})
	}
}

func paths(rs []forgeRequest) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Path)
	}
	slices.Sort(out)
	return out
}

const chain = `
pipeline: {name: forge, dataset: forge}
retry: {max_retries: 0}
source:
  client:
    base_url: BASE
  resource_defaults:
    endpoint:
      response_actions: [{status_code: 404, action: ignore}]
  resources:
    - name: orgs
      selected: false
      endpoint: {path: orgs, paginator: single_page}
    - name: repos
      endpoint: {path: "orgs/{resources.orgs.login}/repos", paginator: single_page}
    - name: issues
      include_from_parent: [id]
      endpoint:
        path: repos/{resources.repos.id}/issues
        data_selector: items
        paginator: json_link
    - name: comments
      include_from_parent: [number]
      PARALLEL
      endpoint:
        path: repos/{resources.issues._repos_id}/issues/{resources.issues.number}/comments
`

// TestParentChildChain runs four levels (orgs, not loaded, -> repos ->
// issues, paginated per repo -> comments), one after another and with
// parallelized comments.
func TestParentChildChain(t *testing.T) {
	for _, parallel := range []bool{false, true} {
		name := "sequential"
		if parallel {
			name = "parallelized"
		}
		t.Run(name, func(t *testing.T) {
			f := newForge(t)
			src := strings.Replace(chain, "PARALLEL", "parallelized: false", 1)
			if parallel {
				f.holdComments = true
				src = strings.Replace(chain, "PARALLEL", "parallelized: true", 1)
			}
			dest := filepath.Join(t.TempDir(), "forge.duckdb")
			sum, err := runForge(t, forgePipeline(t, f, src), dest)
			if err != nil {
				t.Fatal(err)
			}
			if hasTable(t, dest, "forge", "orgs") {
				t.Error("orgs (selected: false) was loaded")
			}
			var names []string
			for _, rs := range sum.Resources {
				names = append(names, rs.Name)
			}
			if !slices.Equal(names, []string{"repos", "issues", "comments"}) {
				t.Errorf("summary resources %v, want repos issues comments", names)
			}
			if got := rows(t, dest, "forge", "repos", "id"); len(got) != 3 {
				t.Errorf("repos rows %q, want 3", got)
			}
			issues := rows(t, dest, "forge", "issues", "number", "_repos_id")
			want := []string{"101 1", "102 1", "103 1", "104 1", "105 1", "201 2"}
			if !slices.Equal(issues, want) {
				t.Errorf("issues rows %q, want %q", issues, want)
			}
			// Repo 1's issues take three pages, each parent paginated on
			// its own.
			var pages []string
			for _, r := range f.requests("/repos/1/issues") {
				if !strings.HasSuffix(r.Path, "comments") {
					pages = append(pages, r.Query["page"])
				}
			}
			if !slices.Equal(pages, []string{"", "2", "3"}) {
				t.Errorf("repo 1 issues pages %q, want first, 2, 3", pages)
			}
			comments := rows(t, dest, "forge", "comments", "id", "_issues_number")
			if len(comments) != 12 || comments[0] != "1011 101" {
				t.Errorf("comments rows %q, want 12 starting with 1011 101", comments)
			}
			f.mu.Lock()
			peak := f.peak
			f.mu.Unlock()
			if parallel && peak < 2 {
				t.Errorf("at most %d comments requests in flight: children were not fetched in parallel", peak)
			}
			if !parallel && peak != 1 {
				t.Errorf("%d comments requests in flight without parallelized", peak)
			}
		})
	}
}

// TestParentChildChildFailure: a child error that no response action
// ignores fails the child (and its children), names resource, page and URL,
// and leaves the parent loaded.
func TestParentChildChildFailure(t *testing.T) {
	f := newForge(t)
	dest := filepath.Join(t.TempDir(), "forge.duckdb")
	_, err := runForge(t, forgePipeline(t, f, forgeHead+`
    - name: topics
      endpoint:
        path: repos/{resources.repos.id}/topics
        data_selector: names
    - name: missing
      endpoint:
        path: labels
        params: {repo: "{resources.repos.nope}"}
`), dest)
	if err == nil {
		t.Fatal("run succeeded; repo 3's topics answer 404")
	}
	for _, want := range []string{
		"resource topics: page 1: ", "404", f.URL + "/repos/3/topics",
		`resource missing: parent repos record has no field "nope" for {resources.repos.nope} (its fields: archived, id, name, updated_at)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
	if got := rows(t, dest, "forge", "repos", "id"); len(got) != 3 {
		t.Errorf("repos rows %q, want 3 (the parent is loaded)", got)
	}
	if hasTable(t, dest, "forge", "topics") {
		t.Error("topics table exists: a failed resource was loaded")
	}
}

// TestParentChildConfigErrors: references that cannot work are rejected
// when the file is read, with file:line.
func TestParentChildConfigErrors(t *testing.T) {
	tests := []struct{ name, child, want string }{
		{"unknown parent", `
    - name: topics
      endpoint: {path: "repos/{resources.repo.id}/topics"}`, `forge.yaml:12:24: source.resources[1].endpoint.path: unknown parent resource in {resources.repo.id} (did you mean "repos"?)`},
		{"cycle", `
    - name: a
      endpoint: {path: "a/{resources.b.id}"}
    - name: b
      endpoint: {path: "b/{resources.a.id}"}`, `parent references form a cycle: a -> b -> a`},
		{"two parents", `
    - name: a
      endpoint: {path: "a/{resources.repos.id}", params: {x: "{resources.b.id}"}}
    - name: b`, `a resource can have only one parent`},
		{"placeholder without value", `
    - name: a
      endpoint: {path: "a/{id}"}`, `placeholder {id} has no value (add a param named id`},
		{"incremental placeholder without incremental", `
    - name: a
      endpoint: {path: a, params: {since: "{incremental.start_value}"}}`, `placeholder {incremental.start_value} has no value (the endpoint has no incremental block`},
		{"unknown convert", `
    - name: a
      endpoint: {path: a, incremental: {cursor_path: x, convert: epoc}}`, `unknown convert "epoc" (did you mean "epoch"?)`},
		{"incremental param without cursor", `
    - name: a
      endpoint: {path: a, params: {since: {type: incremental, initial_value: 1}}}`, `since.cursor_path: missing required key for an incremental param`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.ReplaceAll(forgeHead+tc.child, "BASE", "http://127.0.0.1:1")
			_, err := config.Parse("forge.yaml", []byte(src), config.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
			var ce config.Errors
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want config errors", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain\n%s", err, tc.want)
			}
		})
	}
}
