package extract_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/extract"
	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/paginate"
)

// BenchmarkPrefetch reads a 50-page resource whose total is known from an
// API that takes 20 ms per request, one page at a time and fetching ahead:
//
//	go test ./internal/extract -run '^$' -bench Prefetch -benchtime 3x
func BenchmarkPrefetch(b *testing.B) {
	const pages, latency = 50, 20 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency)
		n, _ := strconv.Atoi(r.URL.Query().Get("page"))
		recs := make([]map[string]any, 100)
		for i := range recs {
			recs[i] = map[string]any{"id": n*1000 + i, "name": fmt.Sprintf("record %d", i)}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": recs, "total_pages": pages})
	}))
	defer srv.Close()
	for _, prefetch := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("prefetch=%d", prefetch), func(b *testing.B) {
			x := &extract.Extractor{Client: &httpclient.Client{HTTP: srv.Client()}, Prefetch: prefetch}
			r := extract.Resource{
				Name: "items", BaseURL: srv.URL,
				Paginator: &config.Paginator{Config: paginate.Config{Type: "page_number", BasePage: ip(1), TotalPath: sp("total_pages")}},
				Endpoint:  &config.Endpoint{Path: "items", Method: "GET", DataSelector: "data"},
			}
			for b.Loop() {
				st, err := x.Run(context.Background(), r, func(context.Context, extract.Page) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
				if st.Pages != pages {
					b.Fatalf("%d pages, want %d", st.Pages, pages)
				}
			}
			b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}
