package config

import (
	"strings"
	"testing"
)

func TestIgnoreMissingSecrets(t *testing.T) {
	src := []byte(`source:
  client:
    base_url: https://api.example.com/v2
    headers: {X-Env: "${env.RESTLOAD_TEST_UNSET_VAR}"}
    auth:
      type: oauth2
      client_id: ${secrets.client_id}
      client_secret: ${secrets.client_secret}
      token_url: https://api.example.com/v2/auth/token
  resources: [files]
`)
	env := func(k string) (string, bool) {
		if k == "CLIENT_ID" {
			return "the-id", true
		}
		return "", false
	}
	if _, err := Parse("p.yaml", src, LoadOptions{LookupEnv: env}); err == nil || !strings.Contains(err.Error(), "CLIENT_SECRET") {
		t.Fatalf("without the option: err = %v, want the missing CLIENT_SECRET reported", err)
	}
	p, err := Parse("p.yaml", src, LoadOptions{LookupEnv: env, IgnoreMissingSecrets: true})
	if err != nil {
		t.Fatalf("with the option: %v", err)
	}
	a := p.Source.Client.Auth
	if a.ClientID != "the-id" || a.ClientSecret != "${secrets.client_secret}" {
		t.Errorf("client_id %q, client_secret %q", a.ClientID, a.ClientSecret)
	}
	if got := p.Source.Client.Headers["X-Env"]; got != "${env.RESTLOAD_TEST_UNSET_VAR}" {
		t.Errorf("header = %q", got)
	}
	for _, v := range p.SecretValues() {
		if strings.Contains(v, "${") {
			t.Errorf("an unresolved reference %q is listed as a secret value", v)
		}
	}
}
