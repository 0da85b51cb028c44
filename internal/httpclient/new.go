package httpclient

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Options are how New builds an API client. The fields other than Auth are
// normally shared by every client of a run (one per auth block), so they
// send over one transport with one set of limits.
type Options struct {
	// Base is the client whose Transport, Timeout and CheckRedirect every
	// request (and token request) goes through; nil is a client over
	// http.DefaultTransport.
	Base *http.Client
	// Origin is the API's origin (scheme://host:port): credentials, auth
	// and CredentialHeaders alike, go there and nowhere else.
	Origin string
	// CredentialHeaders names the headers whose values are secrets (see
	// CredentialGuard).
	CredentialHeaders []string
	Policy            Policy
	Limits            HostLimits
	// Hosts, when set, is the host limits every client built with these
	// Options shares (see Client.Hosts); Limits is then not used.
	Hosts    *Hosts
	Redactor *Redactor
	Logger   *slog.Logger
	// Timeout, IdleReadTimeout and MaxBodyBytes bound each attempt and the
	// body it reads (see Client).
	Timeout         time.Duration
	IdleReadTimeout time.Duration
	MaxBodyBytes    int64
	// Auth, when set, wraps the guarded transport with credentials; tokens
	// is the client its token requests must use (it records the tokens
	// obtained with Redactor, so they are masked like the file's secrets).
	Auth func(rt http.RoundTripper, tokens *http.Client) (http.RoundTripper, error)
}

// New builds an API client: Base's transport, then a CredentialGuard for
// Origin, then Auth, under a Client that retries with Policy, bounds hosts
// with Limits and follows redirects by RedirectPolicy.
func New(o Options) (*Client, error) {
	base := o.Base
	if base == nil {
		base = &http.Client{}
	}
	rt := http.RoundTripper(http.DefaultTransport)
	if base.Transport != nil {
		rt = base.Transport
	}
	origin, err := ParseOrigin(o.Origin)
	if err != nil {
		return nil, fmt.Errorf("client.base_url: %w", err)
	}
	rt = &CredentialGuard{Base: rt, Origin: origin, Headers: o.CredentialHeaders, Redactor: o.Redactor}
	if o.Auth != nil {
		tokens := &http.Client{Transport: &TokenRecorder{Base: base.Transport, Redactor: o.Redactor},
			Timeout: base.Timeout, CheckRedirect: base.CheckRedirect}
		if rt, err = o.Auth(rt, tokens); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	return &Client{
		// The attempt's deadline is the Client's Timeout, which covers the body.
		HTTP:     &http.Client{Transport: rt, CheckRedirect: RedirectPolicy(base.CheckRedirect)},
		Policy:   o.Policy,
		Limits:   o.Limits,
		Hosts:    o.Hosts,
		Logger:   o.Logger,
		Redactor: o.Redactor,

		Timeout:         o.Timeout,
		IdleReadTimeout: o.IdleReadTimeout,
		MaxBodyBytes:    o.MaxBodyBytes,
	}, nil
}

// NewTransport is http.DefaultTransport with room for perHost idle
// connections to each host. DefaultTransport keeps two: with more requests
// in flight than that, each finished request beyond two closed its
// connection and the next one dialed anew (and, against a real API,
// handshook TLS anew), once per page.
func NewTransport(perHost int) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = perHost
	tr.MaxIdleConns = max(tr.MaxIdleConns, perHost)
	return tr
}
