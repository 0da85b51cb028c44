package auth

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/restload/restload/internal/httpclient"
)

// New returns base decorated with the credentials cfg describes. A nil cfg
// (or empty type) returns base unchanged; a nil base means
// http.DefaultTransport.
//
// Credentials go only to requests at allowedHost: an origin as HostOf
// returns it (scheme, host and port must all match), or a bare "host" or
// "host:port" (any scheme; without a port, any port). Requests to other hosts go out without the Authorization and Cookie
// headers and without an api_key header. An empty allowedHost sends
// credentials everywhere; pass HostOf(base_url) instead.
//
// opts says how OAuth2 token requests are sent, retried and remembered;
// its zero value works. The returned RoundTripper is safe for concurrent
// use and never modifies the caller's request.
func New(cfg *Config, base http.RoundTripper, allowedHost string, opts Options) (http.RoundTripper, error) {
	if base == nil {
		base = http.DefaultTransport
	}
	if cfg == nil || cfg.Type == "" {
		return base, nil
	}
	k, ok := kinds.Lookup(cfg.Type)
	if !ok {
		return nil, kinds.Unknown(cfg.Type)
	}
	t := &Transport{base: base, host: strings.ToLower(allowedHost)}
	if err := k.Build(cfg, t, base, opts); err != nil {
		return nil, err
	}
	return t, nil
}

// Options are what OAuth2 auth needs besides the auth block. The zero
// value works: token requests over the base transport, not retried, tokens
// kept for the process only.
type Options struct {
	// TokenClient sends token requests: its Transport and Timeout are
	// used (nil: base, no timeout).
	TokenClient *http.Client
	// Retry is the policy token requests are retried under; only
	// connection errors and 408, 429 and 5xx statuses of its StatusCodes
	// are retried.
	Retry httpclient.Policy
	// Redactor learns every secret the auth block holds and every token
	// obtained, so logs and errors that pass through it never show them
	// (nil: a private one).
	Redactor *httpclient.Redactor
	// Store keeps rotated refresh tokens and access tokens between runs
	// (nil: tokens live as long as the process).
	Store *Store
	// Logger receives token-request retries and notices; nil discards.
	Logger *slog.Logger
	// Now is the clock token lifetimes are measured with (nil: time.Now).
	Now func() time.Time
}

// HostOf returns the origin (scheme://host:port) of a base URL, for New's
// allowedHost.
func HostOf(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return "", fmt.Errorf("base_url: %w", err)
	}
	if u.Host == "" {
		return "", fmt.Errorf("base_url %q has no host", baseURL)
	}
	return httpclient.OriginOf(u).String(), nil
}

// Transport is the RoundTripper New returns.
type Transport struct {
	base         http.RoundTripper
	host         string
	static       func(*http.Request) // bearer, api_key, http_basic
	secretHeader string              // api_key header name, stripped off-host
	tokens       *tokenCache         // oauth2 kinds
}

// allowed reports whether u may receive credentials: it is at the API's
// origin (httpclient.Origin decides, for auth and for the credential guard
// alike).
func (t *Transport) allowed(u *url.URL) bool {
	if t.host == "" {
		return true
	}
	o, err := httpclient.ParseOrigin(t.host)
	return err == nil && o.Contains(u)
}

// RoundTrip sends a clone of req with credentials when req's host is the
// API's. With OAuth2, a 401 answer renews the access token once and resends
// the request, when its body can be replayed.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if !t.allowed(req.URL) {
		r.Header.Del("Authorization")
		r.Header.Del("Cookie")
		if t.secretHeader != "" {
			r.Header.Del(t.secretHeader)
		}
		return t.base.RoundTrip(r)
	}
	if t.static != nil {
		t.static(r)
		return t.base.RoundTrip(r)
	}
	tok, err := t.tokens.token(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	r.Header.Set("Authorization", tok.Type()+" "+tok.AccessToken)
	resp, err := t.base.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// The token was refused: renew it even if it looked valid, and try
	// once more when the body can be sent again.
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil
	}
	fresh, err := t.tokens.renew(req.Context(), tok)
	if err != nil {
		return resp, nil // the 401 says more than the renewal failure
	}
	r2 := req.Clone(req.Context())
	if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		r2.Body = body
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
	r2.Header.Set("Authorization", fresh.Type()+" "+fresh.AccessToken)
	return t.base.RoundTrip(r2)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
