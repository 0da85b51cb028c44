package config

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// env is a fake environment for LoadOptions.LookupEnv.
func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

var seedEnv = env("CLIENT_ID", "env-client-id", "CLIENT_SECRET", "env-client-secret", "CLIENT_REFRESH_TOKEN", "env-refresh")

func mustLoad(t *testing.T, path string, opts LoadOptions) *Pipeline {
	t.Helper()
	p, err := Load(path, opts)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return p
}

func TestLoadSeed(t *testing.T) {
	names := []string{"files", "connections", "datasets", "members", "teams", "templates", "workspaces", "workbooks"}
	for _, file := range []string{"testdata/seed.yaml", "testdata/seed.json"} {
		t.Run(file, func(t *testing.T) {
			p := mustLoad(t, file, LoadOptions{LookupEnv: seedEnv})

			if got, want := p.Pipeline, (PipelineBlock{Name: "analytics", Dataset: "analytics_raw", Destination: "duckdb:analytics.duckdb"}); got != want {
				t.Errorf("pipeline block = %+v, want %+v", got, want)
			}
			a := p.Source.Client.Auth
			if a.Type != "oauth2" || a.ClientID != "env-client-id" || a.ClientSecret != "env-client-secret" ||
				a.RefreshToken != "env-refresh" || a.TokenURL != "https://api.example.com/v2/auth/token" {
				t.Errorf("auth = %+v", a)
			}
			if a.DefaultTokenExpiration != 3600 {
				t.Errorf("default_token_expiration = %d, want 3600", a.DefaultTokenExpiration)
			}
			var got []string
			for _, r := range p.Source.Resources {
				got = append(got, r.Name)
			}
			if !slices.Equal(got, names) {
				t.Fatalf("resources = %v, want %v", got, names)
			}
			for _, r := range p.Source.Resources {
				e := r.Endpoint
				if e.Path != "/"+r.Name || e.Method != "GET" || e.DataSelector != "entries" {
					t.Errorf("%s endpoint = %s %s selector %q", r.Name, e.Method, e.Path, e.DataSelector)
				}
				if !reflect.DeepEqual(e.Params, map[string]any{"limit": 100}) {
					t.Errorf("%s params = %#v, want limit 100 from resource_defaults", r.Name, e.Params)
				}
				if !slices.Equal(r.PrimaryKey, StringList{"id"}) || r.WriteDisposition.Disposition != "merge" || r.WriteDisposition.Strategy != "delete-insert" {
					t.Errorf("%s primary key %v, write disposition %+v", r.Name, r.PrimaryKey, r.WriteDisposition)
				}
				pg := e.Paginator
				if pg.Type != "page_number" || pg.PageParam != "page" || pg.LimitParam != "limit" ||
					pg.Page == nil || *pg.Page != 1 || *pg.StartFromPage != 1 {
					t.Errorf("%s paginator = %+v", r.Name, pg)
				}
				if r.TableName != r.Name || r.Pos.Line == 0 || pg.Pos.Line == 0 {
					t.Errorf("%s table %q, positions %v %v", r.Name, r.TableName, r.Pos, pg.Pos)
				}
			}
			rp := p.RetryPolicy()
			if *rp.MaxRetries != 3 || *rp.BackoffFactor != 2 || !slices.Equal(rp.StatusCodes, []int{429, 500, 502, 503, 504}) ||
				time.Duration(rp.MaxDelay) != time.Minute {
				t.Errorf("retry policy = %d %v %v %v", *rp.MaxRetries, *rp.BackoffFactor, rp.StatusCodes, rp.MaxDelay)
			}
			secrets := p.SecretValues()
			slices.Sort(secrets)
			if want := []string{"env-client-id", "env-client-secret", "env-refresh"}; !slices.Equal(secrets, want) {
				t.Errorf("SecretValues() = %v, want %v", secrets, want)
			}
		})
	}
}

// clearPositions zeroes what legitimately differs between the YAML and JSON
// versions of a file.
func clearPositions(p *Pipeline) {
	p.File, p.at = "", nil
	for i := range p.Source.Resources {
		r := &p.Source.Resources[i]
		r.Pos = Pos{}
		r.Endpoint.Paginator.Pos = Pos{}
	}
}

func TestSeedYAMLAndJSONAgree(t *testing.T) {
	y := mustLoad(t, "testdata/seed.yaml", LoadOptions{LookupEnv: seedEnv})
	j := mustLoad(t, "testdata/seed.json", LoadOptions{LookupEnv: seedEnv})
	clearPositions(y)
	clearPositions(j)
	if !reflect.DeepEqual(y, j) {
		t.Errorf("YAML and JSON seeds differ:\nyaml %+v\njson %+v", y, j)
	}
}

func TestBareSource(t *testing.T) {
	p := mustLoad(t, "testdata/bare_source.yaml", LoadOptions{LookupEnv: env("GITHUB_TOKEN", "ghp_token123")})
	if p.Pipeline.Name != "bare_source" || p.Pipeline.Dataset != "bare_source_dataset" || p.Pipeline.Destination != "" {
		t.Errorf("pipeline block = %+v", p.Pipeline)
	}
	if got := p.DestinationURL(""); got != "duckdb:bare_source.duckdb" {
		t.Errorf("DestinationURL(\"\") = %q", got)
	}
	if got := p.DestinationURL("postgres://x/y"); got != "postgres://x/y" {
		t.Errorf("DestinationURL(override) = %q", got)
	}
	if got := p.Source.Client.Headers["Authorization"]; got != "Bearer ghp_token123" {
		t.Errorf("Authorization header = %q", got)
	}
	// An env value used in headers is a credential.
	if got := p.SecretValues(); !slices.Equal(got, []string{"ghp_token123"}) {
		t.Errorf("SecretValues() = %v", got)
	}
	issues := p.Resource("issues")
	if issues == nil || issues.Endpoint.Path != "issues" || issues.Endpoint.Paginator.Type != "header_link" ||
		issues.WriteDisposition.Disposition != "append" || issues.Parent() != "" {
		t.Fatalf("issues = %+v", issues)
	}
	comments := p.Resource("issue_comments")
	if comments.Parent() != "issues" || comments.Endpoint.Paginator.Type != "header_link" {
		t.Errorf("issue_comments parent %q paginator %+v", comments.Parent(), comments.Endpoint.Paginator)
	}
	if p.Resource("nope") != nil {
		t.Error(`Resource("nope") != nil`)
	}
	if pos, ok := p.Position(p.SourcePath("resources[1].endpoint.path")); !ok || pos.Line != 14 {
		t.Errorf("Position(resources[1].endpoint.path) = %v, %v; want line 14", pos, ok)
	}
}

func TestMergeDefaults(t *testing.T) {
	p := mustLoad(t, "testdata/merge.yaml", LoadOptions{LookupEnv: env()})
	orders, customers, plain := p.Resource("orders"), p.Resource("customers"), p.Resource("plain")

	tests := []struct {
		name      string
		got, want any
	}{
		{"params merged one level, resource wins", orders.Endpoint.Params, map[string]any{"limit": 50, "sort": "desc", "status": "open"}},
		{"json merged one level", orders.Endpoint.JSON, map[string]any{"filter": map[string]any{"paid": false}, "fields": []any{"id", "name"}}},
		{"headers replaced, not merged", orders.Endpoint.Headers, map[string]string{"X-Own": "2"}},
		{"method from defaults, upper-cased", orders.Endpoint.Method, "POST"},
		{"path defaults to name", orders.Endpoint.Path, "orders"},
		{"primary key from resource", orders.PrimaryKey, StringList{"order_id"}},
		{"primary key from defaults", customers.PrimaryKey, StringList{"id"}},
		{"write disposition", *orders.WriteDisposition, WriteDisposition{Disposition: "merge", Strategy: "upsert"}},
		{"columns deep-merged", orders.Columns, map[string]ColumnHint{
			"created_at": {DataType: "timestamp"},
			"amount":     {DataType: "decimal", Precision: ptr(10), Scale: ptr(2)},
			"note":       {DataType: "text"},
		}},
		{"max_table_nesting from defaults", *plain.MaxTableNesting, 1},
		{"endpoint paginator beats defaults", customers.Endpoint.Paginator.Type, "single_page"},
		{"defaults paginator beats client", orders.Endpoint.Paginator.Type, "offset"},
		{"table name", customers.TableName, "crm_customers"},
		{"bare string resource gets defaults endpoint", plain.Endpoint.Params, map[string]any{"limit": 50, "sort": "asc"}},
		{"bare string resource path", plain.Endpoint.Path, "plain"},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}

	// Resources must not share maps with each other or with the defaults.
	plain.Endpoint.Params["limit"] = 1
	plain.Columns["created_at"] = ColumnHint{DataType: "text"}
	*plain.MaxTableNesting = 5
	if customers.Endpoint.Params["limit"] != 50 || p.Source.ResourceDefaults.Endpoint.Params["limit"] != 50 ||
		customers.Columns["created_at"].DataType != "timestamp" || *customers.MaxTableNesting != 1 {
		t.Error("merged resources share maps or pointers")
	}
}

func ptr[T any](v T) *T { return &v }

func TestErrors(t *testing.T) {
	opts := LoadOptions{LookupEnv: env("METHOD", "DELETE-sekrit", "API_HOST", "host sekrit")}
	tests := []struct {
		file string
		want []string
	}{
		{"syntax.yaml", []string{
			"testdata/errors/syntax.yaml:4:4: invalid YAML: did not find expected key",
		}},
		{"unknown_key.yaml", []string{
			`testdata/errors/unknown_key.yaml:9:11: source.resources[0].endpoint.paginator.page_parm: unknown key (did you mean "page_param"?)`,
			"testdata/errors/unknown_key.yaml:10:9: source.resources[0].endpoint.bogus_thing: unknown key (valid keys: auth, data, data_selector, headers, incremental, json, method, paginator, params, path, response_actions)",
			"testdata/errors/unknown_key.yaml:12:7: source.resources[1].paginator: unknown key (did you mean endpoint.paginator?)",
		}},
		{"misplaced.yaml", []string{
			"testdata/errors/misplaced.yaml:1:1: client: unknown key (did you mean source.client?)",
			"testdata/errors/misplaced.yaml:5:1: resources: unknown key (did you mean source.resources?)",
		}},
		{"duplicate_key.yaml", []string{
			"testdata/errors/duplicate_key.yaml:4:5: source.client.base_url: duplicate key (first set on line 3)",
		}},
		{"wrong_type.yaml", []string{
			`testdata/errors/wrong_type.yaml:4:14: source.client.timeout: want a duration such as "30s" or a number of seconds, got string "soon"`,
			`testdata/errors/wrong_type.yaml:7:26: source.resources[0].max_table_nesting: want a number, got string "abc"`,
			`testdata/errors/wrong_type.yaml:8:17: source.resources[0].selected: want true or false, got string "maybe"`,
			"testdata/errors/wrong_type.yaml:9:20: source.resources[0].primary_key: want a string or a list of strings, got a mapping",
			"testdata/errors/wrong_type.yaml:13:18: source.resources[0].endpoint.paginator.limit: want a whole number, got number 2.5",
			"testdata/errors/wrong_type.yaml:14:18: source.resources[0].endpoint.headers: want a mapping, got a list",
			`testdata/errors/wrong_type.yaml:17:19: retry.backoff_factor: want a number, got string "fast"`,
		}},
		{"base_url.yaml", []string{
			"testdata/errors/base_url.yaml:3:15: source.client.base_url: want an absolute http(s) URL such as https://api.example.com/v1",
		}},
		{"base_url_missing.json", []string{
			"testdata/errors/base_url_missing.json:2:13: client.base_url: missing required key",
		}},
		{"names.yaml", []string{
			"testdata/errors/names.yaml:6:7: source.resources[1].name: missing required key",
			`testdata/errors/names.yaml:7:7: source.resources[2].name: duplicate resource name "a" (first used by resources[0] on line 5)`,
		}},
		{"paginator.yaml", []string{
			`testdata/errors/paginator.yaml:4:16: source.client.paginator.type: unknown paginator type "curser" (did you mean "cursor"?)`,
			"testdata/errors/paginator.yaml:10:24: source.resources[0].endpoint.paginator.cursor_path: not used by page_number paginator (it takes base_page, has_more_path, limit_body_path, limit_param, maximum_page, next_page_path, page, page_body_path, page_param, start_from_page, stop_after_empty_page, total_counts, total_path)",
			"testdata/errors/paginator.yaml:12:28: source.resources[0].endpoint.paginator.start_from_page: cannot be used together with page",
			"testdata/errors/paginator.yaml:14:27: source.resources[0].endpoint.paginator.page_body_path: cannot be used together with page_param",
			"testdata/errors/paginator.yaml:17:9: source.resources[1].endpoint.paginator.limit: missing required key for offset paginator",
			"testdata/errors/paginator.yaml:22:20: source.resources[2].endpoint.paginator.type: missing required key (one of single_page, page_number, offset, cursor, json_link, header_link, header_cursor, auto)",
			"testdata/errors/paginator.yaml:25:47: source.resources[3].endpoint.paginator.limit: not used by single_page paginator, which takes no other keys",
		}},
		{"auth.yaml", []string{
			"testdata/errors/auth.yaml:4:5: source.client.auth.token_url: missing required key for oauth2 auth (or, as dlt reads it, set SOURCES__REST_API__CREDENTIALS__TOKEN_URL or token_url under [sources.rest_api.credentials] in .dlt/secrets.toml)",
			`testdata/errors/auth.yaml:11:53: source.resources[0].endpoint.auth.location: unknown api_key location "body" (want one of header, query, cookie)`,
			`testdata/errors/auth.yaml:14:22: source.resources[1].endpoint.auth.type: unknown auth type "basic_auth" (want one of bearer, api_key, http_basic, oauth2_client_credentials, oauth2)`,
			"testdata/errors/auth.yaml:17:36: source.resources[2].endpoint.auth.username: not used by bearer auth (it takes token)",
		}},
		{"write_disposition.yaml", []string{
			`testdata/errors/write_disposition.yaml:6:26: source.resources[0].write_disposition: unknown write disposition "upsert" (want one of append, replace, merge)`,
			"testdata/errors/write_disposition.yaml:10:7: source.resources[2].primary_key: the merge write disposition needs a primary_key",
			"testdata/errors/write_disposition.yaml:13:59: source.resources[3].write_disposition.strategy: a strategy applies only to the merge disposition",
		}},
		{"merge_strategy.yaml", []string{
			"testdata/errors/merge_strategy.yaml:7:7: source.resources[1].primary_key: the insert-only merge strategy needs a primary_key",
			"testdata/errors/merge_strategy.yaml:11:88: source.resources[2].write_disposition.validity_column_names: applies only to the scd2 merge strategy",
			"testdata/errors/merge_strategy.yaml:13:86: source.resources[3].write_disposition.validity_column_names: want two column names, [valid from, valid to], got 1",
			`testdata/errors/merge_strategy.yaml:13:114: source.resources[3].write_disposition.boundary_timestamp: want a date or date-time such as 2024-01-31 or 2024-01-31T12:00:00Z, got "yesterday"`,
			`testdata/errors/merge_strategy.yaml:19:31: source.resources[4].columns.updated.dedup_sort: unknown dedup_sort "up" (want one of desc, asc)`,
			"testdata/errors/merge_strategy.yaml:22:32: source.resources[5].columns.deleted.hard_delete: applies only to the merge write disposition",
			"testdata/errors/merge_strategy.yaml:23:27: source.resources[5].columns.seq.dedup_sort: applies only to the merge write disposition with a primary_key (strategies delete-insert, upsert, insert-only)",
			"testdata/errors/merge_strategy.yaml:29:25: source.resources[6].columns.b.dedup_sort: only one column can be dedup_sort (a is too)",
			`testdata/errors/merge_strategy.yaml:32:57: source.resources[7].write_disposition.strategy: unknown merge strategy "scd3" (did you mean "scd2"?)`,
			"testdata/errors/merge_strategy.yaml:36:32: source.resources[8].columns.deleted.hard_delete: is not supported with the scd2 merge strategy (an absent record retires its version)",
		}},
		{"endpoint.yaml", []string{
			"testdata/errors/endpoint.yaml:6:26: source.resources[0].max_table_nesting: must not be negative",
			`testdata/errors/endpoint.yaml:8:17: source.resources[0].endpoint.method: unsupported method "PUT" (want GET or POST)`,
			"testdata/errors/endpoint.yaml:10:15: source.resources[0].endpoint.data: json and data cannot both be set",
			`testdata/errors/endpoint.yaml:11:24: source.resources[0].endpoint.data_selector: invalid JSONPath "$.data[?": jsonpath: unexpected eof at position 9`,
			`testdata/errors/endpoint.yaml:13:40: source.resources[0].endpoint.response_actions[0].action: unknown action "skip" (the only action is ignore)`,
			"testdata/errors/endpoint.yaml:14:13: source.resources[0].endpoint.response_actions[1]: want status_code or content to match responses",
			"testdata/errors/endpoint.yaml:15:9: source.resources[0].endpoint.incremental.cursor_path: missing required key",
			`testdata/errors/endpoint.yaml:16:28: source.resources[0].endpoint.incremental.last_value_func: unknown last_value_func "median" (want one of max, min)`,
		}},
		{"parents.yaml", []string{
			"testdata/errors/parents.yaml:5:7: source.resources[0]: parent references form a cycle: a -> c -> b -> a",
			`testdata/errors/parents.yaml:17:22: source.resources[3].endpoint.json.ids[0]: unknown parent resource in {resources.users.id}`,
			"testdata/errors/parents.yaml:19:28: source.resources[4].include_from_parent: set, but the resource has no parent ({resources.<name>.<field>} reference)",
		}},
		{"retry.yaml", []string{
			"testdata/errors/retry.yaml:4:16: retry.max_retries: must not be negative",
			"testdata/errors/retry.yaml:5:19: retry.backoff_factor: must be greater than 0",
			"testdata/errors/retry.yaml:6:23: retry.status_codes[1]: want an HTTP status between 100 and 599",
			`testdata/errors/retry.yaml:7:14: retry.max_delay: want a duration such as "30s" or a number of seconds, got string "2 minutes"`,
		}},
		{"secrets.yaml", []string{
			"testdata/errors/secrets.yaml:3:15: source.client.base_url: want an absolute http(s) URL such as https://api.example.com/v1",
			"testdata/errors/secrets.yaml:5:14: source.client.headers.X-Key: environment variable MISSING_KEY is not set",
			`testdata/errors/secrets.yaml:6:16: source.client.headers.X-Other: unknown reference "${vault.key}": want ${secrets.NAME} or ${env.NAME}`,
			"testdata/errors/secrets.yaml:9:14: source.client.auth.token: unclosed ${ (write $${ for a literal ${)",
			`testdata/errors/secrets.yaml:13:17: source.resources[0].endpoint.method: unsupported method <secret> (want GET or POST)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := Load("testdata/errors/"+tt.file, opts)
			if p != nil {
				t.Errorf("Load returned a pipeline along with errors")
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Load error = %v (%T), want Errors", err, err)
			}
			got := strings.Split(err.Error(), "\n")
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if len(errs) != len(tt.want) {
				t.Errorf("len(Errors) = %d, want %d", len(errs), len(tt.want))
			}
			for _, s := range []string{"sekrit"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("a secret value leaked into the errors: %v", err)
				}
			}
			var one *Error
			if !errors.As(err, &one) || one.File != "testdata/errors/"+tt.file {
				t.Errorf("errors.As(*Error) = %+v", one)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	const seed = "testdata/seed.yaml"
	tests := []struct {
		name    string
		file    string
		opts    LoadOptions
		want    [3]string // client_id, client_secret, refresh_token
		wantErr []string
	}{
		{
			name: "environment",
			file: seed, opts: LoadOptions{LookupEnv: seedEnv},
			want: [3]string{"env-client-id", "env-client-secret", "env-refresh"},
		},
		{
			name: "dlt-style table in TOML, keys matched case-insensitively",
			file: seed, opts: LoadOptions{SecretsFile: "testdata/secrets/dlt_style.toml", LookupEnv: env()},
			want: [3]string{"id-from-toml", "secret-from-toml", "refresh-from-toml"},
		},
		{
			name: "environment wins over TOML",
			file: seed, opts: LoadOptions{SecretsFile: "testdata/secrets/top_level.toml", LookupEnv: env("CLIENT_SECRET", "from-env")},
			want: [3]string{"top-id", "from-env", "top-refresh"},
		},
		{
			name: "same key in two tables",
			file: seed, opts: LoadOptions{SecretsFile: "testdata/secrets/ambiguous.toml", LookupEnv: env()},
			wantErr: []string{
				`testdata/seed.yaml:12:18: source.client.auth.client_id: secret "client_id" has different values in testdata/secrets/ambiguous.toml (a.client_id, b.client_id); name one as ${secrets.a.client_id}`,
			},
		},
		{
			name: "missing secrets, default file absent",
			file: seed, opts: LoadOptions{LookupEnv: env("CLIENT_ID", "x")},
			wantErr: []string{
				`testdata/seed.yaml:13:22: source.client.auth.client_secret: secret "client_secret" is not set: set the environment variable CLIENT_SECRET or add client_secret to testdata/.restload/secrets.toml (file not found)`,
				`testdata/seed.yaml:14:22: source.client.auth.refresh_token: secret "client_refresh_token" is not set: set the environment variable CLIENT_REFRESH_TOKEN or add client_refresh_token to testdata/.restload/secrets.toml (file not found)`,
			},
		},
		{
			name: "explicit secrets file missing",
			file: seed, opts: LoadOptions{SecretsFile: "testdata/secrets/nope.toml", LookupEnv: seedEnv},
			wantErr: []string{
				"testdata/secrets/nope.toml: cannot read secrets file: no such file or directory",
			},
		},
		{
			name: "broken TOML",
			file: seed, opts: LoadOptions{SecretsFile: "testdata/secrets/broken.toml", LookupEnv: seedEnv},
			wantErr: []string{
				"testdata/secrets/broken.toml:1:26: invalid TOML: strings cannot contain newlines",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Load(tt.file, tt.opts)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("Load succeeded, want errors")
				}
				if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, tt.wantErr) {
					t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(tt.wantErr, "\n"))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a := p.Source.Client.Auth
			if got := [3]string{a.ClientID, a.ClientSecret, a.RefreshToken}; got != tt.want {
				t.Errorf("secrets = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDefaultSecretsFile(t *testing.T) {
	p := mustLoad(t, "testdata/default_secrets/pipeline.yaml", LoadOptions{LookupEnv: env()})
	if got := p.Source.Client.Auth.Token; got != "tok-from-default-file" {
		t.Errorf("token = %q", got)
	}
	if got := DefaultSecretsFile("testdata/default_secrets/pipeline.yaml"); got != "testdata/default_secrets/.restload/secrets.toml" {
		t.Errorf("DefaultSecretsFile = %q", got)
	}
}

// TestSecretNeverInErrors feeds resolved secrets into every kind of field
// that can fail and checks that no error shows them.
func TestSecretNeverInErrors(t *testing.T) {
	const secret = "s3cr3t-value"
	src := `
source:
  client:
    base_url: "${secrets.url}"
    auth: {type: "${secrets.kind}", token: "${secrets.tok}"}
    paginator: {type: "${secrets.kind}"}
  resources:
    - name: "${secrets.tok}"
      write_disposition: "${secrets.tok}"
      endpoint:
        path: "x/{resources.${secrets.tok}.id}"
        method: "${secrets.tok}"
        data_selector: "$[${secrets.tok}"
        paginator: {type: offset, limit: "${secrets.tok}"}
`
	_, err := Parse("p.yaml", []byte(src), LoadOptions{LookupEnv: env("URL", secret, "KIND", secret, "TOK", secret)})
	if err == nil {
		t.Fatal("Parse succeeded, want errors")
	}
	if n := len(err.(Errors)); n < 7 {
		t.Errorf("got %d errors, want at least 7:\n%v", n, err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("secret leaked:\n%v", err)
	}
	// Values are hidden where they are formatted, not only scrubbed after.
	if n := strings.Count(err.Error(), "<secret>"); n < 5 {
		t.Errorf("%d values shown as <secret>, want at least 5:\n%v", n, err)
	}
}

func TestValues(t *testing.T) {
	src := `
pipeline: {name: Custom Name}
limits: {concurrency: 4, requests_per_second: 2.5}
retry: {max_delay: 90, status_codes: [503]}
source:
  client:
    base_url: http://localhost:8080
    timeout: 1m30s
    auth: {type: api_key, api_key: "${env.KEY}"}
  resources:
    - name: a
      primary_key: [a, b]
      schema_contract: freeze
      write_disposition: {disposition: replace}
      endpoint:
        data: "body with $${literal}"
        params:
          i: 1
          f: 1.5
          b: true
          n: null
          s: "2"
          d: 2024-01-02
          l: [1, x]
          m: {k: v}
          pages: "${env.PAGES}"
        incremental:
          cursor_path: updated_at
          initial_value: 2024-01-01T00:00:00Z
    - &tmpl
      name: b
      schema_contract: {tables: evolve, columns: discard_value}
      endpoint:
        paginator: {type: json_link}
        response_actions: [{status_code: 404, action: ignore}]
    - <<: *tmpl
      name: c
`
	p, err := Parse("values.yaml", []byte(src), LoadOptions{LookupEnv: env("KEY", "k-123", "PAGES", "7")})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := p.Resource("a"), p.Resource("b"), p.Resource("c")
	tests := []struct {
		name      string
		got, want any
	}{
		{"pipeline name kept as written", p.Pipeline.Name, "Custom Name"},
		{"limits", *p.Limits, Limits{Concurrency: 4, RequestsPerSecond: 2.5}},
		{"duration from seconds", p.RetryPolicy().MaxDelay, Duration(90 * time.Second)},
		{"retry keeps own codes", p.RetryPolicy().StatusCodes, []int{503}},
		{"retry default max retries", *p.RetryPolicy().MaxRetries, 3},
		{"duration string", p.Source.Client.Timeout, Duration(90 * time.Second)},
		{"api_key defaults", *p.Source.Client.Auth, Auth{Type: "api_key", APIKey: "k-123", Name: "Authorization", Location: "header"}},
		{"env under auth is secret", p.SecretValues(), []string{"k-123"}},
		{"string list", a.PrimaryKey, StringList{"a", "b"}},
		{"schema contract string", *a.SchemaContract, SchemaContract{"freeze", "freeze", "freeze"}},
		{"schema contract mapping", *b.SchemaContract, SchemaContract{Tables: "evolve", Columns: "discard_value"}},
		{"disposition mapping", *a.WriteDisposition, WriteDisposition{Disposition: "replace"}},
		{"escaped ${", a.Endpoint.Data, "body with ${literal}"},
		{"plain params", a.Endpoint.Params, map[string]any{
			"i": 1, "f": 1.5, "b": true, "n": nil, "s": "2", "d": "2024-01-02",
			"l": []any{1, "x"}, "m": map[string]any{"k": "v"}, "pages": "7",
		}},
		{"timestamp kept as text", a.Endpoint.Incremental.InitialValue, "2024-01-01T00:00:00Z"},
		{"merge key copies anchor", c.Endpoint.Paginator.Type, "json_link"},
		{"response action", *c.Endpoint.ResponseActions[0].StatusCode, 404},
		{"explicit key beats merged", c.Name, "c"},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
}

func TestNumbersFromEnv(t *testing.T) {
	src := "retry: {max_retries: \"${env.N}\", backoff_factor: \"${env.F}\"}\nsource: {client: {base_url: \"https://x.io\"}, resources: [a]}\n"
	p, err := Parse("n.yaml", []byte(src), LoadOptions{LookupEnv: env("N", "5", "F", "0.5")})
	if err != nil {
		t.Fatal(err)
	}
	if r := p.RetryPolicy(); *r.MaxRetries != 5 || *r.BackoffFactor != 0.5 {
		t.Errorf("retry = %d %v", *r.MaxRetries, *r.BackoffFactor)
	}
}

func TestNoResourcesAndEmptyFile(t *testing.T) {
	tests := []struct{ src, want string }{
		{"", "e.yaml: file is empty"},
		{"- a\n", "e.yaml:1:1: want a mapping at the top level, got a list"},
		{"source:\n  client: {base_url: 'https://x.io'}\n", "e.yaml:1:1: source.resources: at least one resource is required"},
	}
	for _, tt := range tests {
		_, err := Parse("e.yaml", []byte(tt.src), LoadOptions{LookupEnv: env()})
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) error = %v, want %q", tt.src, err, tt.want)
		}
	}
}

func TestNameFromFile(t *testing.T) {
	tests := map[string]string{
		"pipelines/My-Pipeline.yaml": "my_pipeline",
		"sigmaAPI.json":              "sigma_api",
		"2024 export.yml":            "p_2024_export",
		"":                           "pipeline",
		"x/.yaml":                    "pipeline",
	}
	for in, want := range tests {
		if got := nameFromFile(in); got != want {
			t.Errorf("nameFromFile(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"page_param", "page_body_path", "limit", "base_url"}
	tests := map[string]string{"page_parm": "page_param", "limt": "limit", "baseurl": "base_url", "xyz": "", "totally_unrelated": ""}
	for in, want := range tests {
		if got := suggest(in, keys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEnvInAuthLocatorsIsNotSecret: an auth block's token URL, type or
// scopes taken from the environment only locate a credential, so the
// value is not redacted from every URL that shares it (the seed reads its
// base URL and token URL from one variable); credentials from the
// environment still are, and so is a token URL whose query or user
// information the variable fills.
func TestEnvInAuthLocatorsIsNotSecret(t *testing.T) {
	src := `
source:
  client:
    base_url: ${env.API}/v2
    auth:
      type: oauth2
      token_url: ${env.API}/v2/auth/token
      client_id: ${env.ID}
      client_secret: ${env.SECRET}
      refresh_token: ${env.REFRESH}
      scopes: ["${env.SCOPE}"]
  resources: [files]
`
	p, err := Parse("p.yaml", []byte(src), LoadOptions{LookupEnv: env(
		"API", "https://api.example.com", "ID", "id-1", "SECRET", "s-2", "REFRESH", "r-3", "SCOPE", "read")})
	if err != nil {
		t.Fatal(err)
	}
	got := p.SecretValues()
	slices.Sort(got)
	if want := []string{"id-1", "r-3", "s-2"}; !slices.Equal(got, want) {
		t.Errorf("secret values = %q, want %q (the API's URL and the scope are not secrets)", got, want)
	}

	for _, c := range []struct{ tokenURL, api string }{
		{"https://auth.example.com/token?key=${env.API}", "k-4"},
		{"${env.API}/token", "https://user:pw@auth.example.com"},
		{"${env.API}/token", "https://auth.example.com/t?sig=abc"},
	} {
		src := "source:\n  client:\n    base_url: https://x.io\n    auth: {type: oauth2, token_url: \"" + c.tokenURL +
			"\", client_id: a, client_secret: b, refresh_token: c}\n  resources: [files]\n"
		p, err := Parse("p.yaml", []byte(src), LoadOptions{LookupEnv: env("API", c.api)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(p.SecretValues(), c.api) {
			t.Errorf("token_url %s with API=%s: %q is not kept secret (%q)", c.tokenURL, c.api, c.api, p.SecretValues())
		}
	}
}
