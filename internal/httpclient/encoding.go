package httpclient

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// acceptEncoding is what DoRead asks for unless the request sets
// Accept-Encoding itself. Go's transport asks for gzip alone and
// decompresses it with compress/gzip; decompressing here instead is
// faster (klauspost/compress: a 79 KB page of the seed's API decompressed
// at 355 MB/s against compress/gzip's 242, and zstd, which an API may
// prefer, at 1,175 MB/s), and decompressing the seed's 800k records took
// compress/gzip ~2.2 s of CPU, a sixth of a whole run's.
const acceptEncoding = "gzip, zstd"

// zstdMaxWindow bounds the memory a zstd body's decoder may need: RFC
// 9659 limits the window of zstd content coding to 8 MB, so a body that
// asks for more is refused instead of allocating what it says.
const zstdMaxWindow = 8 << 20

// UnsupportedEncodingError is a response body in a content coding restload
// cannot decompress (it asks only for what it can, unless the pipeline's
// headers set Accept-Encoding).
type UnsupportedEncodingError struct{ Encoding string }

func (e *UnsupportedEncodingError) Error() string {
	return fmt.Sprintf("response body has Content-Encoding %q, which restload cannot decompress; set the Accept-Encoding header to gzip, zstd or identity", e.Encoding)
}

// decompress replaces resp.Body by its decompressed content when the
// response says it is gzip or zstd and the transport has not decompressed
// it, as the transport does for gzip: without Content-Encoding and
// Content-Length, with Uncompressed set. Errors in the compressed data
// surface as read errors of the body, named as decompression errors.
func decompress(resp *http.Response) error {
	if resp.Uncompressed {
		return nil
	}
	enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	var body io.ReadCloser
	switch enc {
	case "", "identity":
		return nil
	case "gzip", "x-gzip":
		body = &gzipBody{raw: &rawBody{ReadCloser: resp.Body}}
	case "zstd":
		body = &zstdBody{raw: &rawBody{ReadCloser: resp.Body}}
	default:
		return &UnsupportedEncodingError{Encoding: enc}
	}
	resp.Body = body
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	resp.Uncompressed = true
	return nil
}

var gzipReaders sync.Pool // *gzip.Reader

// gzipBody decompresses raw as gzip. The reader is made at the first
// Read, so that reading the gzip header happens within the read of the
// body (and its timeouts), and goes back to a pool at Close.
type gzipBody struct {
	raw *rawBody
	zr  *gzip.Reader
	err error
}

func (b *gzipBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.zr == nil {
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(b.raw)
		} else {
			err = zr.Reset(b.raw)
		}
		if err != nil {
			b.err = b.raw.decompressErr("gzip", err)
			return 0, b.err
		}
		b.zr = zr
	}
	n, err := b.zr.Read(p)
	if err != nil && err != io.EOF {
		b.err = b.raw.decompressErr("gzip", err)
		return n, b.err
	}
	return n, err
}

func (b *gzipBody) Close() error {
	if b.zr != nil {
		gzipReaders.Put(b.zr)
		b.zr = nil
	}
	return b.raw.Close()
}

var zstdReaders sync.Pool // *zstd.Decoder

// zstdBody decompresses raw as zstd, with a pooled decoder (one goroutine,
// a window of at most zstdMaxWindow).
type zstdBody struct {
	raw *rawBody
	zr  *zstd.Decoder
	err error
}

func (b *zstdBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.zr == nil {
		zr, _ := zstdReaders.Get().(*zstd.Decoder)
		var err error
		if zr == nil {
			zr, err = zstd.NewReader(b.raw, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow), zstd.WithDecoderLowmem(true))
		} else {
			err = zr.Reset(b.raw)
		}
		if err != nil {
			b.err = b.raw.decompressErr("zstd", err)
			return 0, b.err
		}
		b.zr = zr
	}
	n, err := b.zr.Read(p)
	if err != nil && err != io.EOF {
		b.err = b.raw.decompressErr("zstd", err)
		return n, b.err
	}
	return n, err
}

func (b *zstdBody) Close() error {
	if b.zr != nil {
		// Reset(nil) lets go of the body before the decoder waits in the pool.
		if b.zr.Reset(nil) == nil {
			zstdReaders.Put(b.zr)
		}
		b.zr = nil
	}
	return b.raw.Close()
}

// DecompressError is a response body that is not valid in the content
// coding the response named; it is retried like a body cut short.
type DecompressError struct {
	Encoding string
	Err      error
}

func (e *DecompressError) Error() string {
	return fmt.Sprintf("decompressing the %s response body: %v", e.Encoding, e.Err)
}

func (e *DecompressError) Unwrap() error { return e.Err }

// rawBody is the compressed body as read from the connection; it keeps
// the error its last read ended with.
type rawBody struct {
	io.ReadCloser
	err error
}

func (r *rawBody) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// decompressErr is err, a decompressor's: the connection's own error when
// that is what the decompressor passed on (a body cut short, a timeout),
// else a *DecompressError.
func (r *rawBody) decompressErr(enc string, err error) error {
	if r.err != nil && errors.Is(err, r.err) {
		return r.err
	}
	return &DecompressError{Encoding: enc, Err: err}
}
