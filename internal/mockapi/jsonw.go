package mockapi

import (
	"strconv"

	"github.com/restload/restload/internal/jsontext"
)

// jw appends compact JSON to a byte slice without reflection. It tracks only
// whether the next member or element needs a leading comma; callers are
// responsible for balanced open/close calls.
type jw struct {
	b     []byte
	comma bool
}

func (w *jw) sep() {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.comma = true
}

func (w *jw) key(k string) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *jw) str(k, v string) {
	w.key(k)
	w.b = jsontext.AppendString(w.b, v)
}

func (w *jw) int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *jw) float(k string, v float64) {
	w.key(k)
	w.b = strconv.AppendFloat(w.b, v, 'f', -1, 64)
}

func (w *jw) boolean(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}

func (w *jw) null(k string) {
	w.key(k)
	w.b = append(w.b, "null"...)
}

// time writes a millisecond Unix timestamp as an RFC 3339 UTC string.
func (w *jw) time(k string, ms int64) {
	w.key(k)
	w.b = appendTime(w.b, ms)
}

// object opens a nested object member; close it with end('}').
func (w *jw) object(k string) {
	w.key(k)
	w.b = append(w.b, '{')
	w.comma = false
}

// array opens a nested array member; close it with end(']').
func (w *jw) array(k string) {
	w.key(k)
	w.b = append(w.b, '[')
	w.comma = false
}

// elemObject opens an object as the next array element.
func (w *jw) elemObject() {
	w.sep()
	w.b = append(w.b, '{')
	w.comma = false
}

func (w *jw) elemString(v string) {
	w.sep()
	w.b = jsontext.AppendString(w.b, v)
}

func (w *jw) end(c byte) {
	w.b = append(w.b, c)
	w.comma = true
}

const hexDigits = "0123456789abcdef"

// appendTime appends ms (milliseconds since the Unix epoch, >= 0) as a quoted
// RFC 3339 timestamp in UTC with millisecond precision, e.g.
// "2021-03-04T05:06:07.089Z". It is equivalent to time.Format with layout
// "2006-01-02T15:04:05.000Z07:00" but several times faster.
func appendTime(b []byte, ms int64) []byte {
	days := ms / 86400000
	rem := ms % 86400000
	y, m, d := civilFromDays(days)
	hh := rem / 3600000
	mm := rem / 60000 % 60
	ss := rem / 1000 % 60
	frac := rem % 1000
	b = append(b, '"')
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, hh)
	b = append(b, ':')
	b = append2(b, mm)
	b = append(b, ':')
	b = append2(b, ss)
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10), 'Z', '"')
	return b
}

func append2(b []byte, v int64) []byte {
	return append(b, byte('0'+v/10), byte('0'+v%10))
}

func append4(b []byte, v int64) []byte {
	return append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's algorithm).
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}
