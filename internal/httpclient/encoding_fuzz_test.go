package httpclient

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
)

// FuzzReadBodyCompressed feeds readBody a response body of any bytes in
// each coding (gzip, zstd, identity, br, deflate): it never panics, never returns more than the cap, and a
// failure is one of the errors a hostile body is meant to get.
func FuzzReadBodyCompressed(f *testing.F) {
	page := `{"data":[{"id":1,"name":"x"},{"id":2,"name":"y"}]}`
	f.Add(uint8(0), gzipped(f, page))
	f.Add(uint8(1), zstded(f, page))
	f.Add(uint8(1), zstdFrame32MBWindow(page))
	f.Add(uint8(2), []byte(page))
	f.Add(uint8(0), []byte("\x1f\x8b\x08\x00garbage"))
	f.Add(uint8(1), []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00})
	f.Add(uint8(4), []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	const limit = 1 << 20
	c := &Client{MaxBodyBytes: limit}
	f.Fuzz(func(t *testing.T, enc uint8, data []byte) {
		resp := &http.Response{Header: http.Header{}, ContentLength: -1, Body: io.NopCloser(bytes.NewReader(data))}
		resp.Header.Set("Content-Encoding", []string{"gzip", "zstd", "identity", "br", "deflate"}[enc%5])
		body, err := c.readBody(resp, func(error) {})
		_ = resp.Body.Close()
		if len(body) > limit {
			t.Fatalf("%d bytes read, over the %d cap", len(body), limit)
		}
		if err == nil {
			return
		}
		var de *DecompressError
		var tl *BodyTooLargeError
		var ue *UnsupportedEncodingError
		if !errors.As(err, &de) && !errors.As(err, &tl) && !errors.As(err, &ue) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("unexpected error %T: %v", err, err)
		}
	})
}
