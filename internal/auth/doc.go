// Package auth authenticates restload's API requests.
//
// New turns a dlt-style auth block into an http.RoundTripper that decorates
// another one: bearer, api_key (header, query or cookie), http_basic,
// oauth2_client_credentials (dlt's) and oauth2 (the seed's refresh-token
// grant). The decorator clones each request before adding credentials, and
// adds them only to requests for the API's own host, so a next link or
// redirect to another host never carries them.
//
// OAuth2 access tokens come from golang.org/x/oauth2, are cached, renewed
// shortly before they expire, and renewed once more when the API answers 401.
package auth
