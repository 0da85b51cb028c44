package httpclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultMaxBodyBytes is Client.MaxBodyBytes when it is 0: 256 MiB.
const DefaultMaxBodyBytes = 256 << 20

// maxBodyGuess caps the buffer allocated up front for a body, whatever its
// Content-Length says: a hostile length costs nothing until bytes arrive.
const maxBodyGuess = 4 << 20

// BodyTooLargeError is a response body longer than Client.MaxBodyBytes
// (decompressed, when the transport decompressed it). It is not retried.
type BodyTooLargeError struct {
	// Limit is the cap in bytes.
	Limit int64
	// ContentLength is the length the response announced, or -1 when it
	// announced none or the body was found too large while reading.
	ContentLength int64
}

func (e *BodyTooLargeError) Error() string {
	cl := ""
	if e.ContentLength >= 0 {
		cl = fmt.Sprintf(": Content-Length %d", e.ContentLength)
	}
	return fmt.Sprintf("response body is larger than limits.max_response_bytes (%d bytes)%s; raise limits.max_response_bytes to read it", e.Limit, cl)
}

// TimeoutError is an attempt that ran out of time: its overall deadline
// (Client.Timeout, headers and body) or the idle-read timeout
// (Client.IdleReadTimeout, no byte of the body for that long). It is
// retried like a connection error.
type TimeoutError struct {
	// Idle is true for the idle-read timeout, false for the deadline.
	Idle  bool
	After time.Duration
}

func (e *TimeoutError) Error() string {
	if e.Idle {
		return fmt.Sprintf("no byte of the response body for %v (client.idle_read_timeout)", e.After)
	}
	return fmt.Sprintf("no complete response within %v (client.timeout)", e.After)
}

// Timeout reports true: TimeoutError is a net.Error, retried as one.
func (e *TimeoutError) Timeout() bool { return true }

// Temporary reports true (net.Error).
func (e *TimeoutError) Temporary() bool { return true }

// DoRead is Do that also reads the response body, within the same attempt:
// a body cut short, reset, stalled past Client.IdleReadTimeout or not done
// by Client.Timeout is retried like a connection error. The body is read
// whole, up to Client.MaxBodyBytes; a longer one is a *BodyTooLargeError
// inside a *RequestError, and is not retried. The returned response's Body
// is closed; its other fields are those of the response read.
//
// Errors are as Do's: a *StatusError for a status of 400 or above, a
// *RequestError for everything else.
func (c *Client) DoRead(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	return c.send(ctx, req, true)
}

// attempt returns the context of one attempt: ctx with Client.Timeout as
// its deadline, whose cause names the timeout.
func (c *Client) attempt(ctx context.Context) (context.Context, context.CancelCauseFunc) {
	actx, cancel := context.WithCancelCause(ctx)
	if c.Timeout <= 0 {
		return actx, cancel
	}
	tctx, stop := context.WithTimeoutCause(actx, c.Timeout, &TimeoutError{After: c.Timeout})
	return tctx, func(cause error) { cancel(cause); stop() }
}

// attemptErr returns err, or the reason the attempt's context ended when it
// ended on its own (a timeout) and not because ctx did.
func attemptErr(ctx, actx context.Context, err error) error {
	if ctx.Err() == nil && actx.Err() != nil {
		var te *TimeoutError
		if cause := context.Cause(actx); errors.As(cause, &te) {
			return cause
		}
	}
	return err
}

// readBody reads resp's body whole, decompressed (see decompress), at most
// c.MaxBodyBytes of it, calling cancel with a *TimeoutError when no byte
// came for c.IdleReadTimeout.
func (c *Client) readBody(resp *http.Response, cancel context.CancelCauseFunc) ([]byte, error) {
	limit := c.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if resp.ContentLength > limit {
		// Compressed or not, a body announced longer than the cap is.
		return nil, &BodyTooLargeError{Limit: limit, ContentLength: resp.ContentLength}
	}
	if err := decompress(resp); err != nil {
		return nil, err
	}
	size := resp.ContentLength
	if size < 0 {
		// The last body's size is the best guess at an unannounced one's,
		// so that a page is not copied over and over as the buffer grows.
		hint := c.bodyHint.Load()
		size = hint + hint/8
	}
	// One byte over the expected size, so that the read that finds the end
	// does not grow the buffer.
	buf := make([]byte, 0, max(min(size, maxBodyGuess)+1, 512))
	if idle := c.IdleReadTimeout; idle > 0 {
		t := time.AfterFunc(idle, func() { cancel(&TimeoutError{Idle: true, After: idle}) })
		defer t.Stop()
		resp.Body = &idleBody{ReadCloser: resp.Body, t: t, idle: idle}
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		// Read up to one byte past the limit, to tell a body of exactly
		// the limit from a longer one.
		end := int(min(int64(cap(buf)), limit+1))
		n, err := resp.Body.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &BodyTooLargeError{Limit: limit, ContentLength: -1}
		}
		if err == io.EOF {
			c.bodyHint.Store(int64(len(buf)))
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// idleBody restarts the idle-read timer after each read that got bytes.
type idleBody struct {
	io.ReadCloser
	t    *time.Timer
	idle time.Duration
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.t.Reset(b.idle)
	}
	return n, err
}

// cancelBody ends an attempt's context when the caller of Do closes the
// body (or reads it to the end).
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (b *cancelBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.cancel(nil)
	}
	return n, err
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}
