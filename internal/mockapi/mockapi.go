// Package mockapi is a stand-in for the analytics API behind restload's seed
// config (shaped after Sigma Computing's REST API v2). It backs `restload
// demo`, `restload mock-api`, the end-to-end tests and the benchmarks.
//
// The server is deterministic: records are generated on demand from
// (Seed, resource, index), never stored, so a resource of a million records
// costs no memory and the same options always serve the same bytes. Faults
// (429 bursts, 5xx, and body faults: cut or reset bodies, stalls, trickles,
// redirects to another host, huge Content-Length, gzip bombs; see
// BodyFaults) are chosen by a request counter, not by chance, so tests that
// inject them are reproducible.
//
// Routes, under the base path /v2:
//
//	POST /v2/auth/token   OAuth2 token endpoint (refresh_token and client_credentials grants)
//	GET  /v2/<resource>   paged list of one of the eight resources; needs a bearer token
//
// Two flavors of list response exist. "analytics" (the seed's shape) takes a
// 1-based page number in `page`; "sigma" (the real API's shape) takes the
// opaque `nextPage` token of the previous response in `page`, keys each
// resource on its own field, and answers members, teams and workspaces with a
// bare JSON list of every record when `limit` is absent.
package mockapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/restload/restload/internal/jsontext"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Flavors of list response.
const (
	FlavorAnalytics = "analytics"
	FlavorSigma     = "sigma"
)

// Defaults applied by New to zero-valued Options fields.
const (
	DefaultClientID     = "demo-client"
	DefaultClientSecret = "demo-secret"
	DefaultRefreshToken = "demo-refresh"
	DefaultRecords      = 2500
	DefaultLimit        = 50
	DefaultMaxLimit     = 1000
	DefaultShift        = 3
	DefaultTokenTTL     = time.Hour
	DefaultRetryAfter   = "1"
	// DefaultMaxFaultStreak matches the seed's three retries: a client
	// that retries three times always gets through.
	DefaultMaxFaultStreak = 3
)

// Options configures a Server. The zero value is a valid analytics-flavor
// server with DefaultRecords records per resource.
type Options struct {
	// Flavor is FlavorAnalytics ("" means analytics) or FlavorSigma.
	Flavor string
	// Records is the number of records per resource (<= 0 means DefaultRecords).
	Records int
	// RecordsPer overrides Records per resource name; 0 is honoured here.
	RecordsPer map[string]int

	// ClientID, ClientSecret and RefreshToken are the credentials the token
	// endpoint accepts ("" means the Default* constants).
	ClientID, ClientSecret, RefreshToken string
	// TokenTTL is the access-token lifetime (<= 0 means DefaultTokenTTL).
	// Data requests with an expired token get 401.
	TokenTTL time.Duration
	// RotateRefreshToken makes each refresh_token grant return a new refresh
	// token; the one presented stops working.
	RotateRefreshToken bool

	// Compress, "gzip" or "zstd", sends list pages in that content coding
	// to a request whose Accept-Encoding lists it ("": never).
	Compress string

	// Latency is added to every authenticated data request; the wait ends
	// early when the request's context is cancelled.
	Latency time.Duration
	// RateLimitEvery, when > 0, makes data requests 429: counting
	// authenticated data requests from 1, the last BurstLen of every
	// RateLimitEvery requests are answered 429 with Retry-After.
	RateLimitEvery int
	// RateLimit, when > 0, is the rate of authenticated data requests
	// allowed, in requests a second: a token bucket of RateBurst requests
	// refilled at RateLimit a second; a request that finds it empty is
	// answered 429 with Retry-After (RetryAfter), before any Latency.
	RateLimit float64
	// RateBurst is RateLimit's bucket size (<= 0 means a tenth of a
	// second's requests, at least 1).
	RateBurst int
	// BurstLen is the number of consecutive 429s per cycle (<= 0 means 1).
	BurstLen int
	// RetryAfter is the Retry-After header value on 429s ("" means
	// DefaultRetryAfter). It may be "0" or an HTTP date.
	RetryAfter string
	// FaultEvery, when > 0, answers every FaultEvery-th authenticated data
	// request with a 5xx, cycling 500, 502, 503, 504. A request chosen for
	// both a 429 and a 5xx gets the 429.
	FaultEvery int
	// MaxFaultStreak caps how many times in a row the same request (path
	// and query) is answered with an injected 429 or 5xx; the next try is
	// served normally, as a transient fault would be. Without it, clients
	// sending many requests at once could see one request drawn for a fault
	// on every retry. 0 means DefaultMaxFaultStreak.
	MaxFaultStreak int

	// BodyFault, when set, is one of BodyFaults: a response that goes
	// wrong after the request was accepted (a cut or reset body, a stall,
	// a trickle, a redirect to another host, a huge Content-Length, a
	// gzip bomb). It is served on authenticated data requests drawn by
	// BodyFaultEvery and BodyFaultPage, MaxFaultStreak times in a row at
	// most for the same request.
	BodyFault string
	// BodyFaultEvery draws every Nth request that BodyFaultPage lets
	// through (<= 0 means every one).
	BodyFaultEvery int
	// BodyFaultPage, when > 0, limits the body fault to requests for
	// this page (1-based; for sigma, the token's offset / limit + 1).
	BodyFaultPage int
	// TrickleInterval is the wait between bytes of a trickle
	// (<= 0 means DefaultTrickleInterval).
	TrickleInterval time.Duration
	// GzipBombBytes is what a gzip bomb expands to (<= 0 means
	// DefaultGzipBombBytes), rounded up to a MiB.
	GzipBombBytes int
	// RedirectURL is where redirect faults send requests (scheme and
	// host, e.g. "http://127.0.0.2:8081"). Start opens a second listener
	// and sets it when BodyFault is redirect and RedirectURL is "".
	RedirectURL string

	// ShiftRecords simulates records being inserted at the head of the list
	// while a client pages: every page after the first starts Shift records
	// earlier than it nominally would (page p >= 2 of an analytics walk is
	// records [(p-1)*limit-Shift, p*limit-Shift)), so the Shift records at the
	// first page boundary are served twice and none are missed. The shift is
	// capped at limit-1 so every page serves at least one new record.
	ShiftRecords bool
	// Shift is the number of records pages shift by (<= 0 means DefaultShift).
	Shift int
	// MaxLimit is the largest accepted `limit` (<= 0 means DefaultMaxLimit);
	// larger limits get 400.
	MaxLimit int

	// Seed selects the generated data; the same seed serves the same bytes.
	Seed int64
	// Now is the clock used for token expiry (nil means time.Now).
	Now func() time.Time
}

// Validate reports the first invalid option. New panics on options that fail
// it; Start returns its error.
func (o Options) Validate() error {
	switch o.Flavor {
	case "", FlavorAnalytics, FlavorSigma:
	default:
		return fmt.Errorf("mockapi: unknown flavor %q (want %q or %q)", o.Flavor, FlavorAnalytics, FlavorSigma)
	}
	for name, n := range o.RecordsPer {
		if resourceIndex(name) < 0 {
			return fmt.Errorf("mockapi: records for unknown resource %q", name)
		}
		if n < 0 {
			return fmt.Errorf("mockapi: negative record count %d for %q", n, name)
		}
	}
	if o.RateLimitEvery < 0 || o.FaultEvery < 0 || o.MaxFaultStreak < 0 || o.Latency < 0 || o.RateLimit < 0 {
		return fmt.Errorf("mockapi: RateLimitEvery, RateLimit, FaultEvery, MaxFaultStreak and Latency must not be negative")
	}
	if err := o.validateCompress(); err != nil {
		return err
	}
	return o.validateBodyFault()
}

// Stats counts what a Server has answered. Values are read atomically, one
// field at a time, so a snapshot taken under load may be slightly skewed.
type Stats struct {
	// DataRequests counts authenticated requests to resource lists,
	// including those answered 429 or 5xx.
	DataRequests int64
	// TokenRequests counts requests to the token endpoint, good or bad.
	TokenRequests int64
	Served429     int64
	Served5xx     int64
	// Unauthorized counts data requests rejected for a missing, unknown or
	// expired token (they are not counted in DataRequests).
	Unauthorized int64
	// ServedBodyFaults counts data requests answered with a body fault.
	ServedBodyFaults int64
}

// Server is the mock API as an http.Handler. It is safe for concurrent use.
//
// Generated data has a few index-based quirks that tests may rely on:
// sizeBytes (files, datasets, workbooks) is a string like "12 KB" at indexes
// i%50 == 37 and an integer elsewhere; version (templates, workbooks) is a
// float at i%40 == 23; name holds a quote, a backslash and a newline at
// i%97 == 41. Timestamps are RFC 3339 in UTC with milliseconds.
type Server struct {
	opts     Options
	sigma    bool
	counts   [numResources]int
	keyNames [numResources]string
	seedMix  uint64

	dataReqs, tokenReqs, served429, served5xx, unauthorized atomic.Int64

	mu           sync.RWMutex
	refreshToken string               // the currently valid refresh token
	revoked      map[string]bool      // refresh tokens rotated away (see revokeLocked)
	tokens       map[string]time.Time // access token -> expiry
	issued       uint64               // tokens issued so far, for unique values

	streakMu sync.Mutex
	streaks  map[string]int // request -> injected faults in a row

	bodyCandidates, servedBodyFaults atomic.Int64

	otherMu      sync.Mutex
	otherHeaders []http.Header // requests that reached the other host

	bucketMu     sync.Mutex
	bucket       float64 // RateLimit's tokens
	bucketFilled time.Time
}

var _ http.Handler = (*Server)(nil)

// New returns a Server for opts with defaults applied. It panics if
// opts.Validate fails; callers taking options from users should call
// Validate first (Start does).
func New(opts Options) *Server {
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	if opts.Flavor == "" {
		opts.Flavor = FlavorAnalytics
	}
	if opts.Records <= 0 {
		opts.Records = DefaultRecords
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.RefreshToken == "" {
		opts.RefreshToken = DefaultRefreshToken
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if opts.BurstLen <= 0 {
		opts.BurstLen = 1
	}
	if opts.RetryAfter == "" {
		opts.RetryAfter = DefaultRetryAfter
	}
	if opts.MaxFaultStreak <= 0 {
		opts.MaxFaultStreak = DefaultMaxFaultStreak
	}
	if opts.Shift <= 0 {
		opts.Shift = DefaultShift
	}
	if opts.MaxLimit <= 0 {
		opts.MaxLimit = DefaultMaxLimit
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TrickleInterval <= 0 {
		opts.TrickleInterval = DefaultTrickleInterval
	}
	if opts.GzipBombBytes <= 0 {
		opts.GzipBombBytes = DefaultGzipBombBytes
	}
	s := &Server{
		opts:         opts,
		sigma:        opts.Flavor == FlavorSigma,
		seedMix:      mix(uint64(opts.Seed) ^ 0x5eed),
		refreshToken: opts.RefreshToken,
		tokens:       make(map[string]time.Time),
		streaks:      make(map[string]int),
	}
	for i, name := range resourceNames {
		s.counts[i] = opts.Records
		if n, ok := opts.RecordsPer[name]; ok {
			s.counts[i] = n
		}
		s.keyNames[i] = "id"
		if s.sigma {
			s.keyNames[i] = sigmaKeys[i]
		}
	}
	return s
}

// Stats returns a snapshot of the request counters.
func (s *Server) Stats() Stats {
	return Stats{
		DataRequests:  s.dataReqs.Load(),
		TokenRequests: s.tokenReqs.Load(),
		Served429:     s.served429.Load(),
		Served5xx:     s.served5xx.Load(),
		Unauthorized:  s.unauthorized.Load(),

		ServedBodyFaults: s.servedBodyFaults.Load(),
	}
}

// Resources returns the eight resource names in the seed config's order.
func (s *Server) Resources() []string {
	return append([]string(nil), resourceNames[:]...)
}

// Count returns the number of records of resource (0 if unknown).
func (s *Server) Count(resource string) int {
	if res := resourceIndex(resource); res >= 0 {
		return s.counts[res]
	}
	return 0
}

// KeyField returns the primary-key field of resource: "id" for the analytics
// flavor; for sigma, "id" for files and e.g. "memberId" for members. It
// returns "" for an unknown resource.
func (s *Server) KeyField(resource string) string {
	if res := resourceIndex(resource); res >= 0 {
		return s.keyNames[res]
	}
	return ""
}

// RecordJSON returns the i-th record (0-based, in served order) of resource
// exactly as served, or nil if resource is unknown or i out of range.
func (s *Server) RecordJSON(resource string, i int) []byte {
	res := resourceIndex(resource)
	if res < 0 || i < 0 || i >= s.counts[res] {
		return nil
	}
	return s.appendRecord(nil, res, i)
}

// Record returns the i-th record of resource decoded with encoding/json
// (numbers are float64; every integer served is below 2^53, so exact), or
// nil if resource is unknown or i out of range.
func (s *Server) Record(resource string, i int) map[string]any {
	b := s.RecordJSON(resource, i)
	if b == nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("mockapi: generated invalid JSON for %s[%d]: %v", resource, i, err))
	}
	return m
}

// ServeHTTP routes a request to the token endpoint or a resource list.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, true)
}

// serve routes a request; faults says whether body faults may be served
// (not on the other host of a redirect).
func (s *Server) serve(w http.ResponseWriter, r *http.Request, faults bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/")
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no route for "+r.URL.Path)
		return
	}
	if rest == "auth/token" {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
			return
		}
		s.serveToken(w, r)
		return
	}
	res := resourceIndex(rest)
	if res < 0 {
		writeError(w, http.StatusNotFound, "not_found", "no route for "+r.URL.Path)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use GET")
		return
	}
	s.serveList(w, r, res, faults)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody(code, msg))
}

// errorBody is the JSON error shape of every non-2xx answer.
func errorBody(code, msg string) []byte {
	b := append([]byte(`{"error":`), jsontext.AppendString(nil, code)...)
	b = append(b, `,"message":`...)
	b = jsontext.AppendString(b, msg)
	return append(b, '}')
}

// ---- token endpoint ----

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.tokenReqs.Add(1)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "cannot parse form body: "+err.Error())
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if id == "" && secret == "" {
		id, secret, _ = r.BasicAuth()
	}
	if !equal(id, s.opts.ClientID) || !equal(secret, s.opts.ClientSecret) {
		w.Header().Set("WWW-Authenticate", `Basic realm="mockapi"`)
		writeError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}

	body, status := s.grant(r.PostForm)
	if status == http.StatusOK {
		w.Header().Set("Cache-Control", "no-store")
	}
	writeJSON(w, status, body)
}

// grant applies a token request from an authenticated client and returns the
// response body and status. The response is written by the caller, after the
// lock is released, so a slow client cannot stall other requests.
func (s *Server) grant(form url.Values) ([]byte, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
	case "refresh_token":
		if !equal(form.Get("refresh_token"), s.refreshToken) {
			return errorBody("invalid_grant", s.refreshRejection(form.Get("refresh_token"))), http.StatusBadRequest
		}
		if s.opts.RotateRefreshToken {
			s.revokeLocked(s.refreshToken)
			s.refreshToken = s.newTokenLocked("rt_")
		}
	default:
		return errorBody("unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported", gt)), http.StatusBadRequest
	}

	now := s.opts.Now()
	if len(s.tokens) >= 1024 {
		for t, exp := range s.tokens {
			if !now.Before(exp) {
				delete(s.tokens, t)
			}
		}
	}
	access := s.newTokenLocked("at_")
	s.tokens[access] = now.Add(s.opts.TokenTTL)

	b := append([]byte(`{"access_token":`), jsontext.AppendString(nil, access)...)
	b = append(b, `,"token_type":"bearer","expires_in":`...)
	b = strconv.AppendInt(b, int64(s.opts.TokenTTL/time.Second), 10)
	b = append(b, `,"refresh_token":`...)
	b = jsontext.AppendString(b, s.refreshToken)
	return append(b, '}'), http.StatusOK
}

// newTokenLocked returns a fresh opaque token; s.mu must be held.
func (s *Server) newTokenLocked(prefix string) string {
	s.issued++
	b := appendHex(append(make([]byte, 0, 32), prefix...), mix(s.seedMix^s.issued<<8^uint64(prefix[0])), 16)
	b = appendHex(b, s.issued, 8)
	return string(b)
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// authorized reports whether r carries an issued, unexpired bearer token.
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return false
	}
	tok := strings.TrimSpace(h[7:])
	s.mu.RLock()
	exp, ok := s.tokens[tok]
	s.mu.RUnlock()
	return ok && s.opts.Now().Before(exp)
}

// ---- resource lists ----

// faultAgain reports whether r, drawn (or not) for an injected fault, gets
// one: false when it was not drawn, and false once the same request has
// been faulted MaxFaultStreak times in a row. A request served normally
// starts its streak again.
func (s *Server) faultAgain(r *http.Request, drawn bool) bool {
	if s.opts.RateLimitEvery <= 0 && s.opts.FaultEvery <= 0 && s.opts.BodyFault == "" {
		return false
	}
	key := r.URL.RequestURI()
	s.streakMu.Lock()
	defer s.streakMu.Unlock()
	if !drawn || s.streaks[key] >= s.opts.MaxFaultStreak {
		delete(s.streaks, key)
		return false
	}
	s.streaks[key]++
	return true
}

func (s *Server) serveList(w http.ResponseWriter, r *http.Request, res int, faults bool) {
	if !s.authorized(r) {
		s.unauthorized.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "missing, unknown or expired access token")
		return
	}
	n := s.dataReqs.Add(1)

	if !s.allowed() {
		s.served429.Add(1)
		w.Header().Set("Retry-After", s.opts.RetryAfter)
		writeError(w, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("more than %g requests a second", s.opts.RateLimit))
		return
	}
	if d := s.opts.Latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}

	rateLimit := s.opts.RateLimitEvery > 0 && (n-1)%int64(s.opts.RateLimitEvery) >= int64(s.opts.RateLimitEvery-s.opts.BurstLen)
	fault := s.opts.FaultEvery > 0 && n%int64(s.opts.FaultEvery) == 0
	bodyFault := faults && !rateLimit && !fault && s.bodyFaultDrawn(s.pageOf(r))
	if !s.faultAgain(r, rateLimit || fault || bodyFault) {
		rateLimit, fault, bodyFault = false, false, false
	}
	if rateLimit {
		s.served429.Add(1)
		w.Header().Set("Retry-After", s.opts.RetryAfter)
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many requests")
		return
	}
	if every := int64(s.opts.FaultEvery); fault {
		codes := [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
		code := codes[(n/every-1)%int64(len(codes))]
		s.served5xx.Add(1)
		writeError(w, code, "server_error", fmt.Sprintf("injected fault on data request %d", n))
		return
	}

	q := r.URL.Query()
	limit := DefaultLimit
	limitStr, hasLimit := q.Get("limit"), q.Has("limit")
	if hasLimit {
		v, err := strconv.Atoi(limitStr)
		if err != nil || v < 1 {
			writeError(w, http.StatusBadRequest, "invalid_limit", fmt.Sprintf("limit %q is not a positive integer", limitStr))
			return
		}
		if v > s.opts.MaxLimit {
			writeError(w, http.StatusBadRequest, "invalid_limit", fmt.Sprintf("limit %d exceeds the maximum of %d", v, s.opts.MaxLimit))
			return
		}
		limit = v
	}

	if s.sigma {
		if !hasLimit && (res == resMembers || res == resTeams || res == resWorkspaces) {
			s.serveBareList(r.Context(), w, res)
			return
		}
		s.serveSigmaPage(w, r, q.Get("page"), res, limit, bodyFault)
		return
	}
	s.serveAnalyticsPage(w, r, q.Get("page"), res, limit, bodyFault)
}

// allowed takes a token of the RateLimit bucket; false when it is empty.
func (s *Server) allowed() bool {
	if s.opts.RateLimit <= 0 {
		return true
	}
	burst := float64(s.opts.RateBurst)
	if burst <= 0 {
		burst = max(1, math.Floor(s.opts.RateLimit/10))
	}
	s.bucketMu.Lock()
	defer s.bucketMu.Unlock()
	now := time.Now()
	if s.bucketFilled.IsZero() {
		s.bucket = burst
	} else {
		s.bucket = min(burst, s.bucket+now.Sub(s.bucketFilled).Seconds()*s.opts.RateLimit)
	}
	s.bucketFilled = now
	if s.bucket < 1 {
		return false
	}
	s.bucket--
	return true
}

// writePage writes a list page, with the body fault when fault is set.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, body []byte, fault bool) {
	if fault && s.writeFaulty(w, r, body) {
		return
	}
	s.writeCompressed(w, r, body)
}

// window returns the records [start, end) served for a page whose nominal
// first record is nominal. With ShiftRecords, pages after the first start
// min(Shift, limit-1) records early, so every page still makes progress.
func (s *Server) window(res, nominal, limit int) (start, end int) {
	start = nominal
	if s.opts.ShiftRecords && nominal > 0 {
		start = nominal - min(s.opts.Shift, limit-1)
	}
	count := s.counts[res]
	start = min(start, count)
	return start, min(start+limit, count)
}

func (s *Server) serveAnalyticsPage(w http.ResponseWriter, r *http.Request, pageStr string, res, limit int, fault bool) {
	page := 1
	if pageStr != "" {
		v, err := strconv.Atoi(pageStr)
		if err != nil || v < 1 {
			writeError(w, http.StatusBadRequest, "invalid_page", fmt.Sprintf("page %q is not a page number >= 1", pageStr))
			return
		}
		page = v
	}
	nominal := (page - 1) * limit
	if page-1 > s.counts[res]/limit+1 { // far beyond the end; also guards overflow
		nominal = s.counts[res] + s.opts.Shift
	}
	start, end := s.window(res, nominal, limit)
	hasMore := end < s.counts[res]

	bp := getBuf()
	b := s.appendEntries(append(*bp, `{"entries":`...), res, start, end)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(s.counts[res]), 10)
	b = append(b, `,"hasMore":`...)
	b = strconv.AppendBool(b, hasMore)
	b = append(b, `,"nextPage":`...)
	if hasMore {
		b = append(b, '"')
		b = strconv.AppendInt(b, int64(page+1), 10)
		b = append(b, '"')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, '}')
	s.writePage(w, r, b, fault)
	putBuf(bp, b)
}

// Sigma page tokens are base64url("<resource>:<nominal offset>"), so a token
// is opaque, bound to its resource and checkable.
func (s *Server) pageToken(res, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(resourceNames[res] + ":" + strconv.Itoa(offset)))
}

func (s *Server) parsePageToken(res int, tok string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	name, num, ok := bytes.Cut(raw, []byte{':'})
	if !ok || string(name) != resourceNames[res] {
		return 0, false
	}
	off, err := strconv.Atoi(string(num))
	if err != nil || off < 1 || off > s.counts[res]+s.opts.Shift {
		return 0, false
	}
	return off, true
}

func (s *Server) serveSigmaPage(w http.ResponseWriter, r *http.Request, tok string, res, limit int, fault bool) {
	nominal := 0
	if tok != "" {
		off, ok := s.parsePageToken(res, tok)
		if !ok {
			writeError(w, http.StatusBadRequest, "invalid_page", "page token is not one this endpoint issued")
			return
		}
		nominal = off
	}
	start, end := s.window(res, nominal, limit)
	hasMore := end < s.counts[res]

	bp := getBuf()
	b := s.appendEntries(append(*bp, `{"entries":`...), res, start, end)
	b = append(b, `,"hasMore":`...)
	b = strconv.AppendBool(b, hasMore)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(s.counts[res]), 10)
	b = append(b, `,"nextPage":`...)
	if hasMore {
		b = jsontext.AppendString(b, s.pageToken(res, nominal+limit))
	} else {
		b = append(b, "null"...)
	}
	b = append(b, '}')
	s.writePage(w, r, b, fault)
	putBuf(bp, b)
}

// serveBareList streams every record of res as one JSON array, the trap the
// real API sets for members, teams and workspaces when `limit` is absent.
func (s *Server) serveBareList(ctx context.Context, w http.ResponseWriter, res int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bp := getBuf()
	b := append(*bp, '[')
	for i := 0; i < s.counts[res]; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = s.appendRecord(b, res, i)
		if len(b) >= 64<<10 {
			if _, err := w.Write(b); err != nil || ctx.Err() != nil {
				putBuf(bp, b)
				return
			}
			b = b[:0]
		}
	}
	b = append(b, ']')
	_, _ = w.Write(b)
	putBuf(bp, b)
}

func (s *Server) appendEntries(b []byte, res, start, end int) []byte {
	b = append(b, '[')
	for i := start; i < end; i++ {
		if i > start {
			b = append(b, ',')
		}
		b = s.appendRecord(b, res, i)
	}
	return append(b, ']')
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func getBuf() *[]byte {
	bp := bufPool.Get().(*[]byte)
	*bp = (*bp)[:0]
	return bp
}

// putBuf returns b (grown from *bp) to the pool unless it is huge.
func putBuf(bp *[]byte, b []byte) {
	if cap(b) > 8<<20 {
		return
	}
	*bp = b[:0]
	bufPool.Put(bp)
}
