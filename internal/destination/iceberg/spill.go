package iceberg

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// segment is rows spilled to one Arrow IPC stream file (LZ4-compressed
// batches of at most batchRows rows), all with one schema.
type segment struct {
	path string
	rows int64
}

// segWriter writes one segment.
type segWriter struct {
	f   *os.File
	w   *ipc.Writer
	seg segment
}

// newSegment creates a segment file (mode 0600) in the load's spill folder,
// made on first use in the system's temporary folder (mode 0700).
func (t *tx) newSegment(sc *arrow.Schema) (*segWriter, error) {
	t.mu.Lock()
	if t.dir == "" {
		dir, err := os.MkdirTemp("", "restload-iceberg-")
		if err != nil {
			t.mu.Unlock()
			return nil, fmt.Errorf("spill folder: %w", err)
		}
		t.dir = dir
	}
	dir := t.dir
	t.mu.Unlock()
	f, err := os.CreateTemp(dir, "rows-*.arrows")
	if err != nil {
		return nil, fmt.Errorf("spill file: %w", err)
	}
	w := ipc.NewWriter(f, ipc.WithSchema(sc), ipc.WithLZ4())
	return &segWriter{f: f, w: w, seg: segment{path: f.Name()}}, nil
}

func (s *segWriter) write(rec arrow.RecordBatch) error {
	if err := s.w.Write(rec); err != nil {
		return fmt.Errorf("spill file: %w", err)
	}
	s.seg.rows += rec.NumRows()
	return nil
}

// close finishes the segment; ok is false (and the file gone) when it holds
// no rows.
func (s *segWriter) close() (seg segment, ok bool, err error) {
	err = errors.Join(s.w.Close(), s.f.Close())
	if err != nil || s.seg.rows == 0 {
		os.Remove(s.seg.path)
		if err != nil {
			err = fmt.Errorf("spill file: %w", err)
		}
		return segment{}, false, err
	}
	return s.seg, true, nil
}

// abort closes and removes the segment.
func (s *segWriter) abort() {
	s.w.Close()
	s.f.Close()
	os.Remove(s.seg.path)
}

func removeSegments(segs []segment) {
	for _, s := range segs {
		os.Remove(s.path)
	}
}

// eachRecord calls fn with each record of segs in order, one at a time
// (fn must Retain a record it keeps).
func eachRecord(ctx context.Context, segs []segment, fn func(seg int, rec arrow.RecordBatch) error) error {
	for i, s := range segs {
		if err := eachInSegment(ctx, s, func(rec arrow.RecordBatch) error { return fn(i, rec) }); err != nil {
			return err
		}
	}
	return nil
}

func eachInSegment(ctx context.Context, s segment, fn func(rec arrow.RecordBatch) error) error {
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("spill file: %w", err)
	}
	defer f.Close()
	r, err := ipc.NewReader(f, ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return fmt.Errorf("spill file %s: %w", s.path, err)
	}
	defer r.Release()
	for r.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(r.RecordBatch()); err != nil {
			return err
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("spill file %s: %w", s.path, err)
	}
	return nil
}

// yieldBytes is about the most data a record handed to iceberg-go holds:
// its writer queues up to 64 records (a slice keeps the whole spilled
// batch it comes from alive), so small records keep that queue small.
const yieldBytes = 128 << 10

// sliceRows is how many rows of rec make about yieldBytes, 16 at least.
func sliceRows(rec arrow.RecordBatch) int64 {
	n := rec.NumRows()
	var size int64
	for _, c := range rec.Columns() {
		for _, b := range c.Data().Buffers() {
			if b != nil {
				size += int64(b.Len())
			}
		}
	}
	if size <= yieldBytes || n == 0 {
		return max(n, 1)
	}
	return max(n*yieldBytes/size, 16)
}

// projected yields the rows of segs as records of target's schema (see
// project), of about yieldBytes each, read from the files one batch at a
// time.
func projected(ctx context.Context, segs []segment, target *arrow.Schema) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		stop := errors.New("stop")
		err := eachRecord(ctx, segs, func(_ int, rec arrow.RecordBatch) error {
			out, err := project(rec, target)
			if err != nil {
				return err
			}
			defer out.Release()
			step := sliceRows(out)
			for off := int64(0); off < out.NumRows(); off += step {
				part := out.NewSlice(off, min(off+step, out.NumRows()))
				ok := yield(part, nil)
				part.Release()
				if !ok {
					return stop
				}
			}
			return nil
		})
		if err != nil && err != stop {
			yield(nil, err)
		}
	}
}

// segmentReader is an array.RecordReader over projected(segs): iceberg-go
// pulls one record at a time.
type segmentReader struct {
	sc   *arrow.Schema
	next func() (arrow.RecordBatch, error, bool)
	stop func()
	cur  arrow.RecordBatch
	err  error
	refs atomic.Int64
}

var _ array.RecordReader = (*segmentReader)(nil)

func newSegmentReader(ctx context.Context, segs []segment, target *arrow.Schema) *segmentReader {
	next, stop := iter.Pull2(projected(ctx, segs, target))
	r := &segmentReader{sc: target, next: next, stop: stop}
	r.refs.Store(1)
	return r
}

func (r *segmentReader) Schema() *arrow.Schema { return r.sc }

func (r *segmentReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil {
		return false
	}
	rec, err, ok := r.next()
	if !ok {
		return false
	}
	if err != nil {
		r.err = err
		return false
	}
	rec.Retain() // projected releases it once the next one is pulled
	r.cur = rec
	return true
}

func (r *segmentReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is RecordBatch under its deprecated name.
func (r *segmentReader) Record() arrow.RecordBatch { return r.cur }

func (r *segmentReader) Err() error { return r.err }

func (r *segmentReader) Retain() { r.refs.Add(1) }

func (r *segmentReader) Release() {
	if r.refs.Add(-1) == 0 {
		if r.cur != nil {
			r.cur.Release()
			r.cur = nil
		}
		r.stop()
	}
}

// spill writes to a new segment the records fill adds to the batcher it is
// given (each record also goes to see, when not nil). ok is false when fill
// added no rows; on error the segment is removed.
func (t *tx) spill(sc *arrow.Schema, see func(arrow.RecordBatch), fill func(*batcher) error) (seg segment, ok bool, err error) {
	sw, err := t.newSegment(sc)
	if err != nil {
		return segment{}, false, err
	}
	bt := newBatcher(sc, func(rec arrow.RecordBatch) error {
		if see != nil {
			see(rec)
		}
		return sw.write(rec)
	})
	if err := fill(bt); err != nil {
		bt.discard()
		sw.abort()
		return segment{}, false, err
	}
	if err := bt.done(); err != nil {
		sw.abort()
		return segment{}, false, err
	}
	return sw.close()
}
