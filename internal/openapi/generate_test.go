package openapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/restload/restload/internal/config"
)

var secretRefRE = regexp.MustCompile(`\$\{secrets\.([a-z_]+)\}`)

// generate parses spec, generates a pipeline file and loads it with the
// config package (secrets set), which must accept it.
func generate(t *testing.T, spec string, loc *url.URL, opts Options) (*Result, string) {
	t.Helper()
	s, err := Parse([]byte(spec), loc)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	res, err := Generate(s, opts)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	text := string(res.YAML)
	for _, m := range secretRefRE.FindAllStringSubmatch(text, -1) {
		t.Setenv(strings.ToUpper(m[1]), "x")
	}
	if _, err := config.Parse("pipeline.yaml", res.YAML, config.LoadOptions{}); err != nil {
		t.Fatalf("the generated file does not load: %v\n%s", err, text)
	}
	return res, text
}

const oneList = "paths:\n  /a:\n    get:\n      responses: {'200': {description: ok, content: {application/json: {schema: {type: array, items: {type: object}}}}}}\n"

const specHead = "openapi: 3.0.3\ninfo: {title: T, version: '1'}\nservers: [{url: 'https://api.test/v1'}]\n"

func TestGenerateGuesses(t *testing.T) {
	rec := `{type: object, properties: {id: {type: string}, name: {type: string}}}`
	cases := []struct {
		name, spec string
		want, not  []string
	}{
		{
			// Stripe pages with starting_after = the last record's id, which no
			// paginator sends: one page, and the comment says so.
			name: "stripe starting_after",
			spec: specHead + `paths:
  /v1/customers:
    get:
      parameters:
        - {name: starting_after, in: query, schema: {type: string}}
        - {name: limit, in: query, schema: {type: integer, maximum: 100}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: object, properties: {
          object: {type: string}, has_more: {type: boolean}, url: {type: string},
          data: {type: array, items: ` + rec + `}}}}}}
`,
			want: []string{"data_selector: data", `paginator: single_page # guessed: query parameter "starting_after" takes the last record's id`, "limit: 100"},
			not:  []string{"type: cursor"},
		},
		{
			// A total of records is not a number of pages.
			name: "page with a record total",
			spec: specHead + `paths:
  /things:
    get:
      parameters: [{name: page, in: query, schema: {type: integer, default: 0}}]
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: object, properties: {
          total: {type: integer}, things: {type: array, items: ` + rec + `}}}}}}
`,
			want: []string{"type: page_number", "base_page: 0 # guessed from page's default", `total_path: "" # the response gives no number of pages`},
		},
		{
			// Sigma's API: `page` takes the opaque nextPage of the last response.
			name: "page token",
			spec: specHead + `paths:
  /members:
    get:
      parameters: [{name: page, in: query, schema: {type: string}}, {name: limit, in: query, schema: {type: integer, maximum: 1000}}]
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: object, properties: {
          nextPage: {type: string, nullable: true}, hasMore: {type: boolean}, entries: {type: array, items: ` + rec + `}}}}}}
`,
			want: []string{`paginator: # guessed from string query parameter (a page token) "page" and response field "nextPage"`,
				"type: cursor", "cursor_param: page", "cursor_path: nextPage", "limit: 1000", "data_selector: entries"},
		},
		{
			name: "required parameters",
			spec: specHead + `paths:
  /a:
    get:
      parameters:
        - {name: status, in: query, required: true, schema: {type: string, enum: [open, closed]}}
      responses: {'200': {description: ok, content: {application/json: {schema: {type: array, items: ` + rec + `}}}}}
  /b:
    get:
      parameters: [{name: q, in: query, required: true, schema: {type: string}}]
      responses: {'200': {description: ok, content: {application/json: {schema: {type: array, items: ` + rec + `}}}}}
`,
			want: []string{"status: open # guessed from the parameter's first allowed value (required)",
				`selected: false # set query parameter "q" (required by the spec) under endpoint.params, then remove selected: false`},
		},
		{
			name: "names, nesting and a cycle",
			spec: specHead + `paths:
  /posts:
    get:
      responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/PostList'}}}}}
  /users:
    get:
      responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {
        meta: {type: object, properties: {pagination: {type: object}}},
        data: {type: object, properties: {users: {type: array, items: {$ref: '#/components/schemas/User'}}}}}}}}}}
  /users/{userId}/posts:
    get:
      parameters: [{name: userId, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/PostList'}}}}}
  /orgs/{org}/members:
    get:
      parameters: [{name: org, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: ok, content: {application/json: {schema: {type: array, items: {$ref: '#/components/schemas/User'}}}}}}
components:
  schemas:
    User: {type: object, properties: {user_id: {type: integer}, manager: {$ref: '#/components/schemas/User'}}}
    PostList: {type: array, items: {type: object, properties: {uuid: {type: string, format: uuid}}}}
`,
			want: []string{"- name: posts\n", "- name: users_posts\n", "data_selector: data.users",
				`path: /users/{resources.users.user_id}/posts # guessed: a child of users; {userId} is the parent record's "user_id"`,
				`primary_key: user_id # guessed from the record's "user_id" property`, `primary_key: uuid`,
				"GET /orgs/{org}/members: no list endpoint /orgs provides {org}"},
		},
		{
			name: "comment injection",
			spec: "openapi: 3.0.3\ninfo: {title: \"Evil\\nsource: {client: {base_url: 'http://evil'}}\\u001b[31m\", version: '1'}\nservers: [{url: 'https://api.test'}]\n" + oneList,
			want: []string{"# Generated by `restload init` from spec (Evil source: {client: {base_url: 'http://evil'}} [31m 1, OpenAPI 3.0.3)."},
			not:  []string{"\x1b"},
		},
		{
			// Strings from the spec are written literally: no ${env...}
			// read from the user's environment, no {placeholder}.
			name: "hostile strings",
			spec: "openapi: 3.0.3\ninfo: {title: T, version: '1'}\nservers: [{url: 'https://api.test/${env.HOME}'}]\npaths:\n" +
				"  /a/{x/items:\n    get:\n      parameters: [{name: q, in: query, required: true, schema: {type: string, default: '${secrets.leak}{resources.a.b}'}}]\n" +
				"      responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {'${env.PATH}': {type: array, items: {type: object}}}}}}}}\n",
			want: []string{"base_url: https://api.test/$%7Benv.HOME%7D", "path: /a/{{x/items",
				"q: $${{secrets.leak}}{{resources.a.b}}", `data_selector: $['$${env.PATH}']`},
			not: []string{"secrets.leak}\n", "/" + os.Getenv("HOME")},
		},
		{
			// A list inside a single object is that object's, not the
			// response's; a list under a meta key is never the records; a
			// list of scalars is not records.
			name: "lists that are not records",
			spec: specHead + `paths:
  /team:
    get:
      responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {
        team: {type: object, properties: {domains: {type: array, items: {type: object}}}}}}}}}}
  /ids:
    get:
      responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {ids: {type: array, items: {type: integer}}}}}}}}
  /users:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  meta: {type: object, properties: {warnings: {type: array, items: {type: object}}}}
                  response_metadata: {type: array, items: {type: object}}
                  members: {type: array, items: {type: object, properties: {id: {type: string}}}}
`,
			want: []string{"GET /team: its response is not a JSON list", "GET /ids: its response is not a JSON list",
				`data_selector: members # guessed from the response schema's list property "members"` + "\n"},
		},
		{
			name: "no server",
			spec: "openapi: 3.0.3\ninfo: {title: T, version: '1'}\n" + oneList,
			want: []string{"base_url: https://api.example.com # guessed from a placeholder: the spec names no absolute server URL"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, text := generate(t, c.spec, nil, Options{Source: "spec"})
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("lacks %q\n%s", w, text)
				}
			}
			for _, w := range c.not {
				if strings.Contains(text, w) {
					t.Errorf("has %q\n%s", w, text)
				}
			}
		})
	}
}

func TestGenerateAuth(t *testing.T) {
	list := oneList
	cases := []struct {
		name, schemes string
		want          []string
	}{
		{"basic", "b: {type: http, scheme: basic}", []string{"type: http_basic", "username: ${secrets.api_username}", "password: ${secrets.api_password}"}},
		{"apikey query", "k: {type: apiKey, in: query, name: key}", []string{"type: api_key", "name: key", "location: query", "api_key: ${secrets.api_key}"}},
		{"oauth2 client credentials", "o: {type: oauth2, flows: {clientCredentials: {tokenUrl: /oauth/token, scopes: {read: r, write: w}}}}",
			[]string{"type: oauth2_client_credentials", "access_token_url: https://api.test/oauth/token", "client_id: ${secrets.client_id}", "- read", "- write"}},
		{"oauth2 authorization code", "o: {type: oauth2, flows: {authorizationCode: {authorizationUrl: 'https://auth.test/a', tokenUrl: 'https://auth.test/t', scopes: {}}}}",
			[]string{"type: oauth2 # refresh-token grant", "token_url: https://auth.test/t", "refresh_token: ${secrets.refresh_token}"}},
		{"openid connect", "oidc: {type: openIdConnect, openIdConnectUrl: 'https://x.test'}", []string{`# Note: security scheme "oidc" not used as such: type "openIdConnect" is not supported`,
			`auth: # guessed from security scheme "oidc", whose flow needs a browser: a token obtained beforehand, sent as a bearer token`, "type: bearer", "token: ${secrets.access_token}"}},
		{"implicit oauth2 loses to an api key", "a_oauth: {type: oauth2, flows: {implicit: {authorizationUrl: 'https://a.test', scopes: {}}}}\n    z_key: {type: apiKey, in: header, name: X-Key}",
			[]string{"type: api_key", "name: X-Key", `security scheme "a_oauth" not used as such`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := specHead + list + "components:\n  securitySchemes:\n    " + c.schemes + "\n"
			_, text := generate(t, spec, nil, Options{Source: "spec"})
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("lacks %q\n%s", w, text)
				}
			}
		})
	}
}

// TestGenerateParamAuth: a spec with no security scheme whose list
// endpoints take a token parameter gets API key auth with that parameter,
// which is then not a required parameter left to set.
func TestGenerateParamAuth(t *testing.T) {
	spec := specHead + `paths:
  /a:
    get:
      parameters: [{name: access_token, in: query, required: true, schema: {type: string}}]
      responses: {'200': {description: ok, content: {application/json: {schema: {type: array, items: {type: object}}}}}}
  /b:
    get:
      parameters: [{name: access_token, in: query, required: true, schema: {type: string}}]
      responses: {'200': {description: ok, content: {application/json: {schema: {type: array, items: {type: object}}}}}}
`
	_, text := generate(t, spec, nil, Options{Source: "spec"})
	for _, w := range []string{`auth: # guessed from the query parameter "access_token" that 2 of 2 list endpoints take`,
		"type: api_key", "name: access_token", "location: query", "api_key: ${secrets.api_key}"} {
		if !strings.Contains(text, w) {
			t.Errorf("lacks %q\n%s", w, text)
		}
	}
	if strings.Contains(text, "selected: false") {
		t.Errorf("the token parameter was left as a required parameter to set:\n%s", text)
	}
}

// TestGenerateBounded: a spec built to blow up schema walks (a cyclic
// allOf fanning out, wide objects nested in wide objects) is done quickly.
func TestGenerateBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(specHead + "paths:\n  /a:\n    get:\n      responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/W'}}}}}\n")
	b.WriteString("components:\n  schemas:\n    C: {allOf: [")
	for i := range 20 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("{$ref: '#/components/schemas/C'}")
	}
	b.WriteString("], properties: {data: {type: array, items: {type: object}}}}\n    W:\n      type: object\n      properties:\n")
	for i := range 300 {
		fmt.Fprintf(&b, "        p%d: {$ref: '#/components/schemas/X'}\n", i)
	}
	b.WriteString("        list: {$ref: '#/components/schemas/C'}\n    X:\n      type: object\n      properties:\n")
	for i := range 300 {
		fmt.Fprintf(&b, "        q%d: {$ref: '#/components/schemas/W'}\n", i)
	}
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		s, err := Parse([]byte(b.String()), nil)
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = Generate(s, Options{Source: "spec"})
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Generate did not finish in 20s")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Generate took %v", d)
	}
}

// TestSwagger2JSON reads a Swagger 2.0 description written as JSON.
func TestSwagger2JSON(t *testing.T) {
	spec := `{"swagger": "2.0", "info": {"title": "S", "version": "1"}, "host": "api.test", "basePath": "/v2", "schemes": ["https"],
	  "securityDefinitions": {"b": {"type": "basic"}}, "security": [{"b": []}],
	  "paths": {"/items": {"get": {"parameters": [{"name": "offset", "in": "query", "type": "integer"}, {"name": "limit", "in": "query", "type": "integer", "maximum": 50}],
	    "responses": {"200": {"description": "ok", "schema": {"type": "object", "properties": {"total_count": {"type": "integer"}, "items": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}}}}}}}}}}}}`
	_, text := generate(t, spec, nil, Options{Source: "s.json"})
	for _, w := range []string{"Swagger 2.0", "base_url: https://api.test/v2", "type: http_basic", "type: offset", "limit: 50", "total_path: total_count", "data_selector: items", "primary_key: id"} {
		if !strings.Contains(text, w) {
			t.Errorf("lacks %q\n%s", w, text)
		}
	}
}

// TestReadURL fetches a spec over HTTP; a relative server URL resolves
// against the spec's own URL; an oversized or failing answer is an error.
func TestReadURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/spec.yaml":
			w.Write([]byte("openapi: 3.0.3\ninfo: {title: T, version: '1'}\nservers: [{url: /api}]\n" + oneList))
		case "/big":
			w.Write(make([]byte, MaxSpecBytes+1))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	data, loc, err := Read(context.Background(), srv.URL+"/spec.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, text := generate(t, string(data), loc, Options{Source: srv.URL + "/spec.yaml"})
	if !strings.Contains(text, "base_url: "+srv.URL+"/api # guessed from the spec's first server") {
		t.Errorf("relative server URL not resolved against the spec's URL:\n%s", text)
	}
	if _, _, err := Read(context.Background(), srv.URL+"/big", nil); err == nil || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Errorf("oversized spec: %v", err)
	}
	if _, _, err := Read(context.Background(), srv.URL+"/nope", nil); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("404: %v", err)
	}
}

// FuzzGenerate: any bytes either fail to parse or give a pipeline file
// that is valid YAML, without panicking.
func FuzzGenerate(f *testing.F) {
	f.Add([]byte(specHead + "paths: {}\n"))
	f.Add([]byte(specHead + "paths:\n  /a/{x}/b:\n    get:\n      responses: {'200': {description: ok, content: {application/json: {schema: {type: array, items: {$ref: '#/components/schemas/A'}}}}}}\ncomponents: {schemas: {A: {type: object, properties: {a: {$ref: '#/components/schemas/A'}}}}}\n"))
	f.Add([]byte(`{"swagger": "2.0", "info": {"title": "S", "version": "1"}, "paths": {"/i": {"get": {"responses": {"200": {"description": "ok", "schema": {"type": "array", "items": {}}}}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, nil)
		if err != nil {
			return
		}
		res, err := Generate(s, Options{Source: "fuzz"})
		if err != nil {
			return
		}
		var v any
		if err := yaml.Unmarshal(res.YAML, &v); err != nil {
			t.Fatalf("generated YAML does not parse: %v\n%s", err, res.YAML)
		}
	})
}
