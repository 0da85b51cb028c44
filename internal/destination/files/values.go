package files

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/restload/restload/internal/schema"
)

// normalizer returns the function that checks a row value for column c and
// turns it into its canonical form: int64, float64, bool, string (text,
// decimal, JSON), time.Time in UTC (timestamp; date at midnight), or nil.
func normalizer(c *schema.Column) (func(any) (any, error), error) {
	switch c.Type {
	case schema.BigInt:
		return toBigInt, nil
	case schema.Double:
		return toDouble, nil
	case schema.Decimal:
		return toDecimal, nil
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
	}
	return nil, fmt.Errorf("column %q: unknown data type %q", c.Name, c.Type)
}

func cannot(v any, typ string) error {
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
	return nil, cannot(v, "bigint")
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
	return nil, cannot(v, "double")
}

func toBool(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool:
		return x, nil
	}
	return nil, cannot(v, "bool")
}

func toText(v any) (any, error) {
	switch x := v.(type) {
	case nil, string:
		return x, nil
	}
	return nil, cannot(v, "text")
}

// toDecimal keeps a decimal's text as given, once it parses as a number.
func toDecimal(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if _, ok := new(big.Rat).SetString(x); !ok {
			return nil, fmt.Errorf("cannot parse %q as a decimal", x)
		}
		return x, nil
	case int64:
		return fmt.Sprint(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, cannot(v, "decimal")
		}
		return fmt.Sprint(x), nil
	}
	return nil, cannot(v, "decimal")
}

func toTimestamp(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		return x.UTC(), nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return nil, fmt.Errorf("cannot parse %q as a timestamp: %w", x, err)
		}
		return t.UTC(), nil
	}
	return nil, cannot(v, "timestamp")
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
	return nil, cannot(v, "date")
}

func toJSON(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if !json.Valid([]byte(x)) {
			return nil, fmt.Errorf("invalid JSON %q", truncate(x))
		}
		return x, nil
	case []byte:
		if !json.Valid(x) {
			return nil, fmt.Errorf("invalid JSON %q", truncate(string(x)))
		}
		return string(x), nil
	}
	return nil, cannot(v, "json")
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

const secondsPerDay = 86400

func daysSinceEpoch(t time.Time) int32 {
	return int32(math.Floor(float64(t.Unix()) / secondsPerDay))
}

func dateFromDays(d int32) time.Time {
	return time.Unix(int64(d)*secondsPerDay, 0).UTC()
}
