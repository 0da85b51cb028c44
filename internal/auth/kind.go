package auth

import (
	"net/http"
	"net/url"

	"github.com/restload/restload/internal/kind"
)

// Kind declares one auth type, once: its name, keys and docs row
// (kind.Spec), its defaults, its checks and its constructor. Each kind's
// file registers its Kind in an init func; config validates an auth block
// against it and New builds from it.
type Kind struct {
	kind.Spec
	// Defaults fills what the file left out (nil: nothing to fill).
	Defaults func(c *Config)
	// Check reports problems of c beyond its keys (nil: none).
	Check func(c *Config) []kind.Problem
	// Build sets up t to add the credentials c describes; base is the
	// transport t decorates.
	Build func(c *Config, t *Transport, base http.RoundTripper, opts Options) error
}

var kinds = kind.NewRegistry("auth", func(k Kind) kind.Spec { return k.Spec })

func register(k Kind) { kinds.Register(k) }

// DefaultType is the type of an auth block that names none (dlt's).
const DefaultType = "bearer"

// Lookup returns the kind named name.
func Lookup(name string) (Kind, bool) { return kinds.Lookup(name) }

// Kinds returns every kind's name, by rank.
func Kinds() []string { return kinds.Names() }

// DocTable returns the README's Auth table, from the kinds' Doc.
func DocTable() string {
	return kinds.DocTable("| `type` | Required | Optional |\n|---|---|---|\n")
}

// Check reports the problems of c as written, whatever its kind's keys:
// token URLs that are not absolute http(s) URLs, a negative expiry, and
// the kind's own checks. The caller checks Type and the keys against
// Lookup(c.Type).
func Check(c *Config) []kind.Problem {
	var out []kind.Problem
	if k, ok := kinds.Lookup(c.Type); ok && k.Check != nil {
		out = append(out, k.Check(c)...)
	}
	for _, f := range []struct{ key, url string }{{"access_token_url", c.AccessTokenURL}, {"token_url", c.TokenURL}} {
		if f.url == "" {
			continue
		}
		if u, err := url.Parse(f.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			out = append(out, kind.Problem{Key: f.key, Msg: "want an absolute http(s) URL such as https://api.example.com/v1"})
		}
	}
	if c.DefaultTokenExpiration < 0 {
		out = append(out, kind.Problem{Key: "default_token_expiration", Msg: "must not be negative"})
	}
	return out
}

// ApplyDefaults fills what the file left out of c: the type, then what its
// kind says.
func ApplyDefaults(c *Config) {
	if c.Type == "" {
		c.Type = DefaultType
	}
	if k, ok := kinds.Lookup(c.Type); ok && k.Defaults != nil {
		k.Defaults(c)
	}
}
