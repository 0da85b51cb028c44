package spool

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Rows are written as a compact, typed binary encoding rather than JSON: the
// value set is small (nil, int64, float64, bool, string, time.Time), and a
// typed encoding round-trips exactly (no float/int or timestamp ambiguity)
// at a fraction of JSON's cost. A row is a uvarint column count followed by
// that many tagged values.
const (
	tagNil byte = iota
	tagInt
	tagFloat
	tagFalse
	tagTrue
	tagString
	tagTime
)

// maxRowColumns bounds a row's column count: far above any table's (a
// PostgreSQL table holds at most 1,600 columns), so a count above it is
// a corrupt row, not a row to read.
const maxRowColumns = 1 << 20

func corruptColumns(n uint64) error {
	return fmt.Errorf("spool: corrupt row: %d columns", n)
}

// appendRow appends the encoding of row to buf.
func appendRow(buf []byte, row []any) ([]byte, error) {
	buf = binary.AppendUvarint(buf, uint64(len(row)))
	for i, v := range row {
		switch x := v.(type) {
		case nil:
			buf = append(buf, tagNil)
		case int64:
			buf = append(buf, tagInt)
			buf = binary.AppendVarint(buf, x)
		case int:
			buf = append(buf, tagInt)
			buf = binary.AppendVarint(buf, int64(x))
		case float64:
			buf = append(buf, tagFloat)
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
		case bool:
			if x {
				buf = append(buf, tagTrue)
			} else {
				buf = append(buf, tagFalse)
			}
		case string:
			buf = append(buf, tagString)
			buf = binary.AppendUvarint(buf, uint64(len(x)))
			buf = append(buf, x...)
		case time.Time:
			buf = append(buf, tagTime)
			buf = binary.AppendVarint(buf, x.Unix())
			buf = binary.AppendUvarint(buf, uint64(x.Nanosecond()))
		default:
			return buf, fmt.Errorf("spool: column %d: unsupported value type %T", i, v)
		}
	}
	return buf, nil
}

// rowReader decodes rows written by appendRow.
type rowReader struct {
	r *bufio.Reader
}

// next decodes one row into dst, padded with nil up to width. It returns
// io.EOF at a clean end of stream.
//
// A row that is whole in the read buffer (all but huge ones) is decoded
// from there, its strings sharing one copy of the row's bytes; others are
// read value by value.
func (rr *rowReader) next(dst []any, width int) ([]any, error) {
	b, _ := rr.r.Peek(rr.r.Buffered())
	n, err := rowLen(b)
	if err == nil && n == 0 {
		// Not all buffered: fill the buffer and look again.
		var perr error
		b, perr = rr.r.Peek(rr.r.Size())
		if n, err = rowLen(b); err == nil && n == 0 {
			switch {
			case len(b) == rr.r.Size():
				return rr.slowNext(dst, width) // larger than the buffer
			case len(b) == 0 && perr != nil:
				return nil, perr // io.EOF at a row boundary is a clean end
			case perr == nil || errors.Is(perr, io.EOF):
				return nil, truncated(io.EOF)
			default:
				return nil, perr
			}
		}
	}
	if err != nil {
		return nil, err
	}
	dst = decodeRow(b[:n], string(b[:n]), dst[:0])
	_, _ = rr.r.Discard(n)
	for len(dst) < width {
		dst = append(dst, nil)
	}
	return dst, nil
}

// rowLen returns the length of the row encoded at the start of b, or 0
// when b holds only part of it.
func rowLen(b []byte) (int, error) {
	cols, i := binary.Uvarint(b)
	if i <= 0 {
		return 0, nil
	}
	if cols > maxRowColumns {
		return 0, corruptColumns(cols)
	}
	for range cols {
		if i >= len(b) {
			return 0, nil
		}
		tag := b[i]
		i++
		switch tag {
		case tagNil, tagFalse, tagTrue:
		case tagInt:
			_, n := binary.Varint(b[i:])
			if n <= 0 {
				return 0, nil
			}
			i += n
		case tagFloat:
			i += 8
		case tagString:
			l, n := binary.Uvarint(b[i:])
			if n <= 0 || l > uint64(len(b)) {
				return 0, nil
			}
			i += n + int(l)
		case tagTime:
			_, n := binary.Varint(b[i:])
			if n <= 0 {
				return 0, nil
			}
			i += n
			_, n = binary.Uvarint(b[i:])
			if n <= 0 {
				return 0, nil
			}
			i += n
		default:
			return 0, fmt.Errorf("spool: corrupt row: unknown value tag %d", tag)
		}
		if i > len(b) {
			return 0, nil
		}
	}
	return i, nil
}

// decodeRow decodes the whole row b, which rowLen measured, appending its
// values to dst; s is b as a string, which string values are cut from.
func decodeRow(b []byte, s string, dst []any) []any {
	cols, i := binary.Uvarint(b)
	for range cols {
		tag := b[i]
		i++
		switch tag {
		case tagNil:
			dst = append(dst, nil)
		case tagInt:
			v, n := binary.Varint(b[i:])
			i += n
			dst = append(dst, v)
		case tagFloat:
			dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(b[i:])))
			i += 8
		case tagFalse:
			dst = append(dst, false)
		case tagTrue:
			dst = append(dst, true)
		case tagString:
			l, n := binary.Uvarint(b[i:])
			i += n
			dst = append(dst, s[i:i+int(l)])
			i += int(l)
		case tagTime:
			sec, n := binary.Varint(b[i:])
			i += n
			nsec, n := binary.Uvarint(b[i:])
			i += n
			dst = append(dst, time.Unix(sec, int64(nsec)).UTC())
		}
	}
	return dst
}

// slowNext is next for a row larger than the read buffer, or a truncated
// one.
func (rr *rowReader) slowNext(dst []any, width int) ([]any, error) {
	n, err := binary.ReadUvarint(rr.r)
	if err != nil {
		return nil, err // io.EOF at a row boundary is a clean end
	}
	if n > maxRowColumns {
		return nil, corruptColumns(n)
	}
	if int(n) > width {
		width = int(n)
	}
	dst = dst[:0]
	for i := 0; i < int(n); i++ {
		tag, err := rr.r.ReadByte()
		if err != nil {
			return nil, truncated(err)
		}
		switch tag {
		case tagNil:
			dst = append(dst, nil)
		case tagInt:
			v, err := binary.ReadVarint(rr.r)
			if err != nil {
				return nil, truncated(err)
			}
			dst = append(dst, v)
		case tagFloat:
			var b [8]byte
			if _, err := io.ReadFull(rr.r, b[:]); err != nil {
				return nil, truncated(err)
			}
			dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(b[:])))
		case tagFalse:
			dst = append(dst, false)
		case tagTrue:
			dst = append(dst, true)
		case tagString:
			l, err := binary.ReadUvarint(rr.r)
			if err != nil {
				return nil, truncated(err)
			}
			str, err := rr.string(l)
			if err != nil {
				return nil, truncated(err)
			}
			dst = append(dst, str)
		case tagTime:
			sec, err := binary.ReadVarint(rr.r)
			if err != nil {
				return nil, truncated(err)
			}
			nsec, err := binary.ReadUvarint(rr.r)
			if err != nil {
				return nil, truncated(err)
			}
			dst = append(dst, time.Unix(sec, int64(nsec)).UTC())
		default:
			return nil, fmt.Errorf("spool: corrupt row: unknown value tag %d", tag)
		}
	}
	for len(dst) < width {
		dst = append(dst, nil)
	}
	return dst, nil
}

// string reads a string of n bytes, copying it once: from the read buffer
// when it fits there, else through a buffer of its own. That buffer grows
// as the bytes arrive (from at most stringPrealloc up front), so a corrupt
// length costs no more memory than the bytes there are.
func (rr *rowReader) string(n uint64) (string, error) {
	if n <= uint64(rr.r.Size()) {
		b, err := rr.r.Peek(int(n))
		if err != nil {
			return "", err
		}
		s := string(b)
		_, _ = rr.r.Discard(int(n))
		return s, nil
	}
	var b strings.Builder
	b.Grow(int(min(n, stringPrealloc)))
	if _, err := io.CopyN(&b, rr.r, int64(min(n, math.MaxInt64))); err != nil {
		return "", err
	}
	return b.String(), nil
}

// stringPrealloc bounds what string allocates before the bytes arrive.
const stringPrealloc = 16 << 20

func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("spool: truncated row: %w", io.ErrUnexpectedEOF)
	}
	return err
}
