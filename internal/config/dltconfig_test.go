package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dltProject writes a pipeline file and the given .dlt files into a new
// directory and returns the pipeline file's path.
func dltProject(t *testing.T, pipeline string, dotDlt map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if len(dotDlt) > 0 {
		if err := os.Mkdir(filepath.Join(dir, ".dlt"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range dotDlt {
		if err := os.WriteFile(filepath.Join(dir, ".dlt", name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(file, []byte(pipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestDltLookupOrder: auth keys the file leaves out come from dlt's
// providers in dlt's order (environment, then .dlt/secrets.toml, then
// .dlt/config.toml for what is not a secret), the most specific section
// first, the pipeline name as a leading section before all; a value
// written in the file always wins.
func TestDltLookupOrder(t *testing.T) {
	const bare = "client:\n  base_url: https://api.example.com\n  auth: %s\nresources: [things]\n"
	cases := []struct {
		name, auth, secrets, config string
		env                         map[string]string
		key, want                   string
	}{
		{"shorthand from secrets.toml", "bearer", "[sources.rest_api.credentials]\ntoken = \"s-1\"\n", "", nil, "token", "s-1"},
		{"client.auth path", "{type: bearer}", "", "", map[string]string{"SOURCES__REST_API__CLIENT__AUTH__TOKEN": "e-1"}, "token", "e-1"},
		{"credentials env", "bearer", "", "", map[string]string{"SOURCES__CREDENTIALS__TOKEN": "e-2"}, "token", "e-2"},
		{"bare credentials env", "bearer", "", "", map[string]string{"CREDENTIALS__TOKEN": "e-3"}, "token", "e-3"},
		{"env before secrets.toml", "bearer", "[sources.rest_api.credentials]\ntoken = \"s-1\"\n", "", map[string]string{"CREDENTIALS__TOKEN": "e-3"}, "token", "e-3"},
		{"specific before general", "bearer", "[credentials]\ntoken = \"general\"\n[sources.rest_api.credentials]\ntoken = \"specific\"\n", "", nil, "token", "specific"},
		{"pipeline name first", "bearer", "[sources.rest_api.credentials]\ntoken = \"plain\"\n[pipeline.sources.credentials]\ntoken = \"named\"\n", "", nil, "token", "named"},
		{"file wins", "{token: written}", "[sources.rest_api.credentials]\ntoken = \"s-1\"\n", "", map[string]string{"CREDENTIALS__TOKEN": "e-3"}, "token", "written"},
		{"config.toml for settings", "{type: api_key}", "[sources.rest_api.credentials]\napi_key = \"k\"\n", "[sources.rest_api.credentials]\nname = \"X-Key\"\n", nil, "name", "X-Key"},
		{"secrets.toml before config.toml", "{type: http_basic}", "[sources.rest_api.credentials]\nusername = \"from-secrets\"\npassword = \"p\"\n", "[sources.rest_api.credentials]\nusername = \"from-config\"\n", nil, "username", "from-secrets"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			if tc.secrets != "" {
				files["secrets.toml"] = tc.secrets
			}
			if tc.config != "" {
				files["config.toml"] = tc.config
			}
			file := dltProject(t, strings.Replace(bare, "%s", tc.auth, 1), files)
			p, err := Load(file, LoadOptions{LookupEnv: envOf(tc.env)})
			if err != nil {
				t.Fatal(err)
			}
			a := p.Source.Client.Auth
			got := map[string]string{"token": a.Token, "name": a.Name, "username": a.Username}[tc.key]
			if got != tc.want {
				t.Errorf("%s = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
}

// TestDltSecretNotFromConfigToml: dlt refuses a secret from config.toml;
// restload does not take one from there either, and the missing key's
// message says where dlt would read it, with the file's position.
func TestDltSecretNotFromConfigToml(t *testing.T) {
	file := dltProject(t, "client:\n  base_url: https://api.example.com\n  auth: api_key\nresources: [things]\n",
		map[string]string{"config.toml": "[sources.rest_api.credentials]\napi_key = \"leaked\"\n"})
	_, err := Load(file, LoadOptions{LookupEnv: envOf(nil)})
	if err == nil {
		t.Fatal("loaded, want a missing api_key")
	}
	want := "pipeline.yaml:3:9: client.auth.api_key: missing required key for api_key auth (or, as dlt reads it, set SOURCES__REST_API__CREDENTIALS__API_KEY or api_key under [sources.rest_api.credentials] in .dlt/secrets.toml)"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error:\n%v\nwant it to contain\n%s", err, want)
	}
}

// TestDltSourceName: pipeline.source_name is the name dlt's source was
// given; dlt's compact sources.<name> section is read for it.
func TestDltSourceName(t *testing.T) {
	file := dltProject(t, "pipeline: {name: gh, source_name: github}\nsource:\n  client: {base_url: https://api.example.com, auth: bearer}\n  resources: [issues]\n", nil)
	p, err := Load(file, LoadOptions{LookupEnv: envOf(map[string]string{"SOURCES__GITHUB__CREDENTIALS__TOKEN": "gh-tok"})})
	if err != nil {
		t.Fatal(err)
	}
	if p.Source.Client.Auth.Token != "gh-tok" {
		t.Errorf("token %q", p.Source.Client.Auth.Token)
	}
	if got := p.FromDlt(); len(got) != 1 || got[0] != "source.client.auth.token from SOURCES__GITHUB__CREDENTIALS__TOKEN" {
		t.Errorf("FromDlt = %q", got)
	}
	if vals := p.SecretValues(); len(vals) != 1 || vals[0] != "gh-tok" {
		t.Errorf("SecretValues = %q: a token from dlt's configuration must be masked", vals)
	}
}

// TestDltSecretsReference: ${secrets.NAME} also reads .dlt/secrets.toml.
func TestDltSecretsReference(t *testing.T) {
	file := dltProject(t, "client:\n  base_url: https://api.example.com\n  auth: {token: \"${secrets.github_token}\"}\nresources: [things]\n",
		map[string]string{"secrets.toml": "[sources.rest_api]\ngithub_token = \"gt\"\n"})
	p, err := Load(file, LoadOptions{LookupEnv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if p.Source.Client.Auth.Token != "gt" {
		t.Errorf("token %q", p.Source.Client.Auth.Token)
	}
	o, ok := p.SecretOrigin("gt")
	if !ok || !strings.HasSuffix(o.File, filepath.Join(".dlt", "secrets.toml")) || len(o.Keys) != 1 || o.Keys[0] != "sources.rest_api.github_token" {
		t.Errorf("origin %+v", o)
	}
}

// TestDltDestination: pipeline.destination written as dlt's destination
// name takes dlt's credentials, as a connection string or in parts.
func TestDltDestination(t *testing.T) {
	const pipe = "pipeline: {name: p1, destination: %s}\nsource:\n  client: {base_url: https://api.example.com}\n  resources: [things]\n"
	for _, tc := range []struct {
		name, dest, secrets string
		env                 map[string]string
		want                string
	}{
		{"connection string", "postgres", "", map[string]string{"DESTINATION__POSTGRES__CREDENTIALS": "postgresql://u:pw@db:5433/d"}, "postgresql://u:pw@db:5433/d"},
		{"parts", "postgres", "[destination.postgres.credentials]\ndatabase = \"d\"\nusername = \"u\"\npassword = \"p@ss\"\nhost = \"db\"\nport = 5433\n", nil, "postgresql://u:p%40ss@db:5433/d"},
		{"parts from env", "postgres", "", map[string]string{"DESTINATION__POSTGRES__CREDENTIALS__HOST": "h", "DESTINATION__POSTGRES__CREDENTIALS__DATABASE": "d", "DESTINATION__POSTGRES__CREDENTIALS__PASSWORD": "pw", "DESTINATION__POSTGRES__CREDENTIALS__USERNAME": "u"}, "postgresql://u:pw@h/d"},
		{"duckdb default", "duckdb", "", nil, "duckdb:p1.duckdb"},
		{"duckdb path", "duckdb", "", map[string]string{"DESTINATION__DUCKDB__CREDENTIALS": "/data/x.duckdb"}, "duckdb:/data/x.duckdb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			if tc.secrets != "" {
				files["secrets.toml"] = tc.secrets
			}
			file := dltProject(t, strings.Replace(pipe, "%s", tc.dest, 1), files)
			p, err := Load(file, LoadOptions{LookupEnv: envOf(tc.env)})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.DestinationURL(""); got != tc.want {
				t.Errorf("DestinationURL = %q, want %q", got, tc.want)
			}
		})
	}
	file := dltProject(t, strings.Replace(pipe, "%s", "postgres", 1), nil)
	_, err := Load(file, LoadOptions{LookupEnv: envOf(nil)})
	if err == nil || !strings.Contains(err.Error(), "pipeline.yaml:1:35: pipeline.destination: destination postgres: no credentials: set DESTINATION__POSTGRES__CREDENTIALS") {
		t.Errorf("postgres without credentials: %v", err)
	}
}

// TestDltSecretsModeWarning: .dlt/secrets.toml readable by others gets the
// same warning as restload's own secrets file.
func TestDltSecretsModeWarning(t *testing.T) {
	file := dltProject(t, "client:\n  base_url: https://api.example.com\n  auth: bearer\nresources: [things]\n",
		map[string]string{"secrets.toml": "[sources.rest_api.credentials]\ntoken = \"t\"\n"})
	secrets := filepath.Join(filepath.Dir(file), ".dlt", "secrets.toml")
	if err := os.Chmod(secrets, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(file, LoadOptions{LookupEnv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	want := "secrets file " + secrets + " is readable by others (mode 0644); restrict it with: chmod 600 " + secrets
	if w := p.Warnings(); len(w) != 1 || w[0] != want {
		t.Errorf("warnings %q, want [%q]", w, want)
	}
}

// TestCallLikeParamIsAValue: a param that reads like a call in an API's
// filter language is sent as it is; only dlt's own objects are refused.
func TestCallLikeParamIsAValue(t *testing.T) {
	file := dltProject(t, "client: {base_url: https://api.example.com}\nresources:\n  - name: things\n    endpoint: {params: {filter: \"eq(status,open)\"}}\n", nil)
	p, err := Load(file, LoadOptions{LookupEnv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Source.Resources[0].Endpoint.Params["filter"]; got != "eq(status,open)" {
		t.Errorf("filter = %v", got)
	}
}
