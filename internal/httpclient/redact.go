package httpclient

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Mask is what redaction puts in place of a secret.
const Mask = "[REDACTED]"

// Redactor replaces known secret values in text and masks secret-looking
// parts of URLs; what it returns is also passed through Escape, so it is
// safe to print. The nil *Redactor is valid: it knows no secrets but still
// masks URL passwords and secret query parameters and escapes. A Redactor is
// safe for concurrent use.
type Redactor struct {
	mu       sync.RWMutex
	secrets  []string
	known    map[string]bool
	replacer *strings.Replacer
}

// NewRedactor returns a Redactor that hides each non-empty secret, both as
// written and in its derived forms (see Add).
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// MinSecretLen is the shortest secret value that is masked in text. Shorter
// values (a one-letter placeholder, say) would mask pieces of ordinary words
// and make every message unreadable, while protecting nothing real.
const MinSecretLen = 4

// Add registers more secrets, for example an access token fetched at run
// time. Each is masked as written, URL-escaped (query and path forms) and
// base64-encoded (standard and URL alphabets, padded or not), the forms an
// API echoing a request is likely to show it in. Values shorter than
// MinSecretLen are ignored. Adding known values is cheap.
func (r *Redactor) Add(secrets ...string) {
	var forms []string
	for _, s := range secrets {
		if len(s) < MinSecretLen {
			continue
		}
		forms = append(forms, secretForms(s)...)
	}
	r.mu.RLock()
	fresh := slices.ContainsFunc(forms, func(f string) bool { return !r.known[f] })
	r.mu.RUnlock()
	if !fresh {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.known == nil {
		r.known = map[string]bool{}
	}
	for _, f := range forms {
		if !r.known[f] {
			r.known[f] = true
			r.secrets = append(r.secrets, f)
		}
	}
	// Longest first, so a secret containing another is replaced whole.
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(r.secrets))
	for _, s := range r.secrets {
		pairs = append(pairs, s, Mask)
	}
	r.replacer = strings.NewReplacer(pairs...)
}

// secretForms lists the forms of s that Add masks.
func secretForms(s string) []string {
	b := []byte(s)
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s),
		base64.StdEncoding.EncodeToString(b), base64.URLEncoding.EncodeToString(b)}
	// Unpadded forms are prefixes of the padded ones: mask those prefixes
	// too, so that text with the padding cut off still hides the secret.
	for _, f := range forms[3:] {
		forms = append(forms, strings.TrimRight(f, "="))
	}
	return forms
}

// String returns s with every known secret replaced by [REDACTED], then
// escaped (see Escape).
func (r *Redactor) String(s string) string {
	return Escape(r.replace(s))
}

func (r *Redactor) replace(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	rep := r.replacer
	r.mu.RUnlock()
	if rep == nil {
		return s
	}
	return rep.Replace(s)
}

// holdsSecret reports whether s contains a known secret in any of its forms.
func (r *Redactor) holdsSecret(s string) bool {
	return r.replace(s) != s
}

// secretParams are query parameter names whose values are always masked.
var secretParams = map[string]bool{
	"token": true, "access_token": true, "api_key": true, "apikey": true,
	"key": true, "secret": true, "client_secret": true, "password": true,
	"signature": true, "sig": true, "code": true, "refresh_token": true,
	"id_token": true, "passwd": true, "pwd": true, "auth": true,
}

// IsSecretParam reports whether a query parameter or header named name
// should have its value masked: one of token, access_token, api_key, apikey,
// key, secret, client_secret, password, signature, sig, code, refresh_token
// (case-insensitive, '-' read as '_'), or any name containing "token",
// "secret", "password" or "api_key".
func IsSecretParam(name string) bool {
	n := strings.ReplaceAll(strings.ToLower(name), "-", "_")
	if secretParams[n] {
		return true
	}
	for _, part := range []string{"token", "secret", "password", "api_key", "apikey"} {
		if strings.Contains(n, part) {
			return true
		}
	}
	return false
}

// URL renders u with its userinfo password, the values of secret-looking
// query parameters (see IsSecretParam) and every known secret masked. The
// order of query parameters is kept.
func (r *Redactor) URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	user := ""
	if c.User != nil {
		user = c.User.Username()
		if _, has := c.User.Password(); has {
			user += ":" + Mask
		}
		c.User = nil
	}
	if c.RawQuery != "" {
		parts := strings.Split(c.RawQuery, "&")
		for i, p := range parts {
			k, _, hasValue := strings.Cut(p, "=")
			name, err := url.QueryUnescape(k)
			if err != nil {
				name = k
			}
			if hasValue && IsSecretParam(name) {
				parts[i] = k + "=" + Mask
			}
		}
		c.RawQuery = strings.Join(parts, "&")
	}
	s := c.String()
	if user != "" {
		if i := strings.Index(s, "://"); i >= 0 {
			s = s[:i+3] + user + "@" + s[i+3:]
		}
	}
	return r.String(s)
}

// URLString is URL for a URL held as a string; an unparsable string is only
// passed through String.
func (r *Redactor) URLString(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return r.String(raw)
	}
	return r.URL(u)
}

// Error returns err's message with secrets redacted, keeping err in the
// chain for errors.Is and errors.As.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := r.String(err.Error())
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// RedactHandler wraps h so that log messages, string attributes, errors,
// URLs and Stringers pass through r before h sees them. Attributes whose key
// looks secret (see IsSecretParam) are masked whole.
func RedactHandler(h slog.Handler, r *Redactor) slog.Handler {
	return &redactHandler{h: h, r: r}
}

type redactHandler struct {
	h slog.Handler
	r *Redactor
}

func (rh *redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return rh.h.Enabled(ctx, l)
}

func (rh *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, rh.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(rh.attr(a))
		return true
	})
	return rh.h.Handle(ctx, out)
}

func (rh *redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = rh.attr(a)
	}
	return &redactHandler{h: rh.h.WithAttrs(red), r: rh.r}
}

func (rh *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{h: rh.h.WithGroup(name), r: rh.r}
}

func (rh *redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if IsSecretParam(a.Key) && v.Kind() != slog.KindGroup {
		return slog.String(a.Key, Mask)
	}
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, rh.r.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, ga := range g {
			red[i] = rh.attr(ga)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case *url.URL:
			return slog.String(a.Key, rh.r.URL(x))
		case error:
			return slog.String(a.Key, rh.r.String(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, rh.r.String(x.String()))
		case []byte:
			return slog.String(a.Key, rh.r.String(string(x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
