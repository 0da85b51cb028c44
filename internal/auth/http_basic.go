package auth

import (
	"errors"
	"net/http"

	"github.com/restload/restload/internal/kind"
)

func init() {
	register(Kind{
		Spec: kind.Spec{
			Name: "http_basic", Rank: 2,
			Required: []string{"username"},
			Optional: []string{"password"},
			Doc:      "`username` | `password`",
		},
		Build: func(c *Config, t *Transport, _ http.RoundTripper, _ Options) error {
			if c.Username == "" {
				return errors.New("http_basic auth: username is empty")
			}
			t.static = func(r *http.Request) { r.SetBasicAuth(c.Username, c.Password) }
			return nil
		},
	})
}
