package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/httpclient"
)

// now is the clock for token expiry; tests replace it.
var now = time.Now

// maxEarlyRenewal is how long before expiry a token is renewed; tokens
// living less than ten times this are renewed when 90% of their life is
// spent.
const maxEarlyRenewal = 60 * time.Second

// tokenCache holds one access token and renews it. Its mutex is held while
// a token is fetched, so concurrent requests wait for one token request
// instead of each sending their own.
type tokenCache struct {
	mu            sync.Mutex
	fetch         func(ctx context.Context) (*oauth2.Token, error)
	tokenURL      string
	redactor      *httpclient.Redactor
	defaultExpiry time.Duration // when the response has no expires_in; 0: never

	tok     *oauth2.Token
	renewAt time.Time // zero: never
}

func newTokenCache(cfg *config.Auth, hc *http.Client) (*tokenCache, error) {
	c := &tokenCache{}
	var clientCreds *clientcredentials.Config
	switch cfg.Type {
	case "oauth2_client_credentials":
		// dlt's OAuth2ClientCredentials: client id and secret in a Basic
		// header, access_token_request_data in the form.
		c.tokenURL = cfg.AccessTokenURL
		if c.tokenURL == "" {
			return nil, errors.New("oauth2_client_credentials auth: access_token_url is empty")
		}
		params := url.Values{}
		for k, v := range cfg.AccessTokenRequestData {
			params.Set(k, v)
		}
		clientCreds = &clientcredentials.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: c.tokenURL,
			Scopes: cfg.Scopes, EndpointParams: params, AuthStyle: oauth2.AuthStyleInHeader,
		}
		exp := cfg.DefaultTokenExpiration
		if exp == 0 {
			exp = 3600
		}
		c.defaultExpiry = time.Duration(exp) * time.Second
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
		} else {
			conf := &oauth2.Config{
				ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: cfg.Scopes,
				Endpoint: oauth2.Endpoint{TokenURL: c.tokenURL, AuthStyle: oauth2.AuthStyleInParams},
			}
			refresh := cfg.RefreshToken
			c.fetch = func(ctx context.Context) (*oauth2.Token, error) {
				// A source holding only the refresh token refreshes at
				// once. A rotated refresh token in the answer is kept for
				// the next refresh (called under c.mu).
				tok, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh}).Token()
				if err != nil {
					return nil, err
				}
				if tok.RefreshToken != "" && tok.RefreshToken != refresh {
					refresh = tok.RefreshToken
					c.redactor.Add(refresh)
				}
				return tok, nil
			}
		}
	}
	if clientCreds != nil {
		c.fetch = clientCreds.Token
	}
	c.redactor = httpclient.NewRedactor(cfg.ClientSecret, cfg.RefreshToken)
	base := c.fetch
	c.fetch = func(ctx context.Context) (*oauth2.Token, error) {
		return base(context.WithValue(ctx, oauth2.HTTPClient, hc))
	}
	return c, nil
}

// token returns the cached token, fetching a new one when there is none or
// it is due for renewal.
func (c *tokenCache) token(ctx context.Context) (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && (c.renewAt.IsZero() || now().Before(c.renewAt)) {
		return c.tok, nil
	}
	return c.refreshLocked(ctx)
}

// renew replaces stale, a token the API refused, unless another request has
// already replaced it.
func (c *tokenCache) renew(ctx context.Context, stale *oauth2.Token) (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && c.tok != stale {
		return c.tok, nil
	}
	return c.refreshLocked(ctx)
}

func (c *tokenCache) refreshLocked(ctx context.Context) (*oauth2.Token, error) {
	start := now()
	tok, err := c.fetch(ctx)
	if err != nil {
		return nil, c.tokenError(err)
	}
	var life time.Duration
	switch {
	case tok.ExpiresIn > 0:
		life = time.Duration(tok.ExpiresIn) * time.Second
	case !tok.Expiry.IsZero():
		life = time.Until(tok.Expiry)
	default:
		life = c.defaultExpiry
	}
	c.tok = tok
	c.renewAt = time.Time{}
	if life > 0 {
		c.renewAt = start.Add(life - min(maxEarlyRenewal, life/10))
	}
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
	msg               string
	err               error
}

func (e *TokenError) Error() string { return e.msg }
func (e *TokenError) Unwrap() error { return e.err }

func (c *tokenCache) tokenError(err error) error {
	te := &TokenError{URL: c.redactor.URLString(c.tokenURL), err: c.redactor.Error(err)}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		te.msg = fmt.Sprintf("oauth2 token request to %s: %s", te.URL, c.redactor.String(err.Error()))
		return te
	}
	te.StatusCode = re.Response.StatusCode
	te.Code = re.ErrorCode
	te.Description = c.redactor.String(re.ErrorDescription)
	var b strings.Builder
	fmt.Fprintf(&b, "oauth2 token request to %s: %d", te.URL, te.StatusCode)
	if te.Code != "" {
		b.WriteString(" " + te.Code)
	} else {
		b.WriteString(" " + http.StatusText(te.StatusCode))
	}
	if te.Description != "" {
		b.WriteString(": " + te.Description)
	}
	if h, ok := hints[te.Code]; ok {
		b.WriteString(" (" + h + ")")
	} else if te.StatusCode == http.StatusUnauthorized {
		b.WriteString(" (check client_id and client_secret)")
	}
	te.msg = b.String()
	return te
}
