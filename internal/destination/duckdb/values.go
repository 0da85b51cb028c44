package duckdb

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/restload/restload/internal/schema"
)

// converter turns a row value into what the Appender takes for a column.
// nil stays nil (NULL).
type converter func(v any) (driver.Value, error)

func converterFor(c *schema.Column) (converter, error) {
	switch c.Type {
	case schema.BigInt:
		return toBigInt, nil
	case schema.Double:
		return toDouble, nil
	case schema.Decimal:
		p, s := decimalSize(c)
		return func(v any) (driver.Value, error) { return toDecimal(v, p, s) }, nil
	case schema.Bool:
		return toBool, nil
	case schema.Text:
		return toText, nil
	case schema.Timestamp:
		return func(v any) (driver.Value, error) { return toTime(v, time.RFC3339Nano) }, nil
	case schema.Date:
		return toDate, nil
	case schema.JSON:
		return toJSON, nil
	}
	return nil, fmt.Errorf("column %q: unknown data type %q", c.Name, c.Type)
}

func cannot(v any, typ string) error {
	return fmt.Errorf("cannot load %T %v into a %s column", v, v, typ)
}

func toBigInt(v any) (driver.Value, error) {
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
	return nil, cannot(v, "bigint")
}

func toDouble(v any) (driver.Value, error) {
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
	return nil, cannot(v, "double")
}

func toBool(v any) (driver.Value, error) {
	switch x := v.(type) {
	case nil, bool:
		return x, nil
	}
	return nil, cannot(v, "bool")
}

func toText(v any) (driver.Value, error) {
	switch x := v.(type) {
	case nil, string:
		return x, nil
	}
	return nil, cannot(v, "text")
}

func toTime(v any, layout string) (driver.Value, error) {
	switch x := v.(type) {
	case nil, time.Time:
		return x, nil
	case string:
		t, err := time.Parse(layout, x)
		if err != nil {
			return nil, fmt.Errorf("cannot parse %q as %s: %w", x, layout, err)
		}
		return t, nil
	}
	return nil, cannot(v, "timestamp")
}

// toDate keeps the calendar day of a time.Time in its own zone (the
// Appender would take the UTC day).
func toDate(v any) (driver.Value, error) {
	x, err := toTime(v, time.DateOnly)
	if t, ok := x.(time.Time); ok {
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
	}
	return x, err
}

// toJSON passes JSON text through as json.RawMessage: the Appender marshals
// values for JSON columns, and a RawMessage marshals to itself (validated).
func toJSON(v any) (driver.Value, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if !json.Valid([]byte(x)) {
			return nil, fmt.Errorf("invalid JSON %q", truncate(x))
		}
		return json.RawMessage(x), nil
	case []byte:
		if !json.Valid(x) {
			return nil, fmt.Errorf("invalid JSON %q", truncate(string(x)))
		}
		return json.RawMessage(x), nil
	}
	return nil, cannot(v, "json")
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// toDecimal converts a decimal string (or a number) into a duckdb.Decimal
// at the column's scale, rounding half away from zero.
func toDecimal(v any, precision, scale int) (driver.Value, error) {
	var unscaled *big.Int
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		var ok bool
		if unscaled, ok = scalePlain(x, scale); !ok {
			r, ok := new(big.Rat).SetString(x)
			if !ok {
				return nil, fmt.Errorf("cannot parse %q as a decimal", x)
			}
			unscaled = scaleRat(r, scale)
		}
	case int64:
		unscaled = scaleRat(new(big.Rat).SetInt64(x), scale)
	case float64:
		r := new(big.Rat)
		if r.SetFloat64(x) == nil {
			return nil, cannot(v, "decimal")
		}
		unscaled = scaleRat(r, scale)
	default:
		return nil, cannot(v, "decimal")
	}
	if digits := len(unscaled.Text(10)) - boolInt(unscaled.Sign() < 0); digits > precision {
		return nil, fmt.Errorf("%v does not fit DECIMAL(%d,%d)", v, precision, scale)
	}
	return duckdb.Decimal{Width: uint8(precision), Scale: uint8(scale), Value: unscaled}, nil
}

// scalePlain is the fast path of toDecimal for plain notation
// ("-123.45"): it shifts the digits by scale without rational arithmetic.
// ok is false for anything else (exponents, stray characters).
func scalePlain(s string, scale int) (n *big.Int, ok bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return nil, false
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return nil, false
			}
		}
	}
	roundUp := false
	if len(frac) > scale {
		roundUp = frac[scale] >= '5'
		frac = frac[:scale]
	}
	digits := intPart + frac + strings.Repeat("0", scale-len(frac))
	if len(digits) <= 18 {
		i, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return nil, false
		}
		n = big.NewInt(i)
	} else if n, ok = new(big.Int).SetString(digits, 10); !ok {
		return nil, false
	}
	if roundUp {
		n.Add(n, big.NewInt(1))
	}
	if neg {
		n.Neg(n)
	}
	return n, true
}

// scaleRat returns r * 10^scale rounded half away from zero.
func scaleRat(r *big.Rat, scale int) *big.Int {
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	scaled.Add(scaled, big.NewRat(int64(scaled.Sign()), 2))
	return new(big.Int).Quo(scaled.Num(), scaled.Denom())
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
