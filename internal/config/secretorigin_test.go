package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestSecretOrigin checks that a value that was one whole reference says
// where it came from (environment variable, or secrets file and every key
// holding it), and that a value assembled from parts or written in the
// file has no origin.
func TestSecretOrigin(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets.toml")
	if err := os.WriteFile(secrets, []byte("client_refresh_token = \"rt-file\"\n[sources.rest_api]\nclient_refresh_token = \"rt-file\"\nclient_secret = \"cs-file\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `pipeline: {name: p}
source:
  client:
    base_url: http://127.0.0.1:1/v2
    auth:
      type: oauth2
      client_id: ${env.MY_CLIENT}
      client_secret: ${secrets.sources.rest_api.client_secret}
      refresh_token: ${secrets.client_refresh_token}
      token_url: http://127.0.0.1:1/token
    headers:
      X-Key: "key-${env.MY_KEY}"
      X-Lit: literal-value
  resources: [a]
`
	env := map[string]string{"MY_CLIENT": "cid-env", "MY_KEY": "k-env"}
	p, err := Parse(filepath.Join(dir, "p.yaml"), []byte(src), LoadOptions{SecretsFile: secrets,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		value string
		want  SecretOrigin
		ok    bool
	}{
		{"cid-env", SecretOrigin{EnvVar: "MY_CLIENT"}, true},
		{"cs-file", SecretOrigin{File: secrets, Keys: []string{"sources.rest_api.client_secret"}}, true},
		{"rt-file", SecretOrigin{File: secrets, Keys: []string{"client_refresh_token", "sources.rest_api.client_refresh_token"}}, true},
		{"k-env", SecretOrigin{}, false},
		{"key-k-env", SecretOrigin{}, false},
		{"literal-value", SecretOrigin{}, false},
	}
	for _, tt := range tests {
		got, ok := p.SecretOrigin(tt.value)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SecretOrigin(%q) = %+v, %v; want %+v, %v", tt.value, got, ok, tt.want, tt.ok)
		}
	}
	// A secrets variable in the environment wins, and says so.
	env["CLIENT_REFRESH_TOKEN"] = "rt-env"
	p, err = Parse(filepath.Join(dir, "p.yaml"), []byte(src), LoadOptions{SecretsFile: secrets,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := p.SecretOrigin("rt-env"); !ok || got.EnvVar != "CLIENT_REFRESH_TOKEN" || got.String() != "environment variable CLIENT_REFRESH_TOKEN" {
		t.Errorf("env-set secret: %+v, %v", got, ok)
	}
}
