// Package apitest is an HTTP API for tests that records every request it
// receives, so a test can assert what went over the wire: methods, paths,
// query parameters, headers and bodies. It is used by the conformance
// suite and by the tests that run the examples.
package apitest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// Request is one request as the API received it.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Host     string
	Header   http.Header
	Body     string
}

// Query returns the request's query parameters.
func (r Request) Query() url.Values {
	q, _ := url.ParseQuery(r.RawQuery)
	return q
}

// Param returns one query parameter of the request.
func (r Request) Param(name string) string { return r.Query().Get(name) }

// Server is an httptest server that records every request before handing
// it to its handler. It is safe for concurrent use and closed when the test
// ends.
type Server struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []Request
	counts map[string]int
}

// New starts a Server whose handler gets each request and its 1-based
// number among the requests to that path. The request body can be read
// again by the handler.
func New(t testing.TB, handle func(w http.ResponseWriter, r *http.Request, n int)) *Server {
	t.Helper()
	s := &Server{counts: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Host: r.Host, Header: r.Header.Clone(), Body: string(body)})
		s.counts[r.URL.Path]++
		n := s.counts[r.URL.Path]
		s.mu.Unlock()
		handle(w, r, n)
	}))
	t.Cleanup(s.Close)
	return s
}

// Requests returns the requests received for path ("" for all), in order.
func (s *Server) Requests(path string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.reqs {
		if path == "" || r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// Params returns query parameter name of each request to path, in order.
func (s *Server) Params(path, name string) []string {
	var out []string
	for _, r := range s.Requests(path) {
		out = append(out, r.Param(name))
	}
	return out
}
