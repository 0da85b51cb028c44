package mockapi

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Body faults: ways a data response goes wrong after its request was
// accepted, as a flaky or hostile API's would. Options.BodyFault picks one;
// Options.BodyFaultEvery and Options.BodyFaultPage pick the requests that
// get it, and MaxFaultStreak caps how often the same request gets it in a
// row (1: only its first try, so that a retry succeeds).
const (
	// FaultCut sends the page's Content-Length, half the page, then
	// closes the connection.
	FaultCut = "cut"
	// FaultReset sends half the page, then resets the connection (RST).
	FaultReset = "reset"
	// FaultStall sends the headers, then nothing until the client goes.
	FaultStall = "stall"
	// FaultTrickle sends the page one byte per Options.TrickleInterval.
	FaultTrickle = "trickle"
	// FaultRedirect answers 307 to the same path and query on another
	// host: Options.RedirectURL, or the second listener Start opens.
	FaultRedirect = "redirect"
	// FaultHugeLength sends "Content-Length: 100000000000000000" (1e17),
	// the start of the page, then closes the connection.
	FaultHugeLength = "huge-length"
	// FaultGzipBomb sends a gzip body (Content-Encoding: gzip) of about
	// GzipBombBytes/1000 bytes that expands to GzipBombBytes of JSON
	// whitespace followed by the page.
	FaultGzipBomb = "gzip-bomb"
)

// BodyFaults lists the body faults Options.BodyFault may name.
var BodyFaults = []string{FaultCut, FaultReset, FaultStall, FaultTrickle, FaultRedirect, FaultHugeLength, FaultGzipBomb}

// Defaults of the body fault options.
const (
	DefaultTrickleInterval = time.Second
	DefaultGzipBombBytes   = 1 << 30
	// HugeContentLength is the Content-Length a FaultHugeLength response
	// claims.
	HugeContentLength = int64(1e17)
)

func (o Options) validateBodyFault() error {
	if o.BodyFault != "" && !slices.Contains(BodyFaults, o.BodyFault) {
		return fmt.Errorf("mockapi: unknown body fault %q (want one of %s)", o.BodyFault, strings.Join(BodyFaults, ", "))
	}
	if o.BodyFaultEvery < 0 || o.BodyFaultPage < 0 || o.TrickleInterval < 0 || o.GzipBombBytes < 0 {
		return fmt.Errorf("mockapi: BodyFaultEvery, BodyFaultPage, TrickleInterval and GzipBombBytes must not be negative")
	}
	if o.RedirectURL != "" && !strings.HasPrefix(o.RedirectURL, "http://") && !strings.HasPrefix(o.RedirectURL, "https://") {
		return fmt.Errorf("mockapi: RedirectURL %q is not an http(s) URL", o.RedirectURL)
	}
	return nil
}

// bodyFaultDrawn reports whether the data request for page (1-based) is
// drawn for the body fault, before the streak cap.
func (s *Server) bodyFaultDrawn(page int) bool {
	if s.opts.BodyFault == "" || s.opts.BodyFaultPage > 0 && page != s.opts.BodyFaultPage {
		return false
	}
	n := s.bodyCandidates.Add(1)
	return n%int64(max(s.opts.BodyFaultEvery, 1)) == 0
}

// pageOf returns the 1-based page number a list request asks for: the
// analytics page param, or the sigma token's offset divided by limit.
func (s *Server) pageOf(r *http.Request) int {
	q := r.URL.Query()
	tok := q.Get("page")
	if tok == "" {
		return 1
	}
	if !s.sigma {
		p, _ := strconv.Atoi(tok)
		return p
	}
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 {
		limit = DefaultLimit
	}
	res := resourceIndex(strings.TrimPrefix(r.URL.Path, "/v2/"))
	if res < 0 {
		return 0
	}
	off, _ := s.parsePageToken(res, tok)
	return off/limit + 1
}

// writeFaulty writes a page of JSON with the body fault. It returns false
// when it could not (the redirect target is unknown), and the caller
// serves the page normally.
func (s *Server) writeFaulty(w http.ResponseWriter, r *http.Request, body []byte) bool {
	switch s.opts.BodyFault {
	case FaultRedirect:
		if s.opts.RedirectURL == "" {
			return false
		}
		s.servedBodyFaults.Add(1)
		http.Redirect(w, r, strings.TrimSuffix(s.opts.RedirectURL, "/")+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	case FaultStall, FaultTrickle:
		s.servedBodyFaults.Add(1)
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		if s.opts.BodyFault == FaultStall {
			<-r.Context().Done()
			return true
		}
		t := time.NewTicker(s.opts.TrickleInterval)
		defer t.Stop()
		for i := range body {
			select {
			case <-r.Context().Done():
				return true
			case <-t.C:
			}
			if _, err := w.Write(body[i : i+1]); err != nil {
				return true
			}
			_ = rc.Flush()
		}
	case FaultGzipBomb:
		s.servedBodyFaults.Add(1)
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Encoding", "gzip")
		w.WriteHeader(http.StatusOK)
		member := spacesMember()
		for n := 0; n < s.opts.GzipBombBytes; n += spacesPerMember {
			if _, err := w.Write(member); err != nil {
				return true
			}
		}
		var tail bytes.Buffer
		zw := gzip.NewWriter(&tail)
		_, _ = zw.Write(body)
		_ = zw.Close()
		_, _ = w.Write(tail.Bytes())
	default: // cut, reset, huge-length: raw bytes on a hijacked connection
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return false
		}
		s.servedBodyFaults.Add(1)
		defer conn.Close()
		length := int64(len(body))
		if s.opts.BodyFault == FaultHugeLength {
			length = HugeContentLength
		}
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", length)
		_, _ = buf.Write(body[:len(body)/2])
		_ = buf.Flush()
		if tc, ok := conn.(*net.TCPConn); ok && s.opts.BodyFault == FaultReset {
			_ = tc.SetLinger(0) // Close sends RST
		}
	}
	return true
}

// spacesPerMember is how many spaces one gzip member of a bomb expands to.
const spacesPerMember = 1 << 20

var spacesMember = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = zw.Write(bytes.Repeat([]byte{' '}, spacesPerMember))
	_ = zw.Close()
	return b.Bytes()
})

// otherHost serves the second listener of a redirect fault: it records
// the headers of each request, then serves it like the first listener
// (without faults).
type otherHost struct{ s *Server }

// maxOtherHostRequests bounds the headers kept from requests to the other
// host.
const maxOtherHostRequests = 1000

func (o otherHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.s.otherMu.Lock()
	if len(o.s.otherHeaders) < maxOtherHostRequests {
		o.s.otherHeaders = append(o.s.otherHeaders, r.Header.Clone())
	}
	o.s.otherMu.Unlock()
	o.s.serve(w, r, false)
}

// OtherHostHeaders returns the headers of the requests (up to 1000) that
// reached the other host of a redirect fault, in arrival order. Tests of
// credentials look in them.
func (s *Server) OtherHostHeaders() []http.Header {
	s.otherMu.Lock()
	defer s.otherMu.Unlock()
	out := make([]http.Header, len(s.otherHeaders))
	for i, h := range s.otherHeaders {
		out[i] = h.Clone()
	}
	return out
}
