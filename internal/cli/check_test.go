package cli_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// writePipeline writes src to a pipeline file in a temp dir; "{{API}}" is
// replaced by base.
func writePipeline(t *testing.T, src, base string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "pipeline.yaml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(src, "{{API}}", base)), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// resourceLine finds the output line of resource name in check's table.
func resourceLine(t *testing.T, out, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s.*$`).FindString(out)
	if m == "" {
		t.Fatalf("no line for resource %s in:\n%s", name, out)
	}
	return m
}

// TestCheckExamples: the shipped examples pass check, and the output shows
// each resource's paginator, disposition and own primary key.
func TestCheckExamples(t *testing.T) {
	for k, v := range map[string]string{
		"CLIENT_ID": "id", "CLIENT_SECRET": "sec-analytics-1", "CLIENT_REFRESH_TOKEN": "rt-analytics-2",
		"SIGMA_CLIENT_ID": "id", "SIGMA_CLIENT_SECRET": "sec-sigma-3",
	} {
		t.Setenv(k, v)
	}
	cases := []struct {
		example string
		keys    map[string]string
		pag     string
		auth    string
	}{
		{
			example: "analytics",
			keys:    map[string]string{"files": "id", "connections": "id", "workbooks": "id"},
			pag:     "page_number(page=1, start_from_page=1, page_param=page, limit_param=limit)",
			auth:    "auth oauth2 (refresh_token grant",
		},
		{
			example: "sigma",
			keys: map[string]string{"files": "id", "connections": "connectionId", "datasets": "datasetId", "members": "memberId",
				"teams": "teamId", "templates": "templateId", "workspaces": "workspaceId", "workbooks": "workbookId"},
			pag:  "page_number(page_param=page, next_page_path=nextPage)",
			auth: "auth oauth2 (client_credentials grant",
		},
	}
	for _, tc := range cases {
		t.Run(tc.example, func(t *testing.T) {
			file := filepath.Join("..", "..", "examples", tc.example, "pipeline.yaml")
			code, out, errOut := run(t, "check", file)
			if code != 0 {
				t.Fatalf("check exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if !strings.Contains(out, file+": ok") || !strings.Contains(out, tc.auth) {
				t.Errorf("output does not say ok and %q:\n%s", tc.auth, out)
			}
			for res, key := range tc.keys {
				line := resourceLine(t, out, res)
				for _, want := range []string{tc.pag, "merge (delete-insert)", " " + key + " "} {
					if !strings.Contains(line+" ", want) {
						t.Errorf("line %q does not show %q", line, want)
					}
				}
			}
			for _, s := range []string{"sec-analytics-1", "rt-analytics-2", "sec-sigma-3"} {
				if strings.Contains(out+errOut, s) {
					t.Errorf("check printed the secret %q", s)
				}
			}
		})
	}
}

// TestCheckOrderNoNetwork: check lists parents before children, shows the
// incremental cursor and disposition, and sends no request, not even for a
// token.
func TestCheckOrderNoNetwork(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "check must not call the API", http.StatusTeapot)
	}))
	defer srv.Close()
	t.Setenv("CHECK_CLIENT_SECRET", "cs-order-1")
	file := writePipeline(t, `pipeline: {name: order, dataset: order}
source:
  client:
    base_url: "{{API}}"
    auth: {type: oauth2_client_credentials, access_token_url: "{{API}}/token", client_id: c, client_secret: "${secrets.check_client_secret}"}
    paginator: {type: cursor, cursor_path: next}
  resources:
    - name: comments
      primary_key: [issue, id]
      write_disposition: append
      endpoint:
        path: "issues/{resources.issues.number}/comments"
    - name: issues
      primary_key: number
      write_disposition: {disposition: merge, strategy: upsert}
      endpoint:
        path: issues
        paginator: {type: offset, limit: 50}
        incremental: {cursor_path: updated_at, initial_value: "2024-01-01T00:00:00Z"}
    - name: users
      selected: false
`, srv.URL)
	code, out, errOut := run(t, "check", file)
	if code != 0 {
		t.Fatalf("check exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("check sent %d requests to the API", n)
	}
	iIssues, iComments := strings.Index(out, "\nissues "), strings.Index(out, "\ncomments ")
	if iIssues < 0 || iComments < 0 || iIssues > iComments {
		t.Errorf("issues (parent) is not listed before comments (child):\n%s", out)
	}
	for res, wants := range map[string][]string{
		"comments": {" issues ", "cursor(cursor_path=next)", " append ", "issue,id"},
		"issues":   {"offset(limit=50)", "merge (upsert)", " number ", "updated_at from 2024-01-01T00:00:00Z"},
		"users":    {"not loaded (selected: false)"},
	} {
		line := resourceLine(t, out, res)
		for _, w := range wants {
			if !strings.Contains(line, w) {
				t.Errorf("line %q does not show %q", line, w)
			}
		}
	}
	if strings.Contains(out, "cs-order-1") {
		t.Errorf("check printed the client secret:\n%s", out)
	}
}

// TestCheckProblems: every problem is listed as file:line:col with exit 2,
// including those only the paginator finds.
func TestCheckProblems(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string // regexps, each matching one line of stderr
	}{
		{
			name: "file problems",
			src: `pipeline: {name: bad}
source:
  client:
    base_url: http://127.0.0.1:1/v2
    auth: {type: bearer, token: "${secrets.never_set_token_xyz}"}
  resources:
    - name: a
      endpoint: {path: /a, paginator: {type: offset}}
    - name: b
      write_disposition: merger
      endpoint: {path: /b, pagnator: cursor}
`,
			want: []string{
				`pipeline\.yaml:5:\d+: source\.client\.auth\.token: secret "never_set_token_xyz" is not set`,
				`pipeline\.yaml:8:\d+: source\.resources\[0\]\.endpoint\.paginator\.limit: `,
				`pipeline\.yaml:10:\d+: source\.resources\[1\]\.write_disposition: `,
				`pipeline\.yaml:11:\d+: source\.resources\[1\]\.endpoint\.pagnator: .*paginator`,
			},
		},
		{
			name: "a paginator that cannot start",
			src: `pipeline: {name: bad}
source:
  client: {base_url: http://127.0.0.1:1/v2}
  resources:
    - name: a
      endpoint:
        path: /a
        paginator: {type: page_number, page: 5, maximum_page: 3}
`,
			want: []string{`pipeline\.yaml:8:\d+: resource a: paginator: page_number: maximum_page 3 must be greater than the first page 5`},
		},
		{
			name: "a merge strategy the destination cannot do",
			src: `pipeline: {name: bad, destination: "parquet:./out"}
source:
  client: {base_url: http://127.0.0.1:1/v2}
  resources:
    - name: a
      write_disposition: {disposition: merge, strategy: scd2}
    - name: b
      primary_key: id
      write_disposition: merge
      columns:
        deleted: {hard_delete: true}
    - name: c
      primary_key: id
      write_disposition: merge
`,
			want: []string{
				`pipeline\.yaml:6:57: source\.resources\[0\]\.write_disposition\.strategy: destination parquet:\./out cannot merge with merge strategy scd2: it merges by delete-insert only; use DuckDB, PostgreSQL or MySQL`,
				`pipeline\.yaml:11:\d+: source\.resources\[1\]\.columns\.deleted\.hard_delete: destination parquet:\./out cannot merge with the hard_delete hint \(column deleted\): it merges by delete-insert only`,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := writePipeline(t, tc.src, "")
			code, out, errOut := run(t, "check", file)
			if code != 2 {
				t.Fatalf("check exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			for _, w := range tc.want {
				if !regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(filepath.Dir(file)) + `/` + w).MatchString(errOut) {
					t.Errorf("stderr has no line matching %s:\n%s", w, errOut)
				}
			}
			if strings.Contains(out, ": ok") {
				t.Errorf("check said ok:\n%s", out)
			}
		})
	}
}
