package spool

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
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
func (rr *rowReader) next(dst []any, width int) ([]any, error) {
	n, err := binary.ReadUvarint(rr.r)
	if err != nil {
		return nil, err // io.EOF at a row boundary is a clean end
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
			str, err := rr.string(int(l))
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
// when it fits there, else through a buffer of its own.
func (rr *rowReader) string(n int) (string, error) {
	if n <= rr.r.Size() {
		b, err := rr.r.Peek(n)
		if err != nil {
			return "", err
		}
		s := string(b)
		_, _ = rr.r.Discard(n)
		return s, nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(rr.r, b); err != nil {
		return "", err
	}
	return string(b), nil
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("spool: truncated row: %w", io.ErrUnexpectedEOF)
	}
	return err
}
