package spool

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"reflect"
	"testing"
	"time"
)

// decodeAll decodes every row of b through a read buffer of size bytes
// (16 is bufio's least: most rows then take the slow path), stopping at the
// first error.
func decodeAll(b []byte, size int) ([][]any, error) {
	rr := rowReader{r: bufio.NewReaderSize(bytes.NewReader(b), size)}
	var rows [][]any
	for {
		row, err := rr.next(nil, 0)
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, append([]any(nil), row...))
	}
}

// FuzzRowCodec feeds arbitrary bytes to the row decoder, through a large
// read buffer (rows decoded in place) and a tiny one (rows read value by
// value): neither may panic or allocate more than the input holds, both
// must decode the same rows, and every row decoded must encode and decode
// back to itself.
func FuzzRowCodec(f *testing.F) {
	seeds := [][]any{
		{nil, int64(-1), 3.5, true, false, "x\x00y", time.Unix(1700000000, 123456789).UTC()},
		{},
		{"", int64(math.MaxInt64), math.Inf(-1), strings300()},
	}
	for _, row := range seeds {
		b, err := appendRow(nil, row)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// A row claiming a huge string, and one claiming a huge column count.
	f.Add(append([]byte{1, tagString, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, make([]byte, 32)...))
	f.Add(append([]byte{1, tagString, 0xff, 0xff, 0xff, 0xff, 0x0f}, make([]byte, 32)...))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f, tagNil})
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ferr := decodeAll(b, 64<<10)
		slow, serr := decodeAll(b, 16)
		if (ferr == nil) != (serr == nil) || len(fast) != len(slow) {
			t.Fatalf("buffer sizes disagree: %d rows (err %v) vs %d rows (err %v)", len(fast), ferr, len(slow), serr)
		}
		for i := range fast {
			if !sameRow(fast[i], slow[i]) {
				t.Fatalf("row %d: %v vs %v", i, fast[i], slow[i])
			}
			enc, err := appendRow(nil, fast[i])
			if err != nil {
				t.Fatalf("row %d: re-encode: %v", i, err)
			}
			back, err := decodeAll(enc, 64<<10)
			if err != nil || len(back) != 1 || !sameRow(back[0], fast[i]) {
				t.Fatalf("row %d does not round-trip: %v -> %v (%v)", i, fast[i], back, err)
			}
		}
	})
}

// sameRow compares rows value by value, NaN equal to NaN.
func sameRow(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, xok := a[i].(float64)
		y, yok := b[i].(float64)
		if xok && yok && math.Float64bits(x) == math.Float64bits(y) {
			continue
		}
		if !reflect.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func strings300() string { return string(bytes.Repeat([]byte("ab"), 150)) }
