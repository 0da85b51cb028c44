package auth

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/restload/restload/internal/kind"
)

var apiKeyLocations = []string{"header", "query", "cookie"}

func init() {
	register(Kind{
		Spec: kind.Spec{
			Name: "api_key", Rank: 1,
			Required: []string{"api_key"},
			Optional: []string{"name", "location"},
			Doc:      "`api_key` | `name` (`Authorization`), `location` (`header` \\| `query` \\| `cookie`, default `header`)",
		},
		Defaults: func(c *Config) {
			c.Name = cmp.Or(c.Name, "Authorization")
			c.Location = cmp.Or(c.Location, "header")
		},
		Check: func(c *Config) []kind.Problem {
			if c.Location != "" && !slices.Contains(apiKeyLocations, c.Location) {
				return []kind.Problem{{Key: "location", What: "api_key location", Got: c.Location, Want: apiKeyLocations}}
			}
			return nil
		},
		Build: buildAPIKey,
	})
}

func buildAPIKey(c *Config, t *Transport, _ http.RoundTripper, _ Options) error {
	name := cmp.Or(c.Name, "Authorization")
	if c.APIKey == "" {
		return errors.New("api_key auth: api_key is empty")
	}
	switch loc := strings.ToLower(c.Location); loc {
	case "", "header":
		t.static = func(r *http.Request) { r.Header.Set(name, c.APIKey) }
		t.secretHeader = name
	case "query":
		t.static = func(r *http.Request) {
			q := r.URL.Query()
			q.Set(name, c.APIKey)
			r.URL.RawQuery = q.Encode()
		}
	case "cookie":
		t.static = func(r *http.Request) { r.AddCookie(&http.Cookie{Name: name, Value: c.APIKey}) }
	default:
		return fmt.Errorf("api_key auth: location %q is not header, query or cookie", c.Location)
	}
	return nil
}
