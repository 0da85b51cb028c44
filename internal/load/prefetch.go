package load

import (
	"fmt"

	"github.com/restload/restload/internal/destination"
)

// Prefetch sizes: a table's rows are decoded from the package this many at
// a time, with up to prefetchBatches batches decoded ahead of the
// destination.
const (
	prefetchRows    = 512
	prefetchBatches = 3
)

// prefetcher reads a RowSource on its own goroutine, a batch of rows at a
// time, so decoding a package's rows (CPU work in Go) overlaps with the
// destination's bulk write of the rows before them. Values returns a row
// of exactly width values, valid until the next call to Next. Close stops
// the reader and waits for it; the source may be closed after that.
type prefetcher struct {
	width   int
	full    chan *rowBatch
	free    chan *rowBatch
	stop    chan struct{}
	exited  chan struct{}
	cur     *rowBatch
	i       int
	err     error
	stopped bool
}

type rowBatch struct {
	vals []any // n rows of width values each
	n    int
	last bool  // the source has no rows after these
	err  error // the source's error, on the last batch
}

func newPrefetcher(src destination.RowSource, width int) *prefetcher {
	p := &prefetcher{
		width:  width,
		full:   make(chan *rowBatch, prefetchBatches),
		free:   make(chan *rowBatch, prefetchBatches),
		stop:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	for range prefetchBatches {
		p.free <- &rowBatch{vals: make([]any, prefetchRows*width)}
	}
	go p.read(src)
	return p
}

func (p *prefetcher) read(src destination.RowSource) {
	defer close(p.exited)
	for {
		var b *rowBatch
		select {
		case b = <-p.free:
		case <-p.stop:
			return
		}
		b.n, b.last, b.err = 0, false, nil
		for b.n < prefetchRows {
			if !src.Next() {
				b.last, b.err = true, src.Err()
				break
			}
			v := src.Values()
			if len(v) > p.width {
				b.last, b.err = true, fmt.Errorf("row %d has %d values, more than the table's %d columns", b.n+1, len(v), p.width)
				break
			}
			row := b.vals[b.n*p.width : (b.n+1)*p.width]
			clear(row[copy(row, v):])
			b.n++
		}
		select {
		case p.full <- b:
		case <-p.stop:
			return
		}
		if b.last {
			return
		}
	}
}

// Next advances to the next row.
func (p *prefetcher) Next() bool {
	for {
		if p.cur != nil {
			if p.i+1 < p.cur.n {
				p.i++
				return true
			}
			if p.cur.last {
				p.err = p.cur.err
				return false
			}
			p.free <- p.cur
			p.cur = nil
		}
		p.cur, p.i = <-p.full, -1
	}
}

// Values returns the current row.
func (p *prefetcher) Values() []any {
	return p.cur.vals[p.i*p.width : (p.i+1)*p.width]
}

// Err returns the source's error, once Next has returned false.
func (p *prefetcher) Err() error { return p.err }

// Close stops the reader and waits until it no longer touches the source.
func (p *prefetcher) Close() {
	if !p.stopped {
		p.stopped = true
		close(p.stop)
	}
	<-p.exited
}
