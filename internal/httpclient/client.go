package httpclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Policy says which failures are retried and how long to wait between
// tries. The zero Policy retries nothing.
type Policy struct {
	// MaxRetries is how many times a request is retried after its first
	// attempt, so a request is sent at most MaxRetries+1 times.
	MaxRetries int
	// BackoffFactor scales the exponential backoff: the wait before retry
	// n (counting from 0) is BackoffFactor * 2^n seconds. Zero means 1.
	BackoffFactor float64
	// StatusCodes are the response statuses that are retried. Connection
	// errors are always retried (while retries remain).
	StatusCodes []int
	// MaxDelay caps every wait, including one asked for by Retry-After.
	// Zero means 60s.
	MaxDelay time.Duration
}

// DefaultPolicy is the seed's policy: 3 retries, backoff factor 2 (waits of
// 2s, 4s and 8s), on 429, 500, 502, 503 and 504, waits capped at 60s.
func DefaultPolicy() Policy {
	return Policy{
		MaxRetries:    3,
		BackoffFactor: 2,
		StatusCodes:   []int{429, 500, 502, 503, 504},
		MaxDelay:      60 * time.Second,
	}
}

// minRetryAfterWait is the least time waited on a Retry-After that asks for
// less (including "0" and dates in the past), so a server answering
// "Retry-After: 0" cannot make restload burn all its retries at once.
const minRetryAfterWait = time.Second

func (p Policy) maxDelay() time.Duration {
	if p.MaxDelay > 0 {
		return p.MaxDelay
	}
	return 60 * time.Second
}

// Backoff returns the wait before retry n (0 for the first retry) without
// jitter: BackoffFactor * 2^n seconds, capped at MaxDelay.
func (p Policy) Backoff(n int) time.Duration {
	f := p.BackoffFactor
	if f <= 0 {
		f = 1
	}
	secs := f * math.Pow(2, float64(n))
	limit := p.maxDelay()
	if secs >= limit.Seconds() {
		return limit
	}
	return time.Duration(secs * float64(time.Second))
}

// wait returns how long to wait before retry n given the response that
// failed (nil for a connection error). Retry-After replaces the backoff; it
// is clamped to [min(1s, MaxDelay), MaxDelay]. The backoff gets up to 10%
// jitter, still capped at MaxDelay.
func (p Policy) wait(n int, resp *http.Response, now time.Time) time.Duration {
	limit := p.maxDelay()
	if resp != nil {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			return min(max(d, min(minRetryAfterWait, limit)), limit)
		}
	}
	d := p.Backoff(n)
	d += time.Duration(rand.Float64() * 0.1 * float64(d))
	return min(d, limit)
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) {
			return 0, true
		}
		if secs > float64(math.MaxInt64/int64(time.Second)) {
			return time.Duration(math.MaxInt64), true
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.Sub(now), true
	}
	return 0, false
}

// Client sends requests with retries, per-host limits and redacted errors.
// Its zero value works: http.DefaultClient, no retries, no limits, logs
// discarded. Set the fields before the first Do and do not change them
// afterwards; Do is safe for concurrent use. A Client must not be copied
// after first use.
type Client struct {
	// HTTP sends each attempt; its Transport normally carries auth.
	HTTP *http.Client
	// Policy decides what is retried and how long to wait.
	Policy Policy
	// Limits bounds concurrency and request rate for each host separately.
	Limits HostLimits
	// Hosts, when set, holds the host limits instead, shared with the
	// other clients given the same Hosts (Limits is then not used).
	Hosts *Hosts
	// Logger receives one record per retry; nil discards them.
	Logger *slog.Logger
	// Redactor masks secrets in errors and logs; nil masks only
	// secret-looking URL parts.
	Redactor *Redactor
	// Sleep waits d or until ctx is done, returning ctx's error then. Nil
	// uses a timer; tests inject a recorder.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for Retry-After dates and request pacing; nil is
	// time.Now. Sleep waits for both.
	Now func() time.Time
	// Timeout bounds each attempt, from sending the request to the end of
	// its body (for Do, until the body is closed); 0 means none beyond
	// HTTP's. An attempt that runs out is retried.
	Timeout time.Duration
	// IdleReadTimeout bounds the wait for each next byte of a body that
	// DoRead reads (0: none); an attempt that runs out is retried.
	IdleReadTimeout time.Duration
	// MaxBodyBytes caps a body DoRead reads, decompressed; 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// bodyHint is the size of the last body DoRead read.
	bodyHint atomic.Int64

	ownOnce sync.Once
	own     Hosts // when Hosts is nil
}

// StatusError is a response with status 400 or above, returned by Do after
// any retries were spent. Its body has been read and closed.
type StatusError struct {
	Method string
	// URL is the request URL with secrets masked.
	URL        string
	StatusCode int
	// Status is the status line text, such as "503 Service Unavailable".
	Status string
	// Header is the final response's header.
	Header http.Header
	// Body is the first 512 bytes of the response body, redacted, for
	// messages.
	Body string
	// Content is the response body (at most 1 MiB), not redacted, for
	// matching response actions. Never print it.
	Content []byte
	// Attempts is how many times the request was sent.
	Attempts int
}

func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s", e.Method, e.URL, e.Status)
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if body := strings.TrimSpace(e.Body); body != "" {
		b.WriteString(": ")
		b.WriteString(body)
	}
	return b.String()
}

// RequestError is a request that got no response: a connection failure that
// outlived its retries, or a context that ended. Err is the cause, its
// message redacted (errors.Is still sees context.Canceled and the like).
type RequestError struct {
	Method string
	// URL is the request URL with secrets masked.
	URL      string
	Attempts int
	Err      error
}

func (e *RequestError) Error() string {
	hint := ""
	if u, err := url.Parse(e.URL); err == nil {
		switch unreachable(e.Err) {
		case hostUnknown:
			hint = fmt.Sprintf(" (no host %s: check source.client.base_url)", u.Hostname())
		case hostRefused:
			hint = fmt.Sprintf(" (nothing listens at %s: is the API running, and is source.client.base_url right?)", u.Host)
		}
	}
	if e.Attempts > 1 {
		return fmt.Sprintf("%s %s: failed after %d attempts: %v%s", e.Method, e.URL, e.Attempts, e.Err, hint)
	}
	return fmt.Sprintf("%s %s: %v%s", e.Method, e.URL, e.Err, hint)
}

// Kinds of unreachable hosts (see unreachable).
const (
	hostReachable = iota
	hostUnknown   // DNS says there is no such host
	hostRefused   // the host refuses connections on the port
)

// unreachable says whether err means the host cannot be reached at all:
// an unknown name (not retried) or a refused connection (retried, as a
// restarting server refuses for a moment, but its retries are logged at
// debug level: the final error says it once, with a hint).
func unreachable(err error) int {
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return hostUnknown
	case errors.Is(err, syscall.ECONNREFUSED):
		return hostRefused
	}
	return hostReachable
}

// roundWait rounds a wait for people: 1.5s, not 1.503221877s.
func roundWait(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}

func (e *RequestError) Unwrap() error { return e.Err }

const (
	errorBodyBytes  = 512
	contentMaxBytes = 1 << 20
	drainBytes      = 64 << 10
)

// Do sends req, retrying as Policy says, and returns the first response
// with a status below 400. A response with status 400 or above comes back as
// a *StatusError once it is not retried or retries are spent; a request that
// never got a response comes back as a *RequestError. When ctx ends, Do
// stops at once, also during a wait, and returns a *RequestError wrapping
// ctx.Err().
//
// A request with a body must have GetBody set (http.NewRequest sets it for
// the usual body types) to be retried. Do blocks while the host's
// concurrency or rate limit is reached. Client.Timeout keeps running while
// the caller reads the body; DoRead reads it within the attempt, and so
// retries a body that fails.
func (c *Client) Do(ctx context.Context, req *http.Request) (*http.Response, error) {
	resp, _, err := c.send(ctx, req, false)
	return resp, err
}

// send is Do, and DoRead when read is set.
func (c *Client) send(ctx context.Context, req *http.Request, read bool) (*http.Response, []byte, error) {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	host := c.host(req.URL.Host)
	redURL := c.Redactor.URL(req.URL)
	fail := func(attempts int, err error) error {
		// The message already names the method and URL; drop net/http's
		// copy of them (which is not redacted).
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &RequestError{Method: req.Method, URL: redURL, Attempts: attempts, Err: c.Redactor.Error(err)}
	}
	// retry logs a failed attempt and waits before the next; a non-nil
	// result ends the request.
	retry := func(attempt int, resp *http.Response, msg string, attr slog.Attr, cause error) error {
		d := c.Policy.wait(attempt, resp, c.now())
		notifyRetry(ctx)
		level := slog.LevelWarn
		if unreachable(cause) != hostReachable {
			level = slog.LevelDebug
		}
		c.logger().LogAttrs(ctx, level, msg,
			slog.String("method", req.Method), slog.String("url", redURL), attr,
			slog.Int("attempt", attempt+1), slog.Duration("wait", roundWait(d)))
		if err := c.sleep(ctx, d); err != nil {
			return fail(attempt+1, err)
		}
		return nil
	}
	for attempt := 0; ; attempt++ {
		actx, cancel := c.attempt(ctx)
		r := req.WithContext(actx)
		if read && req.Header.Get("Accept-Encoding") == "" {
			// Ask for what decompress reads (and Go's transport then
			// leaves the body to it); the request's header map is the
			// caller's, so the attempt gets a copy.
			r.Header = req.Header.Clone()
			if r.Header == nil {
				r.Header = http.Header{}
			}
			r.Header.Set("Accept-Encoding", acceptEncoding)
		}
		if attempt > 0 && req.Body != nil && req.Body != http.NoBody {
			if req.GetBody == nil {
				cancel(nil)
				return nil, nil, fail(attempt, errors.New("cannot retry: request body is not replayable (GetBody is nil)"))
			}
			body, err := req.GetBody()
			if err != nil {
				cancel(nil)
				return nil, nil, fail(attempt, fmt.Errorf("replaying request body: %w", err))
			}
			r.Body = body
		}
		gen, err := host.acquire(ctx, c.now, c.sleep)
		if err != nil {
			cancel(nil)
			return nil, nil, fail(attempt, err)
		}
		resp, err := hc.Do(r)
		tooMany := err == nil && resp.StatusCode == http.StatusTooManyRequests
		host.done(err == nil && !tooMany, tooMany)
		if err == nil {
			now := c.now()
			host.pace.observe(resp.Header, now, c.Policy.maxDelay())
			if tooMany {
				if r := host.pace.tooMany(now, gen); r > 0 {
					c.logger().LogAttrs(ctx, slog.LevelDebug, "429: pacing the host slower",
						slog.String("host", req.URL.Host), slog.Float64("requests_per_second", math.Round(r*10)/10))
				}
			} else {
				host.pace.ok(now)
			}
		}

		retries := attempt < c.Policy.MaxRetries
		if err != nil {
			err = attemptErr(ctx, actx, err)
			cancel(nil)
			if ctx.Err() != nil {
				return nil, nil, fail(attempt+1, ctx.Err())
			}
			if !retries || !retryableError(err) {
				return nil, nil, fail(attempt+1, err)
			}
			if err := retry(attempt, nil, "request failed, retrying", slog.String("error", c.Redactor.String(err.Error())), err); err != nil {
				return nil, nil, err
			}
			continue
		}
		if resp.StatusCode < 400 && !read {
			resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
			return resp, nil, nil
		}
		if resp.StatusCode < 400 {
			body, err := c.readBody(resp, cancel)
			_ = resp.Body.Close()
			err = attemptErr(ctx, actx, err)
			cancel(nil)
			if err == nil {
				return resp, body, nil
			}
			if ctx.Err() != nil {
				return nil, nil, fail(attempt+1, ctx.Err())
			}
			// Any failure to read the body is the transport's (or the
			// attempt's timeout, or a decompressor's), retried as a
			// connection error; a body over the cap, or in a coding
			// restload cannot read, is not.
			var tooLarge *BodyTooLargeError
			var unsupported *UnsupportedEncodingError
			if !retries || errors.As(err, &tooLarge) || errors.As(err, &unsupported) {
				return nil, nil, fail(attempt+1, err)
			}
			if err := retry(attempt, nil, "reading response failed, retrying", slog.String("error", c.Redactor.String(err.Error())), err); err != nil {
				return nil, nil, err
			}
			continue
		}
		if !retries || !slices.Contains(c.Policy.StatusCodes, resp.StatusCode) {
			_ = decompress(resp) // an error body in another coding is kept as it came
			se := c.statusError(req, redURL, resp, attempt+1)
			cancel(nil)
			return nil, nil, se
		}
		drain(resp)
		cancel(nil)
		if err := retry(attempt, resp, "retrying request", slog.Int("status", resp.StatusCode), nil); err != nil {
			return nil, nil, err
		}
	}
}

func (c *Client) statusError(req *http.Request, redURL string, resp *http.Response, attempts int) *StatusError {
	defer resp.Body.Close()
	content, _ := io.ReadAll(io.LimitReader(resp.Body, contentMaxBytes))
	body := content
	if len(body) > errorBodyBytes {
		body = body[:errorBodyBytes]
	}
	status := resp.Status
	if status == "" {
		status = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return &StatusError{
		Method:     req.Method,
		URL:        redURL,
		StatusCode: resp.StatusCode,
		Status:     status,
		Header:     resp.Header,
		Body:       c.Redactor.String(strings.TrimSpace(string(body))),
		Content:    content,
		Attempts:   attempts,
	}
}

// drain reads a little of an unwanted body so the connection can be reused,
// then closes it.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, drainBytes)
	_ = resp.Body.Close()
}

// retryableError reports whether a transport error is worth retrying:
// network errors and connections cut mid-response, but not, say, a bad URL
// scheme or a refused TLS certificate.
func retryableError(err error) bool {
	// *url.Error is itself a net.Error; look at what it wraps, so that an
	// error from a RoundTripper (a refused token request, say) is not
	// mistaken for a network failure.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if unreachable(err) == hostUnknown {
		return false // a definite answer: retrying asks again for nothing
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

func (c *Client) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func (c *Client) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("waiting to retry: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}

type onRetryKey struct{}

// WithOnRetry returns a context whose requests call fn each time Do decides
// to retry one of them. It lets a caller that shares one Client among many
// jobs (resources) count each job's retries. fn must be safe for concurrent
// use.
func WithOnRetry(ctx context.Context, fn func()) context.Context {
	return context.WithValue(ctx, onRetryKey{}, fn)
}

func notifyRetry(ctx context.Context) {
	if fn, ok := ctx.Value(onRetryKey{}).(func()); ok {
		fn()
	}
}
