package openapi

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// authGuess is the client auth written from a security scheme.
type authGuess struct {
	scheme string // the scheme's name in the spec
	keys   []kv
	// secrets are the secret names the keys reference.
	secrets []string
	why     string
}

// param reports whether p is the parameter this auth sends.
func (g *authGuess) param(p *openapi3.Parameter) bool {
	var name, loc string
	for _, k := range g.keys {
		switch k.k {
		case "name":
			name, _ = k.v.(string)
		case "location":
			loc, _ = k.v.(string)
		}
	}
	return name != "" && strings.EqualFold(name, p.Name) && loc == p.In
}

// detectAuth picks the security scheme the API's operations ask for most
// (the document's default requirement counts for every operation that does
// not set its own), among those restload can send, and writes it as
// client auth with ${secrets.NAME} references. notes explain schemes that
// were not used.
func detectAuth(doc *openapi3.T, ops []*openapi3.Operation, base *url.URL) (*authGuess, []string) {
	if doc.Components == nil || len(doc.Components.SecuritySchemes) == 0 {
		return nil, nil
	}
	schemes := doc.Components.SecuritySchemes
	uses := map[string]int{}
	count := func(reqs openapi3.SecurityRequirements) {
		for _, req := range reqs {
			for name := range req {
				uses[name]++
			}
		}
	}
	for _, op := range ops {
		if op.Security != nil {
			count(*op.Security)
		} else {
			count(doc.Security)
		}
	}
	names := sortedKeys(schemes)
	sort.SliceStable(names, func(i, j int) bool { return uses[names[i]] > uses[names[j]] })
	var notes []string
	var fallback *authGuess
	for _, name := range names {
		ref := schemes[name]
		if ref == nil || ref.Value == nil {
			continue
		}
		g, reason := authFrom(name, ref.Value, base)
		if g == nil && fallback == nil {
			fallback = tokenFallback(name, ref.Value)
		}
		if g != nil {
			if uses[name] > 0 {
				g.why = fmt.Sprintf("security scheme %q, which %d GET operation(s) ask for", name, uses[name])
			} else {
				g.why = fmt.Sprintf("security scheme %q (no operation names a scheme)", name)
			}
			for _, other := range names {
				if other != name && uses[other] > 0 && !strings.Contains(strings.Join(notes, "\n"), other) {
					notes = append(notes, fmt.Sprintf("security scheme %q is also used; this file sends %q only", other, name))
				}
			}
			return g, notes
		}
		notes = append(notes, fmt.Sprintf("security scheme %q not used as such: %s", name, reason))
	}
	return fallback, notes
}

// tokenFallback sends, for an OAuth2 or OpenID Connect scheme whose flow
// needs a person at a browser (implicit, authorization code without a
// token URL), an access token obtained beforehand as a bearer token: what
// users of such APIs do (Slack's bot tokens, for one).
func tokenFallback(name string, s *openapi3.SecurityScheme) *authGuess {
	switch strings.ToLower(s.Type) {
	case "oauth2", "openidconnect":
	default:
		return nil
	}
	return &authGuess{
		scheme:  name,
		keys:    []kv{{k: "type", v: "bearer"}, {k: "token", v: secretRef("${secrets.access_token}"), comment: "an access token you obtained through the API's OAuth flow"}},
		secrets: []string{"access_token"},
		why:     fmt.Sprintf("security scheme %q, whose flow needs a browser: a token obtained beforehand, sent as a bearer token", name),
	}
}

// tokenParams are query or header parameters that carry a credential in
// specs that declare no security scheme.
var tokenParams = wordSet("token", "accesstoken", "apikey", "apitoken", "authtoken", "key", "xapikey")

// paramAuth finds a credential parameter (token, api_key, ...) that at
// least half of the list endpoints take, for specs that declare no
// security scheme, and sends it as an API key.
func paramAuth(eps []*endpoint) *authGuess {
	count := map[[2]string]int{}
	for _, e := range eps {
		for _, p := range e.params {
			if (p.In == "query" || p.In == "header") && tokenParams[norm(p.Name)] {
				count[[2]string{p.Name, p.In}]++
			}
		}
	}
	var best [2]string
	for k, n := range count {
		if n > count[best] || n == count[best] && k[0]+k[1] < best[0]+best[1] {
			best = k
		}
	}
	if count[best] == 0 || 2*count[best] < len(eps) {
		return nil
	}
	return &authGuess{
		keys: []kv{{k: "type", v: "api_key"}, {k: "name", v: best[0]}, {k: "location", v: best[1]},
			{k: "api_key", v: secretRef("${secrets.api_key}")}},
		secrets: []string{"api_key"},
		why:     fmt.Sprintf("the %s parameter %q that %d of %d list endpoints take (the spec declares no security scheme)", best[1], best[0], count[best], len(eps)),
	}
}

// authFrom writes one security scheme as restload auth, or says why it
// cannot.
func authFrom(name string, s *openapi3.SecurityScheme, base *url.URL) (*authGuess, string) {
	secret := func(n string) secretRef { return secretRef("${secrets." + n + "}") }
	g := &authGuess{scheme: name}
	switch strings.ToLower(s.Type) {
	case "http":
		switch strings.ToLower(s.Scheme) {
		case "bearer":
			g.keys = []kv{{k: "type", v: "bearer"}, {k: "token", v: secret("api_token")}}
			g.secrets = []string{"api_token"}
		case "basic":
			g.keys = []kv{{k: "type", v: "http_basic"}, {k: "username", v: secret("api_username")}, {k: "password", v: secret("api_password")}}
			g.secrets = []string{"api_username", "api_password"}
		default:
			return nil, fmt.Sprintf("HTTP %q authentication is not supported", s.Scheme)
		}
	case "apikey":
		loc := strings.ToLower(s.In)
		if loc != "header" && loc != "query" && loc != "cookie" {
			return nil, fmt.Sprintf("API key in %q is not supported", s.In)
		}
		if s.Name == "" {
			return nil, "the API key has no name"
		}
		g.keys = []kv{{k: "type", v: "api_key"}, {k: "name", v: s.Name}, {k: "location", v: loc}, {k: "api_key", v: secret("api_key")}}
		g.secrets = []string{"api_key"}
		if loc == "header" && strings.EqualFold(s.Name, "authorization") {
			g.keys[len(g.keys)-1].comment = `the whole header value, e.g. "Token abc..." if the API wants a prefix`
		}
	case "oauth2":
		f := s.Flows
		switch {
		case f != nil && f.ClientCredentials != nil && f.ClientCredentials.TokenURL != "":
			tok, err := resolveURL(base, f.ClientCredentials.TokenURL)
			if err != nil {
				return nil, fmt.Sprintf("token URL: %v", err)
			}
			g.keys = []kv{{k: "type", v: "oauth2_client_credentials"}, {k: "access_token_url", v: tok},
				{k: "client_id", v: secret("client_id")}, {k: "client_secret", v: secret("client_secret")}}
			g.secrets = []string{"client_id", "client_secret"}
			if sc := scopes(f.ClientCredentials); sc != nil {
				g.keys = append(g.keys, kv{k: "scopes", v: sc, comment: "guessed: every scope the spec lists; keep those you need"})
			}
		case f != nil && f.AuthorizationCode != nil && f.AuthorizationCode.TokenURL != "":
			tok, err := resolveURL(base, f.AuthorizationCode.TokenURL)
			if err != nil {
				return nil, fmt.Sprintf("token URL: %v", err)
			}
			g.keys = []kv{{k: "type", v: "oauth2", comment: "refresh-token grant: get a refresh token once through the API's consent screen"},
				{k: "token_url", v: tok}, {k: "client_id", v: secret("client_id")}, {k: "client_secret", v: secret("client_secret")},
				{k: "refresh_token", v: secret("refresh_token")}}
			g.secrets = []string{"client_id", "client_secret", "refresh_token"}
		default:
			return nil, "only the clientCredentials and authorizationCode OAuth2 flows can run unattended"
		}
	default:
		return nil, fmt.Sprintf("type %q is not supported", s.Type)
	}
	return g, ""
}

func scopes(f *openapi3.OAuthFlow) []string {
	if len(f.Scopes) == 0 {
		return nil
	}
	return sortedKeys(f.Scopes)
}

// resolveURL resolves a possibly relative URL against base; the result must
// be an absolute http(s) URL.
func resolveURL(base *url.URL, ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL", ref)
	}
	return u.String(), nil
}
