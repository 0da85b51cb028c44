package spool

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/normalize"
	"github.com/restload/restload/internal/schema"
)

type tableRow struct {
	table string
	row   []any
}

// mockRows normalizes n records of each mock API resource, as a load
// spools them: root and child rows interleaved.
func mockRows(tb testing.TB, n int) []tableRow {
	tb.Helper()
	s := mockapi.New(mockapi.Options{Records: n})
	var out []tableRow
	for _, r := range s.Resources() {
		nz, err := normalize.New(&schema.Schema{}, normalize.Spec{Resource: r}, "1700000000.000001")
		if err != nil {
			tb.Fatal(err)
		}
		for i := range n {
			var rec map[string]any
			if err := json.Unmarshal(s.RecordJSON(r, i), &rec); err != nil {
				tb.Fatal(err)
			}
			err := nz.Normalize(rec, func(t *schema.Table, row []any) error {
				out = append(out, tableRow{t.Name, append([]any(nil), row...)})
				return nil
			})
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
	return out
}

// BenchmarkCodec writes and reads back the rows of 1000 records of each
// mock API resource with each codec; "ratio" is raw row bytes per
// compressed byte.
func BenchmarkCodec(b *testing.B) {
	rows := mockRows(b, 1000)
	var raw int64
	for _, r := range rows {
		buf, err := appendRow(nil, r.row)
		if err != nil {
			b.Fatal(err)
		}
		raw += int64(len(buf))
	}
	for _, c := range []codec{s2Codec, zstdCodec} {
		b.Run(c.ext[1:], func(b *testing.B) {
			b.SetBytes(raw)
			b.ReportAllocs()
			var compressed int64
			for b.Loop() {
				p, err := Create(b.TempDir(), Manifest{LoadID: "1"})
				if err != nil {
					b.Fatal(err)
				}
				p.codec = &c
				for _, r := range rows {
					w, err := p.Writer(r.table)
					if err != nil {
						b.Fatal(err)
					}
					if err := w.Write(r.row); err != nil {
						b.Fatal(err)
					}
				}
				if err := p.Seal(p.Manifest, &schema.Schema{}); err != nil {
					b.Fatal(err)
				}
				compressed = 0
				for table := range p.writers {
					fi, err := os.Stat(filepath.Join(p.Dir, "tables", table+c.ext))
					if err != nil {
						b.Fatal(err)
					}
					compressed += fi.Size()
					src, err := p.Rows(table, 0)
					if err != nil {
						b.Fatal(err)
					}
					for src.Next() {
					}
					if src.Err() != nil {
						b.Fatal(src.Err())
					}
				}
			}
			b.ReportMetric(float64(raw)/float64(compressed), "ratio")
		})
	}
}
