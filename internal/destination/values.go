package destination

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/restload/restload/internal/schema"
)

// ValueConverter checks one row value against a column's type and returns
// the form the destination writes. nil (NULL) stays nil.
type ValueConverter func(v any) (any, error)

// ConverterFor returns the ValueConverter of column c's type. The values it
// returns are canonical, the same for every destination:
//
//   - bigint: int64 (from int64, int, int32, or a whole float64 that fits);
//   - double: float64 (from float64, float32, int64, int);
//   - decimal: the number's text (a string that parses as a number, kept as
//     given; an int64 or finite float64, formatted);
//   - bool: bool; text: string (an int64, float64, bool or time.Time as
//     its text, the way schema.Convert writes it);
//   - timestamp: time.Time in UTC (from time.Time, or an RFC 3339 string);
//   - date: time.Time at UTC midnight of the calendar day (from time.Time,
//     that day in its own zone, or a YYYY-MM-DD string);
//   - json: a string holding valid JSON (from a string or []byte);
//   - time: a time of day as "15:04:05.999999" (from such a string, or a
//     time.Time's clock);
//   - binary: a string holding the bytes (from a string or []byte).
//
// Anything else fails with "cannot load T v into a TYPE column" or a parse
// error. A destination whose driver wants another form for a type (a scaled
// decimal, say) uses its own conversion for that type and this one for the
// rest. It fails only for a type it does not know.
//
// This is not schema.Coerce: Coerce maps source JSON values into a column
// during normalization and answers ok=false to send a value to a variant
// column; a ValueConverter checks rows that are already typed (see
// RowSource) and explains what is wrong with an error.
func ConverterFor(c *schema.Column) (ValueConverter, error) {
	switch c.Type {
	case schema.BigInt:
		return toBigInt, nil
	case schema.Double:
		return toDouble, nil
	case schema.Decimal:
		return toDecimalText, nil
	case schema.Bool:
		return toBool, nil
	case schema.Text:
		return toText, nil
	case schema.Timestamp:
		return toTimestamp, nil
	case schema.Date:
		return toDate, nil
	case schema.JSON:
		return toJSON, nil
	case schema.Time:
		return toTime, nil
	case schema.Binary:
		return toBinary, nil
	}
	return nil, fmt.Errorf("column %q: unknown data type %q", c.Name, c.Type)
}

// CannotLoad is the error for a value of the wrong kind for a column of
// type typ.
func CannotLoad(v any, typ schema.DataType) error {
	return fmt.Errorf("cannot load %T %v into a %s column", v, v, typ)
}

func toBigInt(v any) (any, error) {
	switch x := v.(type) {
	case nil, int64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return int64(x), nil
		}
	}
	return nil, CannotLoad(v, schema.BigInt)
}

func toDouble(v any) (any, error) {
	switch x := v.(type) {
	case nil, float64:
		return x, nil
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	case float32:
		return float64(x), nil
	}
	return nil, CannotLoad(v, schema.Double)
}

func toBool(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool:
		return x, nil
	}
	return nil, CannotLoad(v, schema.Bool)
}

func toText(v any) (any, error) {
	switch x := v.(type) {
	case nil, string:
		return x, nil
	case int64, float64, bool, time.Time:
		// A key column that became text in the run that created it (its
		// values had two types) holds the values written before as they
		// were typed: they load as their text (see normalize's keyValue).
		if s, ok := schema.Convert(x, schema.Text); ok {
			return s, nil
		}
	}
	return nil, CannotLoad(v, schema.Text)
}

// toDecimalText keeps a decimal's text as given, once it parses as a number.
func toDecimalText(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if _, ok := new(big.Rat).SetString(x); !ok {
			return nil, fmt.Errorf("cannot parse %q as a decimal", x)
		}
		return v, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, CannotLoad(v, schema.Decimal)
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	}
	return nil, CannotLoad(v, schema.Decimal)
}

func toTimestamp(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		if x.Location() == time.UTC {
			return v, nil // v itself: boxing x again would allocate
		}
		return x.UTC(), nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return nil, fmt.Errorf("cannot parse %q as a timestamp: %w", x, err)
		}
		return t.UTC(), nil
	}
	return nil, CannotLoad(v, schema.Timestamp)
}

// toDate keeps the calendar day of a time.Time in its own zone.
func toDate(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		y, m, d := x.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
	case string:
		t, err := time.Parse(time.DateOnly, x)
		if err != nil {
			return nil, fmt.Errorf("cannot parse %q as a date: %w", x, err)
		}
		return t, nil
	}
	return nil, CannotLoad(v, schema.Date)
}

func toJSON(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if !json.Valid([]byte(x)) {
			return nil, fmt.Errorf("invalid JSON %q", truncate(x))
		}
		return v, nil
	case []byte:
		if !json.Valid(x) {
			return nil, fmt.Errorf("invalid JSON %q", truncate(string(x)))
		}
		return string(x), nil
	}
	return nil, CannotLoad(v, schema.JSON)
}

func toTime(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		t, err := time.Parse("15:04:05.999999999", x)
		if err != nil {
			return nil, fmt.Errorf("cannot parse %q as a time of day (15:04:05.999999)", truncate(x))
		}
		return schema.FormatTimeOfDay(t), nil
	case time.Time:
		return schema.FormatTimeOfDay(x), nil
	}
	return nil, CannotLoad(v, schema.Time)
}

func toBinary(v any) (any, error) {
	switch x := v.(type) {
	case nil, string:
		return x, nil
	case []byte:
		return string(x), nil
	}
	return nil, CannotLoad(v, schema.Binary)
}

// TimeOfDay returns the time of day of a canonical time value
// ("15:04:05.999999") as the time since midnight.
func TimeOfDay(s string) (time.Duration, error) {
	t, err := time.Parse("15:04:05.999999999", s)
	if err != nil {
		return 0, fmt.Errorf("cannot parse %q as a time of day", truncate(s))
	}
	return t.Sub(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())), nil
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// RowConverter converts the rows of a RowSource for a table's columns, one
// ValueConverter per column. It is not safe for concurrent use.
type RowConverter struct {
	names []string
	convs []ValueConverter
	n     int64
}

// NewRowConverter returns a RowConverter for cols. convert picks each
// column's ValueConverter; nil means ConverterFor.
func NewRowConverter(cols []*schema.Column, convert func(*schema.Column) (ValueConverter, error)) (*RowConverter, error) {
	if convert == nil {
		convert = ConverterFor
	}
	rc := &RowConverter{names: make([]string, len(cols)), convs: make([]ValueConverter, len(cols))}
	for i, c := range cols {
		conv, err := convert(c)
		if err != nil {
			return nil, err
		}
		rc.names[i], rc.convs[i] = c.Name, conv
	}
	return rc, nil
}

// Names returns the column names, in order; the caller must not modify
// the slice.
func (rc *RowConverter) Names() []string { return rc.names }

// Rows returns how many rows Convert has converted.
func (rc *RowConverter) Rows() int64 { return rc.n }

// Convert converts the next row into out, which has one element per
// column; a row shorter than the table gets nil for its last columns.
// Errors name the row by its 1-based number and the column.
func (rc *RowConverter) Convert(row, out []any) error {
	if len(row) > len(rc.names) {
		return fmt.Errorf("row %d has %d values, the table has %d columns", rc.n+1, len(row), len(rc.names))
	}
	for i, conv := range rc.convs {
		var v any
		if i < len(row) {
			v = row[i]
		}
		cv, err := conv(v)
		if err != nil {
			return fmt.Errorf("row %d column %q: %w", rc.n+1, rc.names[i], err)
		}
		out[i] = cv
	}
	rc.n++
	return nil
}
