package mockapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// discard is a minimal ResponseWriter so the benchmark measures the server.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkPage serves one 1000-record page (generation, encoding, envelope).
func BenchmarkPage(b *testing.B) {
	for _, flavor := range []string{FlavorAnalytics, FlavorSigma} {
		b.Run(flavor, func(b *testing.B) {
			s := New(Options{Flavor: flavor, Records: 1_000_000})
			tok := accessToken(b, s)
			req := httptest.NewRequest(http.MethodGet, "/v2/workbooks?limit=1000", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			w := &discard{h: http.Header{}}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d", rec.Code)
			}
			b.SetBytes(int64(rec.Body.Len()))
			b.ReportAllocs()
			for b.Loop() {
				s.ServeHTTP(w, req)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/record")
		})
	}
}

// BenchmarkRecord generates one record of each resource in turn.
func BenchmarkRecord(b *testing.B) {
	s := New(Options{Records: 1_000_000})
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		buf = s.appendRecord(buf[:0], i%numResources, i)
		i++
	}
}
