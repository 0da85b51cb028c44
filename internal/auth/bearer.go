package auth

import (
	"errors"
	"net/http"

	"github.com/restload/restload/internal/kind"
)

func init() {
	register(Kind{
		Spec: kind.Spec{
			Name: "bearer", Rank: 0,
			Required: []string{"token"},
			Doc:      "`token` |",
		},
		Build: func(c *Config, t *Transport, _ http.RoundTripper, _ Options) error {
			if c.Token == "" {
				return errors.New("bearer auth: token is empty")
			}
			t.static = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+c.Token) }
			return nil
		},
	})
}
