package auth

import (
	"net/http"

	"github.com/restload/restload/internal/kind"
)

func init() {
	register(Kind{
		Spec: kind.Spec{
			Name: "http_basic", Rank: 2,
			// Both required, as in dlt; either may be written as "" (dlt's
			// HttpBasicAuth("", token) sends ":token").
			Required: []string{"username", "password"},
			Doc:      "`username`, `password` (either may be `\"\"`) |",
		},
		Build: func(c *Config, t *Transport, _ http.RoundTripper, _ Options) error {
			t.static = func(r *http.Request) { r.SetBasicAuth(c.Username, c.Password) }
			return nil
		},
	})
}
