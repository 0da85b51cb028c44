package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/mockapi"
)

const specDir = "../openapi/testdata"

// initFile runs `restload init` with args into a new file and returns its
// path and text; init must succeed.
func initFile(t *testing.T, args ...string) (string, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pipeline.yaml")
	code, stdout, stderr := run(t, append([]string{"init", "--output", out}, args...)...)
	if code != 0 {
		t.Fatalf("init %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
	}
	if !strings.Contains(stdout, "wrote "+out) {
		t.Errorf("init printed %q, want it to name the file written", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return out, string(data)
}

var secretRef = regexp.MustCompile(`\$\{secrets\.([a-z_]+)\}`)

// checkGenerated sets every secret the file references and runs
// `restload check` on it, which must pass.
func checkGenerated(t *testing.T, file, text string) string {
	t.Helper()
	for _, m := range secretRef.FindAllStringSubmatch(text, -1) {
		t.Setenv(strings.ToUpper(m[1]), "test-"+m[1])
	}
	code, out, errOut := run(t, "check", file)
	if code != 0 {
		t.Fatalf("check of the generated file: exit %d\n%s\n%s\nfile:\n%s", code, out, errOut, text)
	}
	return out
}

func countIn(t *testing.T, dest, dataset, table string) int {
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

// runInto runs a pipeline file into a new DuckDB file and returns its
// destination URL; the run must succeed.
func runInto(t *testing.T, file string) string {
	t.Helper()
	dest := "duckdb:" + filepath.Join(t.TempDir(), "out.duckdb")
	code, stdout, stderr := run(t, "run", file, "--dest", dest, "--progress", "none")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	return dest
}

func mustContain(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("generated file lacks %q\nfile:\n%s", w, text)
		}
	}
}

// TestInitMockAPIEndToEnd writes a pipeline from the OpenAPI description
// of the bundled mock API, checks it, and runs it against the real mock
// into DuckDB: every resource loads every record.
func TestInitMockAPIEndToEnd(t *testing.T) {
	const records = 2100 // three pages of the 1000 the spec allows
	api, err := mockapi.Start(context.Background(), "127.0.0.1:0", mockapi.Options{Records: records})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	file, text := initFile(t, "--openapi", filepath.Join(specDir, "mockapi.openapi.yaml"), "--base-url", api.URL)
	mustContain(t, text,
		"base_url: "+api.URL+" # guessed from set with --base-url",
		"type: oauth2_client_credentials",
		"access_token_url: "+api.TokenURL,
		"client_id: ${secrets.client_id}",
		"client_secret: ${secrets.client_secret}",
		`data_selector: entries # guessed from the response schema's list property "entries"`,
		`paginator: # guessed from query parameter "page"`,
		"type: page_number",
		"base_page: 1 # guessed from page's minimum",
		`total_path: "" # the response gives no number of pages`,
		"has_more_path: hasMore",
		"limit: 1000 # guessed from limit's maximum in the spec",
		`primary_key: id # guessed from the record's "id" property`,
	)
	out := checkGenerated(t, file, text)
	t.Setenv("CLIENT_ID", mockapi.DefaultClientID)
	t.Setenv("CLIENT_SECRET", mockapi.DefaultClientSecret)
	for _, name := range api.Server.Resources() {
		if !regexp.MustCompile(`(?m)^` + name + `\s+-\s+GET\s+/` + name + `\s+page_number`).MatchString(out) {
			t.Errorf("check output lacks resource %s with page_number:\n%s", name, out)
		}
	}

	dest := runInto(t, file)
	for _, name := range api.Server.Resources() {
		if n := countIn(t, dest, "analytics_mock_api_dataset", name); n != records {
			t.Errorf("table %s: %d rows, want %d", name, n, records)
		}
	}
}

// TestInitRealSpecs generates a pipeline from each vendored public
// description and runs `check` on it.
func TestInitRealSpecs(t *testing.T) {
	cases := []struct {
		spec string
		want []string
	}{
		{"real/swagger-petstore.openapi.yaml", []string{
			"base_url: https://petstore3.swagger.io/api/v3",
			"type: api_key", "name: api_key", "location: header", "api_key: ${secrets.api_key}",
			`security scheme "petstore_auth" not used`,
			"path: /pet/findByStatus",
			"data_selector: $ # guessed from the response schema: a JSON list at its root",
			"paginator: single_page # guessed: no pagination parameters",
			"GET /store/inventory: its response is not a JSON list",
		}},
		{"real/oai-petstore-expanded.swagger2.yaml", []string{
			"(Swagger Petstore 1.0.0, Swagger 2.0)",
			"base_url: http://petstore.swagger.io/api",
			"- name: pets", "path: /pets",
			`paginator: single_page # guessed: query parameter "limit" caps the records returned`,
			"primary_key: id",
		}},
		{"real/pokeapi.openapi.yaml", []string{
			"name: poke_api",
			"base_url: https://pokeapi.co",
			"- name: pokemon\n", "path: /api/v2/pokemon/",
			`data_selector: results # guessed from the response schema's list property "results"`,
			"type: offset", "offset_param: offset", "limit_param: limit",
			`total_path: count # guessed from response field "count" (the total number of records)`,
			"GET /api/v2/pokemon/{pokemon_id}/encounters: the records of /api/v2/pokemon have no field for {pokemon_id}",
		}},
		{"real/slack-web-api.trimmed.swagger2.json", []string{
			"(Slack Web API 1.7.0, Swagger 2.0)",
			"base_url: https://slack.com/api",
			"type: oauth2 # refresh-token grant", "token_url: https://slack.com/api/oauth.access",
			"- name: users_list\n", `data_selector: members # guessed from the response schema's list property "members"`,
			"cursor_param: cursor", "cursor_path: response_metadata.next_cursor",
			`data_selector: items # guessed from the response schema's list property "items"`,
			"path: /files.list", "total_path: paging.pages",
			"GET /team.info: its response is not a JSON list",
		}},
		{"mockapi.openapi.yaml", []string{"type: page_number"}},
	}
	for _, c := range cases {
		t.Run(c.spec, func(t *testing.T) {
			file, text := initFile(t, "--openapi", filepath.Join(specDir, c.spec))
			mustContain(t, text, c.want...)
			mustContain(t, text, "pipeline:\n", "source:\n", "# guessed from")
			if strings.Contains(text, "{resources.") {
				t.Logf("has children")
			}
			checkGenerated(t, file, text)
		})
	}
}

// styleAPI serves `n` records of /items in one pagination style, as the
// spec pagingSpec(style) describes, and three posts per record under
// /items/{item_id}/posts. It requires the bearer token "tok".
func styleAPI(t *testing.T, style string, n int) *httptest.Server {
	var srv *httptest.Server
	rec := func(i int) map[string]any { return map[string]any{"id": i, "name": "item " + strconv.Itoa(i)} }
	page := func(from, size int) []any {
		out := []any{}
		for i := from; i < from+size && i < n; i++ {
			out = append(out, rec(i))
		}
		return out
	}
	atoi := func(s string, def int) int {
		if v, err := strconv.Atoi(s); err == nil {
			return v
		}
		return def
	}
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		q := r.URL.Query()
		w.Header().Set("Content-Type", "application/json")
		var body any
		if m := regexp.MustCompile(`^/items/(\d+)/posts$`).FindStringSubmatch(r.URL.Path); m != nil {
			id := atoi(m[1], -1)
			if id < 0 || id >= n {
				http.NotFound(w, r)
				return
			}
			var posts []any
			for k := range 3 {
				posts = append(posts, map[string]any{"id": id*10 + k, "item_id": id})
			}
			body = posts
		} else if r.URL.Path != "/items" {
			http.NotFound(w, r)
			return
		} else {
			switch style {
			case "page_number":
				p, size := atoi(q.Get("page"), 1), atoi(q.Get("per_page"), 10)
				body = map[string]any{"data": page((p-1)*size, size), "total_pages": (n + size - 1) / size, "total": n}
			case "offset":
				off, lim := atoi(q.Get("offset"), 0), atoi(q.Get("limit"), 10)
				body = map[string]any{"results": page(off, lim), "count": n}
			case "cursor":
				c, lim := atoi(q.Get("cursor"), 0), atoi(q.Get("limit"), 10)
				var next any
				if c+lim < n {
					next = strconv.Itoa(c + lim)
				}
				body = map[string]any{"items": page(c, lim), "meta": map[string]any{"next_cursor": next}}
			case "json_link":
				s, lim := atoi(q.Get("skiptoken"), 0), atoi(q.Get("top"), 10)
				b := map[string]any{"value": page(s, lim)}
				if s+lim < n {
					b["@odata.nextLink"] = fmt.Sprintf("%s/items?top=%d&skiptoken=%d", srv.URL, lim, s+lim)
				}
				body = b
			case "header_link":
				p, size := atoi(q.Get("page"), 1), atoi(q.Get("per_page"), 10)
				if p*size < n {
					w.Header().Set("Link", fmt.Sprintf(`<%s/items?page=%d&per_page=%d>; rel="next"`, srv.URL, p+1, size))
				}
				body = page((p-1)*size, size)
			}
		}
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// pagingSpec is an OpenAPI description of styleAPI for style.
func pagingSpec(style string) string {
	rec := `{type: object, properties: {id: {type: integer}, name: {type: string}}}`
	var params, resp, headers string
	switch style {
	case "page_number":
		params = `[{name: page, in: query, schema: {type: integer, minimum: 1}}, {name: per_page, in: query, schema: {type: integer, maximum: 25}}]`
		resp = `{type: object, properties: {data: {type: array, items: ` + rec + `}, total_pages: {type: integer}, total: {type: integer}}}`
	case "offset":
		params = `[{name: offset, in: query, schema: {type: integer}}, {name: limit, in: query, schema: {type: integer, maximum: 30}}, {name: startYear, in: query, schema: {type: integer}}]`
		resp = `{type: object, properties: {count: {type: integer}, results: {type: array, items: ` + rec + `}}}`
	case "cursor":
		params = `[{name: cursor, in: query, schema: {type: string}}, {name: limit, in: query, schema: {type: integer, maximum: 40}}]`
		resp = `{type: object, properties: {items: {type: array, items: ` + rec + `}, meta: {type: object, properties: {next_cursor: {type: string, nullable: true}}}}}`
	case "json_link":
		params = `[{name: top, in: query, schema: {type: integer, maximum: 35}}]`
		resp = `{type: object, properties: {value: {type: array, items: ` + rec + `}, '@odata.nextLink': {type: string, format: uri}}}`
	case "header_link":
		params = `[{name: page, in: query, schema: {type: integer}}, {name: per_page, in: query, schema: {type: integer, maximum: 20}}]`
		resp = `{type: array, items: ` + rec + `}`
		headers = `
          headers:
            Link: {schema: {type: string}}`
	}
	return `openapi: 3.0.3
info: {title: Paging ` + style + `, version: "1"}
servers: [{url: "http://127.0.0.1:1"}]
security: [{bearer: []}]
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
paths:
  /items:
    get:
      parameters: ` + params + `
      responses:
        '200':
          description: items` + headers + `
          content:
            application/json:
              schema: ` + resp + `
  /items/{item_id}:
    get:
      parameters: [{name: item_id, in: path, required: true, schema: {type: integer}}]
      responses:
        '200': {description: one, content: {application/json: {schema: ` + rec + `}}}
  /items/{item_id}/posts:
    get:
      parameters: [{name: item_id, in: path, required: true, schema: {type: integer}}]
      responses:
        '200':
          description: posts
          content:
            application/json:
              schema: {type: array, items: {type: object, properties: {id: {type: integer}, item_id: {type: integer}}}}
`
}

// TestInitPagingStylesRun generates a pipeline from a spec in each
// pagination style, checks it, and runs it against an API that behaves as
// the spec says: every record of the list and every post of every record
// (a child resource) loads.
func TestInitPagingStylesRun(t *testing.T) {
	cases := []struct {
		style string
		want  []string
	}{
		{"page_number", []string{"type: page_number", "page_param: page", "base_page: 1 # guessed from page's minimum",
			`total_path: total_pages # guessed from response field "total_pages" (the number of pages)`, "per_page: 25", "data_selector: data"}},
		{"offset", []string{"type: offset", "limit: 30", "offset_param: offset", "limit_param: limit", "total_path: count", "data_selector: results"}},
		{"cursor", []string{"type: cursor", "cursor_param: cursor", "cursor_path: meta.next_cursor", "limit: 40", "data_selector: items"}},
		{"json_link", []string{"type: json_link", `next_url_path: $['@odata.nextLink']`, "top: 35", "data_selector: value"}},
		{"header_link", []string{"paginator: header_link # guessed: the response's Link header", "per_page: 20", "data_selector: $"}},
	}
	const n = 101
	for _, c := range cases {
		t.Run(c.style, func(t *testing.T) {
			srv := styleAPI(t, c.style, n)
			spec := filepath.Join(t.TempDir(), "spec.yaml")
			if err := os.WriteFile(spec, []byte(pagingSpec(c.style)), 0o644); err != nil {
				t.Fatal(err)
			}
			file, text := initFile(t, "--openapi", spec, "--base-url", srv.URL)
			mustContain(t, text, c.want...)
			mustContain(t, text, "type: bearer", "token: ${secrets.api_token}",
				"- name: posts",
				`path: /items/{resources.items.id}/posts # guessed: a child of items; {item_id} is the parent record's "id"`,
				"1 GET endpoint(s) for one record by its id")
			if strings.Contains(text, "startYear") {
				t.Errorf("startYear was taken for a pagination parameter:\n%s", text)
			}
			checkGenerated(t, file, text)
			t.Setenv("API_TOKEN", "tok")
			dest := runInto(t, file)
			dataset := "paging_" + c.style + "_dataset"
			if got := countIn(t, dest, dataset, "items"); got != n {
				t.Errorf("items: %d rows, want %d", got, n)
			}
			if got := countIn(t, dest, dataset, "posts"); got != 3*n {
				t.Errorf("posts: %d rows, want %d", got, 3*n)
			}
		})
	}
}

// TestInitStarter writes the starter file; check accepts it once its
// secret is set.
func TestInitStarter(t *testing.T) {
	file, text := initFile(t)
	mustContain(t, text, "pipeline:\n", "source:\n", "base_url:", "token: ${secrets.api_token}", "# Other paginators:")
	t.Setenv("API_TOKEN", "")
	os.Unsetenv("API_TOKEN")
	if code, _, errOut := run(t, "check", file); code != 2 || !strings.Contains(errOut, "API_TOKEN") {
		t.Errorf("check without API_TOKEN: exit %d, stderr %q; want 2 naming API_TOKEN", code, errOut)
	}
	t.Setenv("API_TOKEN", "x")
	out := checkGenerated(t, file, text)
	if !strings.Contains(out, "items") {
		t.Errorf("check output lacks the items resource:\n%s", out)
	}
}

// TestInitStdout: --output - prints the file and creates none.
func TestInitStdout(t *testing.T) {
	spec := filepath.Join(mustAbs(t, specDir), "mockapi.openapi.yaml")
	dir := t.TempDir()
	t.Chdir(dir)
	code, out, errOut := run(t, "init", "--output", "-", "--openapi", spec)
	if code != 0 || !strings.HasPrefix(out, "# Generated by `restload init`") || !strings.Contains(out, "type: page_number") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files created: %v", entries)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestInitNeverOverwrites: an existing file is an error and is kept as it
// was; --force replaces it.
func TestInitNeverOverwrites(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pipeline.yaml")
	if err := os.WriteFile(out, []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "--output", out},
		{"init", "--output", out, "--openapi", filepath.Join(specDir, "mockapi.openapi.yaml")},
	} {
		code, _, errOut := run(t, args...)
		if code != 2 || !strings.Contains(errOut, out+" exists; pass --force") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a hint at --force", args, code, errOut)
		}
		if data, _ := os.ReadFile(out); string(data) != "mine\n" {
			t.Fatalf("%v changed the existing file to %q", args, data)
		}
	}
	code, _, errOut := run(t, "init", "--output", out, "--force", "--openapi", filepath.Join(specDir, "mockapi.openapi.yaml"))
	if code != 0 {
		t.Fatalf("init --force: exit %d: %s", code, errOut)
	}
	if data, _ := os.ReadFile(out); !strings.Contains(string(data), "type: page_number") {
		t.Errorf("--force did not replace the file: %q", data)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".pipeline.yaml.tmp-*")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

// TestInitBadSpecs: what is not an OpenAPI description is a usage error
// that says what is wrong, and no file is written.
func TestInitBadSpecs(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct{ body, want string }{
		"notyaml":   {"{{{", "not YAML or JSON"},
		"list":      {"- a\n- b\n", "want a mapping at the top level"},
		"noopenapi": {"info: {title: x}\n", `neither "openapi" nor "swagger"`},
		"v4":        {"openapi: 4.0.0\ninfo: {title: x, version: '1'}\npaths: {}\n", `openapi version "4.0.0": want 3.x`},
		"nolists":   {"openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /me:\n    get:\n      responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {id: {type: string}}}}}}}\n", "no GET endpoint returns a list of records"},
		"extref":    {"openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: 'other.yaml#/r'}\n", "openapi spec"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			spec := filepath.Join(dir, name+".yaml")
			if err := os.WriteFile(spec, []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, name+"-pipeline.yaml")
			code, _, errOut := run(t, "init", "--openapi", spec, "--output", out)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a file was written for a bad spec")
			}
		})
	}
	code, _, errOut := run(t, "init", "--openapi", filepath.Join(dir, "missing.yaml"), "--output", filepath.Join(dir, "x.yaml"))
	if code != 2 || !strings.Contains(errOut, "missing.yaml") {
		t.Errorf("missing spec: exit %d, stderr %q", code, errOut)
	}
}
