package httpclient

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/restload/restload/internal/mockapi"
)

// BenchmarkDoReadCompressed reads one 100-record page of the mock API's
// files (as its JSON records) over loopback: uncompressed, gzip and zstd
// through DoRead, and gzip as Go's transport decompressed it before
// restload asked for its codings itself:
//
//	go test ./internal/httpclient -run '^$' -bench DoReadCompressed
func BenchmarkDoReadCompressed(b *testing.B) {
	api := mockapi.New(mockapi.Options{Records: 100})
	var page bytes.Buffer
	page.WriteString(`{"entries":[`)
	for i := range 100 {
		if i > 0 {
			page.WriteByte(',')
		}
		page.Write(api.RecordJSON("files", i))
	}
	page.WriteString(`],"total":100}`)
	bodies := map[string][]byte{"": page.Bytes(), "gzip": gzipped(b, page.String()), "zstd": zstded(b, page.String())}
	for _, tc := range []struct{ name, enc string }{
		{"identity", ""}, {"gzip", "gzip"}, {"zstd", "zstd"}, {"gzip by the transport", "gzip"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.enc != "" {
					w.Header().Set("Content-Encoding", tc.enc)
				}
				w.Write(bodies[tc.enc])
			}))
			defer srv.Close()
			c := &Client{HTTP: srv.Client()}
			b.SetBytes(int64(page.Len()))
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
				var body []byte
				if tc.name == "gzip by the transport" {
					resp, err := srv.Client().Do(req)
					if err != nil {
						b.Fatal(err)
					}
					body, _ = io.ReadAll(resp.Body)
					resp.Body.Close()
				} else {
					_, body, _ = c.DoRead(context.Background(), req)
				}
				if len(body) != page.Len() {
					b.Fatalf("%d bytes, want %d", len(body), page.Len())
				}
			}
		})
	}
}
