package httpclient

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Origin is where credentials may be sent: a scheme, host and port, as in
// the API's base_url. An empty Scheme or Port matches any (an origin written
// as a bare "host" or "host:port"); the zero Origin matches nothing.
type Origin struct {
	Scheme, Host, Port string
}

// ParseOrigin reads an origin from a URL ("https://api.example.com/v1": its
// scheme, host and port, the port defaulting to the scheme's) or from a bare
// "host" or "host:port".
func ParseOrigin(raw string) (Origin, error) {
	if !strings.Contains(raw, "://") {
		o := Origin{Host: strings.ToLower(raw)}
		if h, p, err := net.SplitHostPort(raw); err == nil {
			o.Host, o.Port = strings.ToLower(h), p
		}
		if o.Host == "" {
			return Origin{}, errors.New("origin has no host")
		}
		return o, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Origin{}, fmt.Errorf("origin: %w", err)
	}
	if u.Host == "" {
		return Origin{}, fmt.Errorf("%s has no host", Escape(raw))
	}
	return OriginOf(u), nil
}

// OriginOf returns u's origin, with the scheme and host lower-cased and the
// port made explicit (80 for http, 443 for https).
func OriginOf(u *url.URL) Origin {
	o := Origin{Scheme: strings.ToLower(u.Scheme), Host: strings.ToLower(u.Hostname()), Port: u.Port()}
	if o.Port == "" {
		switch o.Scheme {
		case "http":
			o.Port = "80"
		case "https":
			o.Port = "443"
		}
	}
	return o
}

// Contains reports whether u is at o: same scheme, host and port. This is
// the one rule for "is this the API's host" that auth and the credential
// guard share.
func (o Origin) Contains(u *url.URL) bool {
	if o.Host == "" || u == nil {
		return false
	}
	got := OriginOf(u)
	return got.Host == o.Host && (o.Scheme == "" || got.Scheme == o.Scheme) && (o.Port == "" || got.Port == o.Port)
}

func (o Origin) String() string {
	h := o.Host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if o.Port != "" {
		h += ":" + o.Port
	}
	if o.Scheme != "" {
		return o.Scheme + "://" + h
	}
	return h
}

// CredentialGuard is an http.RoundTripper that sends credentials only to the
// API's origin. A request anywhere else (a next link or Link header to
// another host, a redirect, a child path built from a parent's URL) still
// goes out, but without any credential header. No request carries a
// Referer, so a redirect never repeats the previous URL (and the secrets in
// its query) to anyone. Each credential sent to the origin is registered
// with the Redactor, so an API that echoes it back sees it masked.
//
// Credential headers are: Authorization, Proxy-Authorization, Cookie, the
// headers named in Headers (those whose configured value holds a secret),
// headers whose value holds a secret the Redactor knows, and headers whose
// names look secret (see IsSecretParam, e.g. X-Api-Key, X-Auth-Token).
//
// Set the fields before the first request; RoundTrip is safe for concurrent
// use and never modifies the caller's request.
type CredentialGuard struct {
	// Base sends the requests; nil is http.DefaultTransport.
	Base http.RoundTripper
	// Origin is the API's origin; the zero Origin sends credentials nowhere.
	Origin Origin
	// Headers names more headers that carry credentials (any case).
	Headers []string
	// Redactor learns the credentials sent and knows the secrets; may be nil.
	Redactor *Redactor
}

var _ http.RoundTripper = (*CredentialGuard)(nil)

// alwaysCredential are headers that carry credentials whatever their value.
var alwaysCredential = []string{"Authorization", "Proxy-Authorization", "Cookie"}

func (g *CredentialGuard) credential(name string, values []string) bool {
	if slices.Contains(alwaysCredential, name) || IsSecretParam(name) ||
		slices.ContainsFunc(g.Headers, func(h string) bool { return strings.EqualFold(h, name) }) {
		return true
	}
	return slices.ContainsFunc(values, g.Redactor.holdsSecret)
}

// RoundTrip sends req, without Referer and, off the origin, without
// credential headers.
func (g *CredentialGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	base := g.Base
	if base == nil {
		base = http.DefaultTransport
	}
	onOrigin := g.Origin.Contains(req.URL)
	var strip []string
	if _, ok := req.Header["Referer"]; ok {
		strip = append(strip, "Referer")
	}
	for name, values := range req.Header {
		if !g.credential(name, values) {
			continue
		}
		if !onOrigin {
			strip = append(strip, name)
			continue
		}
		if g.Redactor != nil && (slices.Contains(alwaysCredential, name) || slices.ContainsFunc(g.Headers, func(h string) bool { return strings.EqualFold(h, name) })) {
			for _, v := range values {
				g.Redactor.Add(credentialForms(name, v)...)
			}
		}
	}
	if len(strip) == 0 {
		return base.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	for _, name := range strip {
		delete(r.Header, name)
	}
	return base.RoundTrip(r)
}

// minCookieSecretLen is the shortest cookie value masked on its own.
const minCookieSecretLen = 8

// credentialForms lists what to mask of a credential header's value: the
// value itself, an Authorization header's credentials after its scheme
// ("Bearer" token or "Basic" base64) and what a Basic value decodes to
// (user:password and the password), and a Cookie's longer values.
func credentialForms(name, v string) []string {
	forms := []string{v}
	switch name {
	case "Authorization", "Proxy-Authorization":
		scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
		if !ok {
			break
		}
		cred = strings.TrimSpace(cred)
		forms = append(forms, cred)
		if strings.EqualFold(scheme, "basic") {
			if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
				forms = append(forms, string(dec))
				if _, pw, ok := strings.Cut(string(dec), ":"); ok {
					forms = append(forms, pw)
				}
			}
		}
	case "Cookie":
		// Cookies also carry flags ("consent=true"): only values long
		// enough to be a session or key are masked on their own.
		for _, c := range strings.Split(v, ";") {
			if _, val, ok := strings.Cut(c, "="); ok && len(strings.TrimSpace(val)) >= minCookieSecretLen {
				forms = append(forms, strings.TrimSpace(val))
			}
		}
	}
	return forms
}

// MaxRedirects is how many redirects one request follows.
const MaxRedirects = 10

// RedirectPolicy returns the redirect policy for API requests (an
// http.Client.CheckRedirect): at most MaxRedirects redirects, and no
// Referer header, which net/http adds with the previous URL, query and
// secrets included; then next, when not nil, decides. Credential headers are
// dropped off the API's origin by CredentialGuard, which sees every hop.
func RedirectPolicy(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= MaxRedirects {
			return fmt.Errorf("stopped after %d redirects", MaxRedirects)
		}
		req.Header.Del("Referer")
		if next != nil {
			return next(req, via)
		}
		return nil
	}
}
