package spool

import (
	"bufio"
	"io"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// A codec compresses a table's row stream. The file name says which codec
// wrote a table ("<table>.rows.s2"), so a package spooled by an older
// restload, which wrote zstd, still loads after an upgrade.
//
// Every table of every running resource keeps its writer open until the
// package is sealed (a resource with ten child tables keeps eleven), so a
// writer must cost little memory: well under a MiB, whatever the rows.
type codec struct {
	ext string // file name suffix after the table name
	// writer returns a buffered compressing writer over f; Close flushes
	// it (not f).
	writer func(f io.Writer) (io.WriteCloser, error)
	// reader returns a buffered decompressing reader over f and a func to
	// release it.
	reader func(f io.Reader) (*bufio.Reader, func(), error)
}

// s2Block is the s2 block size: a writer holds about two blocks, and a
// 64 KiB block compresses rows almost as well as the 1 MiB default.
const s2Block = 64 << 10

// s2Codec is what packages are written with: s2 compresses the row stream
// at several times zstd's fastest level's speed, and decompresses faster
// too, at a somewhat lower ratio.
var s2Codec = codec{
	ext: ".rows.s2",
	writer: func(f io.Writer) (io.WriteCloser, error) {
		// s2's writer buffers a block itself; concurrency 1 compresses
		// in the caller's goroutine, one block buffer and no more.
		return s2.NewWriter(f, s2.WriterConcurrency(1), s2.WriterBlockSize(s2Block)), nil
	},
	reader: func(f io.Reader) (*bufio.Reader, func(), error) {
		r := s2.NewReader(f, s2.ReaderMaxBlockSize(s2Block))
		return bufio.NewReaderSize(r, 64<<10), func() {}, nil
	},
}

// zstdCodec is what restload wrote before s2; it is read, not written.
var zstdCodec = codec{
	ext: ".rows.zst",
	writer: func(f io.Writer) (io.WriteCloser, error) {
		// A 256 KiB window keeps the encoder small (the default 8 MiB
		// window cost ~10 MiB per table).
		enc, err := zstd.NewWriter(f, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(256<<10), zstd.WithLowerEncoderMem(true))
		if err != nil {
			return nil, err
		}
		return &bufferedCloser{Writer: bufio.NewWriterSize(enc, 64<<10), c: enc}, nil
	},
	reader: func(f io.Reader) (*bufio.Reader, func(), error) {
		dec, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nil, err
		}
		return bufio.NewReaderSize(dec, 64<<10), dec.Close, nil
	},
}

// writeCodec is the codec new tables are written with; readCodecs are
// tried in order when a table is read.
var (
	writeCodec = s2Codec
	readCodecs = []codec{s2Codec, zstdCodec}
)

// bufferedCloser flushes its buffer, then closes what it wraps.
type bufferedCloser struct {
	*bufio.Writer
	c io.Closer
}

func (b *bufferedCloser) Close() error {
	err := b.Flush()
	if cerr := b.c.Close(); err == nil {
		err = cerr
	}
	return err
}
