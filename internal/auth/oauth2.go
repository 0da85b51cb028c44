package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/kind"
)

func init() {
	grants := "`access_token_request_data`, `default_token_expiration` (3600), `scopes`"
	register(Kind{
		Spec: kind.Spec{
			Name: "oauth2_client_credentials", Rank: 3,
			Required: []string{"access_token_url", "client_id", "client_secret"},
			Optional: []string{"access_token_request_data", "default_token_expiration", "scopes"},
			Doc:      "`access_token_url`, `client_id`, `client_secret` | " + grants,
		},
		Defaults: defaultExpiration,
		Build:    buildOAuth2,
	})
	register(Kind{
		Spec: kind.Spec{
			Name: "oauth2", Rank: 4, Label: "**(restload)**",
			Required: []string{"client_id", "client_secret", "token_url"},
			Optional: []string{"refresh_token", "access_token_request_data", "default_token_expiration", "scopes"},
			Doc:      "`client_id`, `client_secret`, `token_url` | `refresh_token` (refresh-token grant; without it, client credentials), " + grants,
		},
		Defaults: defaultExpiration,
		Build:    buildOAuth2,
	})
}

func defaultExpiration(c *Config) {
	if c.DefaultTokenExpiration == 0 {
		c.DefaultTokenExpiration = 3600
	}
}

// buildOAuth2 gives t a token cache for either OAuth2 kind.
func buildOAuth2(c *Config, t *Transport, base http.RoundTripper, opts Options) error {
	if opts.TokenClient == nil {
		opts.TokenClient = &http.Client{Transport: base}
	}
	tc, err := newTokenCache(c, opts)
	if err != nil {
		return err
	}
	t.tokens = tc
	return nil
}

// maxEarlyRenewal is how long before expiry a token is renewed; tokens
// living less than ten times this are renewed when 90% of their life is
// spent.
const maxEarlyRenewal = 60 * time.Second

// tokenCache holds one access token and renews it. Its mutex is held while
// a token is fetched, so concurrent requests wait for one token request
// instead of each sending their own.
type tokenCache struct {
	mu sync.Mutex
	// fetch gets a token and when to renew it (zero: never). refused, when
	// set, is a token the API answered 401 to: it must not be handed out
	// again.
	fetch    func(ctx context.Context, refused *oauth2.Token) (*oauth2.Token, time.Time, error)
	tokenURL string
	redactor *httpclient.Redactor
	// attempts is how many times the last token request was sent (set
	// under mu by the token client's transport).
	attempts int

	tok     *oauth2.Token
	renewAt time.Time // zero: never
	// now is the clock token lifetimes are measured with (Options.Now).
	now func() time.Time
}

func newTokenCache(cfg *Config, opts Options) (*tokenCache, error) {
	c := &tokenCache{redactor: opts.Redactor, now: opts.Now}
	if c.now == nil {
		c.now = time.Now
	}
	if c.redactor == nil {
		c.redactor = httpclient.NewRedactor()
	}
	c.redactor.Add(cfg.ClientSecret, cfg.RefreshToken)
	var clientCreds *clientcredentials.Config
	var defaultExpiry time.Duration
	switch cfg.Type {
	case "oauth2_client_credentials":
		// dlt's OAuth2ClientCredentials: everything in the form body, in
		// dlt's order (see dltClientCredentialsForm).
		c.tokenURL = cfg.AccessTokenURL
		if c.tokenURL == "" {
			return nil, errors.New("oauth2_client_credentials auth: access_token_url is empty")
		}
		exp := cfg.DefaultTokenExpiration
		if exp == 0 {
			exp = 3600
		}
		defaultExpiry = time.Duration(exp) * time.Second
		hc, err := c.tokenHTTPClient(opts)
		if err != nil {
			return nil, err
		}
		form := dltClientCredentialsForm(cfg)
		c.fetch = func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, time.Time, error) {
			start := c.now()
			tok, err := postTokenForm(ctx, hc, c.tokenURL, form)
			if err != nil {
				return nil, time.Time{}, err
			}
			c.redactor.Add(tok.AccessToken)
			return tok, renewTime(start, tok, defaultExpiry), nil
		}
		return c, nil
	case "oauth2":
		// The seed's grant: client id and secret in the form, refresh_token
		// grant when a refresh token is given, else client_credentials.
		c.tokenURL = cfg.TokenURL
		if c.tokenURL == "" {
			return nil, errors.New("oauth2 auth: token_url is empty")
		}
		if cfg.RefreshToken == "" {
			clientCreds = &clientcredentials.Config{
				ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: c.tokenURL,
				Scopes: cfg.Scopes, AuthStyle: oauth2.AuthStyleInParams,
			}
		}
	}
	hc, err := c.tokenHTTPClient(opts)
	if err != nil {
		return nil, err
	}
	withClient := func(ctx context.Context) context.Context {
		return context.WithValue(ctx, oauth2.HTTPClient, hc)
	}
	if clientCreds != nil {
		c.fetch = func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, time.Time, error) {
			start := c.now()
			tok, err := clientCreds.Token(withClient(ctx))
			if err != nil {
				return nil, time.Time{}, err
			}
			c.redactor.Add(tok.AccessToken)
			return tok, renewTime(start, tok, defaultExpiry), nil
		}
		return c, nil
	}
	conf := &oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: cfg.Scopes,
		Endpoint: oauth2.Endpoint{TokenURL: c.tokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
	g := &refreshGrant{
		exchange: func(ctx context.Context, refresh string) (*oauth2.Token, error) {
			// A source holding only the refresh token refreshes at once.
			return conf.TokenSource(withClient(ctx), &oauth2.Token{RefreshToken: refresh}).Token()
		},
		configured: cfg.RefreshToken, current: cfg.RefreshToken,
		redactor: c.redactor, defaultExpiry: defaultExpiry, log: opts.Logger, store: opts.Store, now: c.now,
	}
	if opts.Store != nil {
		g.storeFile = opts.Store.file(cfg.ClientID)
		if opts.Store.Origin != nil {
			g.origin, g.hasOrigin = opts.Store.Origin(cfg.RefreshToken)
		}
	}
	c.fetch = g.fetch
	return c, nil
}

// renewTime is when a token fetched at start is due for renewal: shortly
// before it expires (see maxEarlyRenewal), using defaultExpiry when the
// response gave no lifetime; zero means never.
func renewTime(start time.Time, tok *oauth2.Token, defaultExpiry time.Duration) time.Time {
	var life time.Duration
	switch {
	case tok.ExpiresIn > 0:
		life = time.Duration(tok.ExpiresIn) * time.Second
	case !tok.Expiry.IsZero():
		life = tok.Expiry.Sub(start)
	default:
		life = defaultExpiry
	}
	if life <= 0 {
		return time.Time{}
	}
	return start.Add(life - min(maxEarlyRenewal, life/10))
}

// token returns the cached token, fetching a new one when there is none or
// it is due for renewal.
func (c *tokenCache) token(ctx context.Context) (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && (c.renewAt.IsZero() || c.now().Before(c.renewAt)) {
		return c.tok, nil
	}
	return c.refreshLocked(ctx, nil)
}

// renew replaces stale, a token the API refused, unless another request has
// already replaced it.
func (c *tokenCache) renew(ctx context.Context, stale *oauth2.Token) (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && c.tok != stale {
		return c.tok, nil
	}
	return c.refreshLocked(ctx, stale)
}

func (c *tokenCache) refreshLocked(ctx context.Context, refused *oauth2.Token) (*oauth2.Token, error) {
	c.attempts = 0
	tok, renewAt, err := c.fetch(ctx, refused)
	if err != nil {
		return nil, c.tokenError(err)
	}
	c.tok, c.renewAt = tok, renewAt
	return tok, nil
}

// hints explain the usual OAuth2 error codes in terms of the config.
var hints = map[string]string{
	"invalid_client":         "check client_id and client_secret",
	"unauthorized_client":    "check client_id and client_secret, and that this client may use this grant",
	"invalid_grant":          "check refresh_token; it may have expired, been revoked or been rotated",
	"invalid_scope":          "check scopes",
	"unsupported_grant_type": "the token endpoint does not accept this grant type",
}

// TokenError is a failed OAuth2 token request. Its message names the token
// URL, the status and the OAuth2 error code, never a secret.
type TokenError struct {
	// URL is the token endpoint, secrets masked.
	URL string
	// StatusCode is the token endpoint's HTTP status (0 when none came).
	StatusCode int
	// Code and Description are the OAuth2 error and error_description.
	Code, Description string
	// Attempts is how many times the request was sent (retries included).
	Attempts int
	msg      string
	err      error
}

func (e *TokenError) Error() string { return e.msg }
func (e *TokenError) Unwrap() error { return e.err }

// refreshFrom marks a refresh-grant failure with where the refresh token
// that was sent had been read from.
type refreshFrom struct {
	from string
	err  error
}

func (e *refreshFrom) Error() string { return e.err.Error() }
func (e *refreshFrom) Unwrap() error { return e.err }

func (c *tokenCache) tokenError(err error) error {
	var te *TokenError
	if errors.As(err, &te) {
		return err // already explained (a token that could not be saved)
	}
	te = &TokenError{URL: c.redactor.URLString(c.tokenURL), Attempts: max(c.attempts, 1), err: c.redactor.Error(err)}
	after := ""
	if te.Attempts > 1 {
		after = fmt.Sprintf(" after %d attempts", te.Attempts)
	}
	var rf *refreshFrom
	from := ""
	if errors.As(err, &rf) {
		from = rf.from
	}
	var re *oauth2.RetrieveError
	var rerr *redirectError
	var reqErr *httpclient.RequestError
	switch {
	case errors.As(err, &rerr):
		te.msg = fmt.Sprintf("oauth2 token request to %s: %s", te.URL, rerr.Error())
		return te
	case errors.As(err, &reqErr):
		te.Attempts = max(reqErr.Attempts, 1)
		if te.Attempts > 1 {
			after = fmt.Sprintf(" failed after %d attempts", te.Attempts)
		}
		te.msg = fmt.Sprintf("oauth2 token request to %s%s: %s", te.URL, after, c.redactor.String(reqErr.Err.Error()))
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			// The retries are spent: hide the network error, so the data
			// request that asked for the token does not retry them all
			// over again.
			te.err = errors.New(te.msg)
		}
		return te
	case !errors.As(err, &re) || re.Response == nil:
		te.msg = fmt.Sprintf("oauth2 token request to %s: %s", te.URL, c.redactor.String(err.Error()))
		return te
	}
	te.StatusCode = re.Response.StatusCode
	te.Code = c.redactor.String(re.ErrorCode)
	te.Description = c.redactor.String(re.ErrorDescription)
	var b strings.Builder
	fmt.Fprintf(&b, "oauth2 token request to %s: %d", te.URL, te.StatusCode)
	if te.Code != "" {
		b.WriteString(" " + te.Code)
	} else {
		b.WriteString(" " + http.StatusText(te.StatusCode))
	}
	b.WriteString(after)
	if te.Description != "" {
		b.WriteString(": " + te.Description)
	}
	switch h, ok := hints[te.Code]; {
	case te.Code == "invalid_grant" && from != "":
		b.WriteString(" (the refresh token was rejected: it was revoked, has expired or was rotated away; it was read from " + from + "; put a new refresh token there)")
	case ok:
		b.WriteString(" (" + h + ")")
	case te.StatusCode == http.StatusUnauthorized:
		b.WriteString(" (check client_id and client_secret)")
	}
	te.msg = b.String()
	return te
}

// tokenHTTPClient returns the client token requests go through: the
// retry policy's retries (connection errors and 408, 429 and 5xx answers,
// Retry-After honoured), and redirects followed only on the token URL's
// own scheme, host and port, since the request carries client_secret and
// refresh_token.
func (c *tokenCache) tokenHTTPClient(opts Options) (*http.Client, error) {
	u, err := url.Parse(c.tokenURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("oauth2 auth: token URL %s is not an absolute http(s) URL", c.redactor.URLString(c.tokenURL))
	}
	base := opts.TokenClient
	guard := func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if !sameOrigin(req.URL, u) {
			return &redirectError{target: req.URL.Scheme + "://" + req.URL.Host}
		}
		return nil
	}
	inner := &http.Client{Transport: base.Transport, Timeout: base.Timeout, CheckRedirect: guard}
	policy := opts.Retry
	policy.StatusCodes = slices.DeleteFunc(slices.Clone(policy.StatusCodes), func(code int) bool {
		// A 4xx is the request's fault (invalid_grant, invalid_client):
		// sending it again cannot help.
		return code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests
	})
	retrying := &httpclient.Client{HTTP: inner, Policy: policy, Logger: opts.Logger, Redactor: c.redactor}
	return &http.Client{Transport: &retryTransport{c: retrying, attempts: &c.attempts}, CheckRedirect: guard}, nil
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if strings.EqualFold(u.Scheme, "https") {
			return "443"
		}
		return "80"
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// redirectError is a token request redirected off the token URL's host.
type redirectError struct{ target string }

func (e *redirectError) Error() string {
	return fmt.Sprintf("the token endpoint redirected to another host, %s; not followed, as the request carries client_secret and refresh_token (set token_url to the endpoint itself)", e.target)
}

// retryTransport sends token requests through an httpclient.Client, so they
// are retried under the pipeline's policy. A status error comes back as the
// response it was, for x/oauth2 to read the OAuth2 error from.
type retryTransport struct {
	c        *httpclient.Client
	attempts *int // written under the token cache's mutex
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.c.Do(req.Context(), req)
	var se *httpclient.StatusError
	switch {
	case err == nil:
		*t.attempts = 1
		return resp, nil
	case errors.As(err, &se):
		*t.attempts = se.Attempts
		return &http.Response{
			StatusCode: se.StatusCode, Status: se.Status, Header: se.Header, Request: req,
			Body: io.NopCloser(bytes.NewReader(se.Content)), ContentLength: int64(len(se.Content)),
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		}, nil
	}
	return nil, err
}
