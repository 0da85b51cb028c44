package spool

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/schema"
)

// TestPackageRoundTrip writes and reads a package with the codec restload
// writes and with zstd, which restload wrote before: a package left pending
// by an older version loads after an upgrade.
func TestPackageRoundTrip(t *testing.T) {
	for _, c := range []codec{writeCodec, zstdCodec} {
		t.Run(c.ext, func(t *testing.T) { testPackageRoundTrip(t, c) })
	}
}

func testPackageRoundTrip(t *testing.T, c codec) {
	root := t.TempDir()
	ts := time.Date(2024, 3, 1, 12, 30, 0, 123456000, time.UTC)
	p, err := Create(root, Manifest{LoadID: "1700000000.000001", Pipeline: "p", Dataset: "d"})
	if err != nil {
		t.Fatal(err)
	}
	p.codec = &c
	w, err := p.Writer("files")
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{int64(-42), 3.5, true, "héllo 世界 🎉", ts, nil},
		{int64(1) << 62, math.Copysign(0, -1), false, "", nil},        // shorter row: a column came later
		{nil, nil, nil, `{"a":[1,2]}`, nil, "x"},                      // JSON is a string
		{nil, strings.Repeat("long ", 30000), nil, nil, nil, "after"}, // longer than the read buffer
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	// Not sealed yet: a crash here leaves an unsealed package.
	sealed, unsealed, err := Pending(root)
	if err != nil || len(sealed) != 0 || len(unsealed) != 1 {
		t.Fatalf("before seal: sealed=%d unsealed=%d err=%v", len(sealed), len(unsealed), err)
	}
	m := p.Manifest
	m.Resources = []ResourceSummary{{ResourceTarget: ResourceTarget{Name: "files"}, Counts: Counts{Records: 4}}}
	sch := &schema.Schema{Name: "d", Version: 1, Tables: []*schema.Table{{Name: "files"}}}
	if err := p.Seal(m, sch); err != nil {
		t.Fatal(err)
	}
	sealed, unsealed, err = Pending(root)
	if err != nil || len(sealed) != 1 || len(unsealed) != 0 {
		t.Fatalf("after seal: sealed=%d unsealed=%d err=%v", len(sealed), len(unsealed), err)
	}
	got := sealed[0]
	if _, err := os.Stat(filepath.Join(got.Dir, "tables", "files"+c.ext)); err != nil {
		t.Fatalf("table file: %v", err)
	}
	if got.Parts("files") == 0 || got.Parts("nothing") != 0 {
		t.Fatalf("Parts(files) = %d, Parts(nothing) = %d: want rows for files only", got.Parts("files"), got.Parts("nothing"))
	}
	if got.Manifest.LoadID != "1700000000.000001" || got.Manifest.Resources[0].Records != 4 {
		t.Fatalf("manifest = %+v", got.Manifest)
	}
	if s, err := got.Schema(); err != nil || s.Table("files") == nil {
		t.Fatalf("schema = %+v, %v", s, err)
	}
	src, err := got.Rows("files", 6)
	if err != nil {
		t.Fatal(err)
	}
	var read [][]any
	for src.Next() {
		read = append(read, append([]any(nil), src.Values()...))
	}
	if src.Err() != nil {
		t.Fatal(src.Err())
	}
	want := [][]any{
		rows[0],
		{int64(1) << 62, math.Copysign(0, -1), false, "", nil, nil},
		rows[2],
		rows[3],
	}
	if !reflect.DeepEqual(read, want) {
		t.Fatalf("rows:\n got %#v\nwant %#v", read, want)
	}
	// A table never written reads as empty.
	empty, err := got.Rows("nothing", 3)
	if err != nil || empty.Next() {
		t.Fatalf("missing table: next=true or err=%v", err)
	}
}

func TestTruncatedPackageIsAnError(t *testing.T) {
	root := t.TempDir()
	p, _ := Create(root, Manifest{LoadID: "1"})
	w, _ := p.Writer("t")
	for i := 0; i < 1000; i++ {
		if err := w.Write([]any{int64(i), "some text to make it longer"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Seal(p.Manifest, &schema.Schema{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(p.Dir, "tables", "t"+writeCodec.ext)
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := p.Rows("t", 2)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for src.Next() {
		n++
	}
	if src.Err() == nil {
		t.Fatalf("read %d rows of a truncated file without error", n)
	}
	if errors.Is(src.Err(), io.EOF) {
		t.Fatalf("truncation reported as clean EOF: %v", src.Err())
	}
}

func BenchmarkWriteRead(b *testing.B) {
	root := b.TempDir()
	row := []any{"0000000001", int64(12345), 3.25, true, "Quarterly revenue — Ωmega", time.Now(), nil, "owner@example.com"}
	b.ReportAllocs()
	p, _ := Create(root, Manifest{LoadID: "1"})
	w, _ := p.Writer("t")
	for i := 0; i < b.N; i++ {
		if err := w.Write(row); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Seal(p.Manifest, &schema.Schema{}); err != nil {
		b.Fatal(err)
	}
	src, _ := p.Rows("t", len(row))
	for src.Next() {
	}
	if src.Err() != nil {
		b.Fatal(src.Err())
	}
}

// TestRowReaderCutAnywhere reads a row stream cut at every byte: rows read
// whole from the read buffer, rows larger than it (read value by value),
// and a cut inside a row is an error, never a clean end.
func TestRowReaderCutAnywhere(t *testing.T) {
	ts := time.Date(2024, 3, 1, 12, 30, 0, 5, time.UTC)
	rows := [][]any{
		{int64(-1), 2.5, true, false, nil, "short", ts},
		{strings.Repeat("x", 40), int64(1) << 40},
		nil, // no columns
		{"é"},
	}
	var stream []byte
	var ends []int
	for _, r := range rows {
		var err error
		if stream, err = appendRow(stream, r); err != nil {
			t.Fatal(err)
		}
		ends = append(ends, len(stream))
	}
	for _, size := range []int{16, 4096} {
		for cut := 0; cut <= len(stream); cut++ {
			rr := rowReader{r: bufio.NewReaderSize(bytes.NewReader(stream[:cut]), size)}
			var got [][]any
			var err error
			for {
				var row []any
				if row, err = rr.next(nil, 0); err != nil {
					break
				}
				got = append(got, row)
			}
			whole := 0
			for whole < len(ends) && ends[whole] <= cut {
				whole++
			}
			atBoundary := cut == 0 || slices.Contains(ends, cut)
			if !reflect.DeepEqual(got, rows[:whole]) && !(len(got) == 0 && whole == 0) {
				t.Fatalf("buffer %d, cut %d: rows %v, want %v", size, cut, got, rows[:whole])
			}
			if atBoundary && err != io.EOF {
				t.Fatalf("buffer %d, cut %d at a row boundary: %v, want io.EOF", size, cut, err)
			}
			if !atBoundary && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("buffer %d, cut %d inside a row: %v, want an unexpected EOF", size, cut, err)
			}
		}
	}
	rr := rowReader{r: bufio.NewReader(bytes.NewReader([]byte{1, 99}))}
	if _, err := rr.next(nil, 0); err == nil || err.Error() != "spool: corrupt row: unknown value tag 99" {
		t.Fatalf("unknown tag: %v", err)
	}
}

// TestParts: closing a table's writer ends a part; the next rows begin
// another. Rows reads every part in order (also from a package found on
// disk by Pending, after a crash), PartRows a range of them, and a table
// written as one file by an older restload reads as one part.
func TestParts(t *testing.T) {
	root := t.TempDir()
	p, err := Create(root, Manifest{LoadID: "1700000000.000001", Pipeline: "p", Dataset: "d"})
	if err != nil {
		t.Fatal(err)
	}
	n := int64(0)
	for part := 0; part < 3; part++ {
		w, err := p.Writer("t")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2+part; i++ {
			n++
			if err := w.Write([]any{n, "part " + string(rune('a'+part))}); err != nil {
				t.Fatal(err)
			}
		}
		if part < 2 {
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := p.Parts("t"); got != 3 {
		t.Errorf("Parts = %d, want 3", got)
	}
	read := func(p *Package, from, to int) []int64 {
		t.Helper()
		src, err := p.PartRows("t", from, to, 2)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var ids []int64
		for src.Next() {
			ids = append(ids, src.Values()[0].(int64))
		}
		if err := src.Err(); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	// The first two parts are closed and readable while the third is open.
	if got := read(p, 0, 2); !slices.Equal(got, []int64{1, 2, 3, 4, 5}) {
		t.Errorf("parts 0-1: %v", got)
	}
	if got := read(p, 1, 2); !slices.Equal(got, []int64{3, 4, 5}) {
		t.Errorf("part 1: %v", got)
	}
	if err := p.Seal(p.Manifest, &schema.Schema{Name: "d"}); err != nil {
		t.Fatal(err)
	}
	sealed, _, err := Pending(root)
	if err != nil || len(sealed) != 1 {
		t.Fatalf("Pending: %v, %v", sealed, err)
	}
	q := sealed[0]
	if got := q.Parts("t"); got != 3 {
		t.Errorf("Parts of the package on disk = %d, want 3", got)
	}
	src, err := q.Rows("t", 2)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for src.Next() {
		ids = append(ids, src.Values()[0].(int64))
	}
	if !slices.Equal(ids, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}) || src.Err() != nil {
		t.Errorf("Rows = %v, %v; want 1..9 in order", ids, src.Err())
	}
	if q.Parts("u") != 0 {
		t.Errorf("a table never written has rows")
	}
	// A part lost from the middle is an error, not the end of the rows.
	if err := os.Remove(filepath.Join(q.Dir, "tables", "t~1.rows.s2")); err != nil {
		t.Fatal(err)
	}
	if got := q.Parts("t"); got != 3 {
		t.Errorf("Parts with part 1 missing = %d, want 3", got)
	}
	src, err = q.Rows("t", 2)
	if err != nil {
		t.Fatal(err)
	}
	ids = nil
	for src.Next() {
		ids = append(ids, src.Values()[0].(int64))
	}
	if err := src.Err(); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "table t: part 1") || !slices.Equal(ids, []int64{1, 2}) {
		t.Errorf("Rows with part 1 missing = %v, %v; want 1, 2 and an error naming table t, part 1", ids, err)
	}
	// A package written before parts: one file per table, the first part's
	// name.
	if err := os.Remove(filepath.Join(q.Dir, "tables", "t~2.rows.s2")); err != nil {
		t.Fatal(err)
	}
	if got := read(q, 0, q.Parts("t")); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("one-file table: %v", got)
	}
}
