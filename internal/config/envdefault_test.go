package config

import (
	"strings"
	"testing"
)

// TestEnvDefault: ${env.NAME:-default} is the variable when it is set and
// not empty, else the default, as in a POSIX shell.
func TestEnvDefault(t *testing.T) {
	doc := func(ref string) string {
		return "source:\n  client:\n    base_url: \"" + ref + "/v2\"\n  resources:\n    - name: a\n      endpoint: {path: /a}\n"
	}
	for _, tc := range []struct {
		name, ref string
		env       []string
		want      string
	}{
		{"unset", "${env.API_URL:-http://127.0.0.1:8080}", nil, "http://127.0.0.1:8080/v2"},
		{"set", "${env.API_URL:-http://127.0.0.1:8080}", []string{"API_URL", "http://127.0.0.1:9999"}, "http://127.0.0.1:9999/v2"},
		{"empty", "${env.API_URL:-http://127.0.0.1:8080}", []string{"API_URL", ""}, "http://127.0.0.1:8080/v2"},
		{"empty default", "http://h${env.SUFFIX:-}", nil, "http://h/v2"},
		{"spaces", "${ env.API_URL :-http://x }", nil, "http://x/v2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(doc(tc.ref)), LoadOptions{LookupEnv: env(tc.env...)})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Source.Client.BaseURL; got != tc.want {
				t.Errorf("base_url = %q, want %q", got, tc.want)
			}
		})
	}
	// A default for a secret is refused with a message that says where
	// defaults are allowed; an unset variable without a default stays an error.
	for ref, want := range map[string]string{
		"${secrets.url:-http://x}": "only ${env.NAME:-default} takes a default",
		"${env.API_URL}":           "environment variable API_URL is not set",
	} {
		_, err := Parse("p.yaml", []byte(doc(ref)), LoadOptions{LookupEnv: env()})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one saying %q", ref, err, want)
		}
	}
}
