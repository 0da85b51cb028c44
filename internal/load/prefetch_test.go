package load

import (
	"errors"
	"fmt"
	"testing"
)

// failingRows yields n rows of (i, "row i"), then fails with err when set.
type failingRows struct {
	n, i int
	err  error
	row  []any
}

func (f *failingRows) Next() bool {
	if f.i >= f.n {
		return false
	}
	f.i++
	f.row = append(f.row[:0], int64(f.i), fmt.Sprintf("row %d", f.i))
	return true
}
func (f *failingRows) Values() []any { return f.row }
func (f *failingRows) Err() error {
	if f.i >= f.n {
		return f.err
	}
	return nil
}

func TestPrefetcher(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		n    int
		err  error
	}{
		{"empty", 0, nil},
		{"one batch", prefetchRows, nil},
		{"several batches and a bit", prefetchRows*prefetchBatches*2 + 7, nil},
		{"error after rows", prefetchRows + 3, boom},
		{"error at once", 0, boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPrefetcher(&failingRows{n: tc.n, err: tc.err}, 3) // one column wider than the rows
			got := 0
			for p.Next() {
				got++
				v := p.Values()
				if len(v) != 3 || v[0] != int64(got) || v[1] != fmt.Sprintf("row %d", got) || v[2] != nil {
					t.Fatalf("row %d = %v", got, v)
				}
			}
			p.Close()
			if got != tc.n || !errors.Is(p.Err(), tc.err) || (tc.err == nil && p.Err() != nil) {
				t.Errorf("%d rows, err %v; want %d rows, err %v", got, p.Err(), tc.n, tc.err)
			}
		})
	}
	// Closing early stops the reader without reading the rest.
	src := &failingRows{n: 1 << 20}
	p := newPrefetcher(src, 2)
	p.Next()
	p.Close()
	if src.i > prefetchRows*(prefetchBatches+2) {
		t.Errorf("reader went on to row %d after Close", src.i)
	}
	// A row wider than the table is an error, not a silent cut.
	p = newPrefetcher(&failingRows{n: 1}, 1)
	for p.Next() {
		t.Error("a row wider than the table was yielded")
	}
	p.Close()
	if p.Err() == nil {
		t.Error("no error for a row wider than the table")
	}
}
