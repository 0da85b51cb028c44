package httpclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// bodyBounds are the Client fields a TestDoReadBody case sets.
type bodyBounds struct {
	Timeout, IdleReadTimeout time.Duration
	MaxBodyBytes             int64
}

// TestDoReadBody: DoRead reads the body within the attempt; what goes
// wrong while reading is retried like a connection error, except a body
// over the cap.
func TestDoReadBody(t *testing.T) {
	const page = `{"data":[1,2,3]}`
	tests := []struct {
		name string
		// serve answers try n (from 1).
		serve    func(w http.ResponseWriter, r *http.Request, n int32)
		client   bodyBounds
		wantBody string
		wantErr  string
		wantN    int32
	}{
		{name: "cut body retried", serve: func(w http.ResponseWriter, r *http.Request, n int32) {
			if n == 1 {
				w.Header().Set("Content-Length", "100")
				w.Write([]byte(page[:5]))
				return
			}
			w.Write([]byte(page))
		}, wantBody: page, wantN: 2},
		{name: "cut body on every try", serve: func(w http.ResponseWriter, r *http.Request, n int32) {
			w.Header().Set("Content-Length", "100")
			w.Write([]byte(page[:5]))
		}, wantErr: "GET URL: failed after 3 attempts: unexpected EOF", wantN: 3},
		{name: "body of exactly the cap", client: bodyBounds{MaxBodyBytes: int64(len(page))}, serve: func(w http.ResponseWriter, r *http.Request, n int32) {
			w.Write([]byte(page))
		}, wantBody: page, wantN: 1},
		{name: "chunked body over the cap not retried", client: bodyBounds{MaxBodyBytes: int64(len(page)) - 1}, serve: func(w http.ResponseWriter, r *http.Request, n int32) {
			w.Write([]byte(page[:4]))
			w.(http.Flusher).Flush()
			w.Write([]byte(page[4:]))
		}, wantErr: "GET URL: response body is larger than limits.max_response_bytes (15 bytes); raise limits.max_response_bytes to read it", wantN: 1},
		{name: "announced length over the cap not read", client: bodyBounds{MaxBodyBytes: 10}, serve: func(w http.ResponseWriter, r *http.Request, n int32) {
			w.Write([]byte(page))
		}, wantErr: "GET URL: response body is larger than limits.max_response_bytes (10 bytes): Content-Length 16; raise limits.max_response_bytes to read it", wantN: 1},
		{name: "stall cut by the idle timeout, retried", client: bodyBounds{IdleReadTimeout: 100 * time.Millisecond}, serve: func(w http.ResponseWriter, r *http.Request, n int32) {
			w.Header().Set("Content-Length", fmt.Sprint(len(page)))
			w.Write([]byte(page[:3]))
			if n == 1 {
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return
			}
			w.Write([]byte(page[3:]))
		}, wantBody: page, wantN: 2},
		{name: "trickle cut by the deadline", client: bodyBounds{Timeout: 300 * time.Millisecond, IdleReadTimeout: 200 * time.Millisecond}, serve: func(w http.ResponseWriter, r *http.Request, n int32) {
			w.Header().Set("Content-Length", fmt.Sprint(len(page)))
			for i := range len(page) {
				w.Write([]byte(page[i : i+1]))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}, wantErr: "GET URL: failed after 3 attempts: no complete response within 300ms (client.timeout)", wantN: 3},
		{name: "slow headers cut by the deadline", client: bodyBounds{Timeout: 100 * time.Millisecond}, serve: func(w http.ResponseWriter, r *http.Request, n int32) {
			if n < 3 {
				<-r.Context().Done()
				return
			}
			w.Write([]byte(page))
		}, wantBody: page, wantN: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tc.serve(w, r, n.Add(1))
			}))
			defer srv.Close()
			c := &Client{Policy: Policy{MaxRetries: 2}, Sleep: (&sleeper{}).sleep,
				Timeout: tc.client.Timeout, IdleReadTimeout: tc.client.IdleReadTimeout, MaxBodyBytes: tc.client.MaxBodyBytes}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/p", nil)
			resp, body, err := c.DoRead(context.Background(), req)
			if tc.wantErr != "" {
				var re *RequestError
				if !errors.As(err, &re) || strings.ReplaceAll(err.Error(), srv.URL+"/p", "URL") != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
			} else if err != nil || string(body) != tc.wantBody || resp.StatusCode != 200 {
				t.Fatalf("body %q, err %v", body, err)
			}
			if n.Load() != tc.wantN {
				t.Errorf("%d tries, want %d", n.Load(), tc.wantN)
			}
		})
	}
}

// TestDoReadCancel: a cancelled context is not retried, and its error says
// so.
func TestDoReadCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		w.Write([]byte("{"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	c := &Client{Policy: Policy{MaxRetries: 5}, Sleep: (&sleeper{}).sleep}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	_, _, err := c.DoRead(ctx, req)
	var re *RequestError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &re) || re.Attempts != 1 {
		t.Fatalf("err = %v", err)
	}
}
