package mockapi

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// TestCompress: with Compress set, a list page goes in that coding to a
// request that accepts it, and decompresses to the page sent to one that
// does not; a request that does not accept it (or gives it q=0) gets the
// page as it is.
func TestCompress(t *testing.T) {
	for _, coding := range []string{CompressGzip, CompressZstd} {
		t.Run(coding, func(t *testing.T) {
			s := New(Options{Records: 300, Compress: coding})
			tok := accessToken(t, s)
			page := func(accept string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodGet, "/v2/files?limit=100&page=2", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				if accept != "" {
					req.Header.Set("Accept-Encoding", accept)
				}
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				if rec.Code != 200 {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				return rec
			}
			plain := page("")
			if ce := plain.Header().Get("Content-Encoding"); ce != "" {
				t.Fatalf("no Accept-Encoding: Content-Encoding %q", ce)
			}
			for _, accept := range []string{coding, "gzip, zstd", "br, " + coding + ";q=0.5"} {
				rec := page(accept)
				if ce := rec.Header().Get("Content-Encoding"); ce != coding {
					t.Fatalf("Accept-Encoding %q: Content-Encoding %q, want %q", accept, ce, coding)
				}
				var got []byte
				var err error
				if coding == CompressGzip {
					var zr *gzip.Reader
					if zr, err = gzip.NewReader(rec.Body); err == nil {
						got, err = io.ReadAll(zr)
					}
				} else {
					var zr *zstd.Decoder
					if zr, err = zstd.NewReader(rec.Body); err == nil {
						got, err = io.ReadAll(zr)
						zr.Close()
					}
				}
				if err != nil || !bytes.Equal(got, plain.Body.Bytes()) {
					t.Fatalf("Accept-Encoding %q: decompressed %d bytes (err %v), want the %d of the plain page", accept, len(got), err, plain.Body.Len())
				}
				if rec.Body.Len()*2 > plain.Body.Len() {
					t.Errorf("Accept-Encoding %q: %d bytes for a %d-byte page", accept, rec.Body.Len(), plain.Body.Len())
				}
			}
			if ce := page(coding + ";q=0").Header().Get("Content-Encoding"); ce != "" {
				t.Errorf("%s;q=0: Content-Encoding %q", coding, ce)
			}
		})
	}
	if err := (Options{Compress: "br"}).Validate(); err == nil || err.Error() != `mockapi: unknown compression "br" (want "gzip" or "zstd")` {
		t.Errorf("Validate: %v", err)
	}
}
