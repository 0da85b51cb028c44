// Package auth authenticates restload's API requests.
//
// New turns a dlt-style auth block into an http.RoundTripper that decorates
// another one: bearer, api_key (header, query or cookie), http_basic,
// oauth2_client_credentials (dlt's) and oauth2 (the seed's refresh-token
// grant). The decorator clones each request before adding credentials, and
// adds them only to requests for the API's own host, so a next link or
// redirect to another host never carries them.
//
// Each auth type is declared once as a Kind registered from an init func
// (bearer.go, api_key.go, http_basic.go; both OAuth2 grants in oauth2.go):
// its keys and docs row (kind.Spec), defaults, checks and Build. Config is
// the auth block; package config decodes it into Config (config.Auth is an
// alias), checks its keys against the Kind and places Check's problems at
// file positions. The README's Auth table is DocTable (TestKindsDocumented).
//
// OAuth2 access tokens come from golang.org/x/oauth2, are cached, renewed
// shortly before they expire, and renewed once more when the API answers 401.
// Token requests are retried under the pipeline's retry policy and never
// follow a redirect off the token URL's scheme, host and port.
//
// A Store keeps tokens between runs: a rotated refresh token is written back
// into the TOML secrets file it came from (tomledit.go edits the one value
// in place) or, when it came from an environment variable, into a store
// file; renewals take a file lock, so processes sharing the credential never
// send a refresh token another one rotated away (refresh.go).
package auth
