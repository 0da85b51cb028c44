package httpclient

import (
	"bytes"
	"compress/flate"
	stdgzip "compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func gzipped(t testing.TB, s string) []byte {
	var b bytes.Buffer
	zw := stdgzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zstded(t testing.TB, s string, opts ...zstd.EOption) []byte {
	var b bytes.Buffer
	zw, err := zstd.NewWriter(&b, opts...)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zstdFrame32MBWindow is a zstd frame holding s in one raw block whose
// header asks for a 32 MB window (RFC 8878, 3.1.1.1): what a hostile or
// careless server can send, whatever the content's size.
func zstdFrame32MBWindow(s string) []byte {
	b := []byte{0x28, 0xb5, 0x2f, 0xfd, // magic
		0x00,    // no single segment, no content size, no dictionary
		15 << 3} // window: 2^(10+15) = 32 MiB
	h := uint32(len(s))<<3 | 1 // raw block, the last
	b = append(b, byte(h), byte(h>>8), byte(h>>16))
	return append(b, s...)
}

// TestDoReadDecompresses: DoRead asks for gzip and zstd unless the request
// sets Accept-Encoding, and reads a body in either coding (also one it was
// asked for by the pipeline's own header); a body that is not what its
// coding says, a zstd window beyond RFC 9659's 8 MB, and a coding restload
// cannot read fail with errors naming them; an error response's body is
// decompressed for its message; the cap counts decompressed bytes.
func TestDoReadDecompresses(t *testing.T) {
	page := `{"data":[` + strings.Repeat(`{"id":1,"name":"a page of records"},`, 200) + `{"id":2}]}`
	gz := gzipped(t, page)
	tests := []struct {
		name    string
		accept  string // the request's own Accept-Encoding
		cap     int64
		serve   func(w http.ResponseWriter, accepted string)
		want    string // body, or error with "URL" for the URL
		wantErr bool
		wantN   int32
	}{
		{name: "gzip", serve: func(w http.ResponseWriter, accepted string) {
			if accepted != "gzip, zstd" {
				http.Error(w, "Accept-Encoding "+accepted, 400)
				return
			}
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gzipped(t, page))
		}, want: page, wantN: 1},
		{name: "zstd", serve: func(w http.ResponseWriter, accepted string) {
			w.Header().Set("Content-Encoding", "zstd")
			w.Write(zstded(t, page))
		}, want: page, wantN: 1},
		{name: "an empty gzip body is an empty body", serve: func(w http.ResponseWriter, accepted string) {
			w.Header().Set("Content-Encoding", "gzip")
		}, want: "", wantN: 1},
		{name: "an empty zstd body is an empty body", serve: func(w http.ResponseWriter, accepted string) {
			w.Header().Set("Content-Encoding", "zstd")
		}, want: "", wantN: 1},
		{name: "uncompressed", serve: func(w http.ResponseWriter, accepted string) {
			w.Write([]byte(page))
		}, want: page, wantN: 1},
		{name: "the pipeline's identity is sent as set", accept: "identity", serve: func(w http.ResponseWriter, accepted string) {
			if accepted != "identity" {
				http.Error(w, "Accept-Encoding "+accepted, 400)
				return
			}
			w.Write([]byte(page))
		}, want: page, wantN: 1},
		{name: "the pipeline's own gzip is decompressed too", accept: "gzip", serve: func(w http.ResponseWriter, accepted string) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gzipped(t, page))
		}, want: page, wantN: 1},
		{name: "deflate as zlib, when the pipeline asked for it", accept: "gzip, deflate", serve: func(w http.ResponseWriter, accepted string) {
			w.Header().Set("Content-Encoding", "deflate")
			var b bytes.Buffer
			zw := zlib.NewWriter(&b)
			zw.Write([]byte(page))
			zw.Close()
			w.Write(b.Bytes())
		}, want: page, wantN: 1},
		{name: "deflate raw, as some servers send it", accept: "gzip, deflate", serve: func(w http.ResponseWriter, accepted string) {
			w.Header().Set("Content-Encoding", "deflate")
			var b bytes.Buffer
			zw, _ := flate.NewWriter(&b, flate.BestSpeed)
			zw.Write([]byte(page))
			zw.Close()
			w.Write(b.Bytes())
		}, want: page, wantN: 1},
		{name: "not gzip at all", serve: func(w http.ResponseWriter, accepted string) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write([]byte(page))
		}, want: "GET URL: failed after 3 attempts: decompressing the gzip response body: gzip: invalid header", wantErr: true, wantN: 3},
		{name: "zstd window over 8 MB", serve: func(w http.ResponseWriter, accepted string) {
			w.Header().Set("Content-Encoding", "zstd")
			w.Write(zstdFrame32MBWindow(page))
		}, want: "GET URL: failed after 3 attempts: decompressing the zstd response body: window size exceeded", wantErr: true, wantN: 3},
		{name: "a coding it cannot read is not retried", serve: func(w http.ResponseWriter, accepted string) {
			w.Header().Set("Content-Encoding", "br")
			w.Write([]byte{0x1b, 0x00})
		}, want: `GET URL: response body has Content-Encoding "br", which restload cannot decompress; set the Accept-Encoding header to gzip, zstd, deflate or identity`, wantErr: true, wantN: 1},
		{name: "an error body is decompressed for the message", serve: func(w http.ResponseWriter, accepted string) {
			w.Header().Set("Content-Encoding", "gzip")
			w.WriteHeader(404)
			w.Write(gzipped(t, `{"message":"no such page"}`))
		}, want: `GET URL: 404 Not Found: {"message":"no such page"}`, wantErr: true, wantN: 1},
		{name: "the cap counts decompressed bytes", cap: 1000, serve: func(w http.ResponseWriter, accepted string) {
			w.Header().Set("Content-Encoding", "zstd")
			w.Write(zstded(t, page))
		}, want: "GET URL: response body is larger than limits.max_response_bytes (1000 bytes); raise limits.max_response_bytes to read it", wantErr: true, wantN: 1},
		{name: "a compressed body announced over the cap is not read", cap: 50, serve: func(w http.ResponseWriter, accepted string) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz)
		}, want: fmt.Sprintf("GET URL: response body is larger than limits.max_response_bytes (50 bytes): Content-Length %d; raise limits.max_response_bytes to read it", len(gz)), wantErr: true, wantN: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				tc.serve(w, r.Header.Get("Accept-Encoding"))
			}))
			defer srv.Close()
			c := &Client{Policy: Policy{MaxRetries: 2}, Sleep: (&sleeper{}).sleep, MaxBodyBytes: tc.cap}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/p", nil)
			if tc.accept != "" {
				req.Header.Set("Accept-Encoding", tc.accept)
			}
			resp, body, err := c.DoRead(context.Background(), req)
			if tc.wantErr {
				if err == nil || strings.ReplaceAll(err.Error(), srv.URL+"/p", "URL") != tc.want {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
			} else {
				if err != nil || string(body) != tc.want {
					t.Fatalf("body %.80q, err %v", body, err)
				}
				if ce := resp.Header.Get("Content-Encoding"); ce != "" {
					t.Errorf("Content-Encoding %q left on a decompressed response", ce)
				}
			}
			if n.Load() != tc.wantN {
				t.Errorf("%d tries, want %d", n.Load(), tc.wantN)
			}
			if got := req.Header.Get("Accept-Encoding"); got != tc.accept {
				t.Errorf("the caller's request header became %q", got)
			}
		})
	}
}

// TestDecompressErrorKeepsConnectionErrors: a body cut short inside the
// compressed stream is the connection's error (retried as one), not a
// decompression error.
func TestDecompressErrorKeepsConnectionErrors(t *testing.T) {
	z := gzipped(t, strings.Repeat("x", 100000))
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", "100000")
		if n.Add(1) == 1 {
			w.Write(z[:len(z)/2])
			return
		}
		w.Header().Del("Content-Length")
		w.Write(z)
	}))
	defer srv.Close()
	c := &Client{Policy: Policy{MaxRetries: 2}, Sleep: (&sleeper{}).sleep}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	_, body, err := c.DoRead(context.Background(), req)
	if err != nil || len(body) != 100000 || n.Load() != 2 {
		t.Fatalf("body %d bytes, err %v, %d tries; want the cut body retried", len(body), err, n.Load())
	}
	var de *DecompressError
	_, _, err = (&Client{Sleep: (&sleeper{}).sleep}).DoRead(context.Background(), func() *http.Request {
		n.Store(0)
		r, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		return r
	}())
	if err == nil || errors.As(err, &de) || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Errorf("a cut body: err = %v, want the connection's unexpected EOF", err)
	}
}
