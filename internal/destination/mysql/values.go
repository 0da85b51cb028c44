package mysql

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// The range of MySQL's DATETIME and DATE: a value outside it would be
// stored as zero, with only a warning.
var (
	minTime = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// converterFor returns the conversion of a row value for column c: the
// canonical value (destination.ConverterFor), refusing what MySQL cannot
// hold instead of letting LOAD DATA store a zero with a warning: infinite
// and NaN doubles, times outside years 1000 to 9999. Text keeps NUL bytes
// (MySQL text holds them; the loader's NUL rule removes them before this).
func converterFor(c *schema.Column) (destination.ValueConverter, error) {
	conv, err := destination.ConverterFor(c)
	if err != nil {
		return nil, err
	}
	switch c.Type {
	case schema.Double:
		return func(v any) (any, error) {
			v, err := conv(v)
			if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
				return nil, fmt.Errorf("cannot load %v into a double column: MySQL DOUBLE holds neither infinities nor NaN", f)
			}
			return v, err
		}, nil
	case schema.Timestamp, schema.Date:
		return func(v any) (any, error) {
			v, err := conv(v)
			if t, ok := v.(time.Time); ok && (t.Before(minTime) || !t.Before(maxTime)) {
				return nil, fmt.Errorf("cannot load %s into a %s column: MySQL holds years 1000 to 9999 only", t.Format(time.RFC3339Nano), c.Type)
			}
			return v, err
		}, nil
	}
	return conv, nil
}

// appendField appends v, as converterFor makes it, as one field of LOAD
// DATA's default text format: fields end with a tab, lines with a newline,
// and a backslash escapes (\N is NULL; \\, \t, \n, \r, \0 stand for
// themselves). Nothing is enclosed in quotes, so quotes need no escaping.
func appendField(b []byte, v any, typ schema.DataType) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, `\N`...)
	case string:
		return appendEscaped(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case bool:
		if x {
			return append(b, '1')
		}
		return append(b, '0')
	case time.Time:
		if typ == schema.Date {
			return x.AppendFormat(b, time.DateOnly)
		}
		return x.UTC().AppendFormat(b, "2006-01-02 15:04:05.999999")
	}
	// converterFor returns nothing else.
	return appendEscaped(b, fmt.Sprint(v))
}

func appendEscaped(b []byte, s string) []byte {
	if !strings.ContainsAny(s, "\\\t\n\r\x00") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '\t':
			b = append(b, `\t`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case 0:
			b = append(b, `\0`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// rowReader is the data of one LOAD DATA LOCAL: rows converted and
// encoded as the driver asks for more bytes, so a write holds one buffer,
// not the rows. Errors of the source or of a value end the data; err says
// which, for Write to report instead of the server's answer.
type rowReader struct {
	rows  destination.RowSource
	conv  *destination.RowConverter
	types []schema.DataType
	out   []any
	buf   []byte
	off   int
	err   error
	eof   bool
}

func (r *rowReader) Read(p []byte) (int, error) {
	for r.off >= len(r.buf) {
		if r.eof {
			return 0, io.EOF
		}
		if r.err != nil {
			return 0, r.err
		}
		r.fill()
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

// fill encodes rows until the buffer holds 64 KiB, the rows end, or one
// fails.
func (r *rowReader) fill() {
	r.buf, r.off = r.buf[:0], 0
	for len(r.buf) < 64<<10 {
		if !r.rows.Next() {
			if err := r.rows.Err(); err != nil {
				r.err = fmt.Errorf("reading rows: %w", err)
			} else {
				r.eof = true
			}
			return
		}
		if err := r.conv.Convert(r.rows.Values(), r.out); err != nil {
			r.err = err
			return
		}
		for i, v := range r.out {
			if i > 0 {
				r.buf = append(r.buf, '\t')
			}
			r.buf = appendField(r.buf, v, r.types[i])
		}
		r.buf = append(r.buf, '\n')
	}
}
