package normalize

import (
	"testing"

	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/response"
	"github.com/restload/restload/internal/schema"
)

// BenchmarkNormalizeMock normalizes 100 records of each of the mock API's
// eight resources (the bench's records: nested objects, lists of objects
// and of scalars), decoded by response.Decode as extract decodes them, in
// a merge on id. One op is the 800 records.
func BenchmarkNormalizeMock(b *testing.B) {
	s := mockapi.New(mockapi.Options{Records: 100})
	type resource struct {
		n       *Normalizer
		records []map[string]any
	}
	var res []resource
	for _, r := range s.Resources() {
		n, err := New(&schema.Schema{}, Spec{Resource: r, PrimaryKey: []string{"id"}, WriteDisposition: schema.Merge}, "1712345678.123")
		if err != nil {
			b.Fatal(err)
		}
		rs := resource{n: n}
		for i := range 100 {
			v, err := response.Decode(s.RecordJSON(r, i))
			if err != nil {
				b.Fatal(err)
			}
			rs.records = append(rs.records, v.(map[string]any))
		}
		res = append(res, rs)
	}
	rows := 0
	emit := func(*schema.Table, []any) error { rows++; return nil }
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range res {
			for _, rec := range r.records {
				if err := r.n.Normalize(rec, emit); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportMetric(float64(b.N*800)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(rows)/float64(b.N*800), "rows/record")
}
