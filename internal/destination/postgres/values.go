package postgres

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/restload/restload/internal/schema"
)

// converter turns a row value into what pgx encodes for a column's COPY.
// nil stays nil (NULL).
type converter func(v any) (any, error)

func converterFor(c *schema.Column) (converter, error) {
	switch c.Type {
	case schema.BigInt:
		return toBigInt, nil
	case schema.Double:
		return toDouble, nil
	case schema.Decimal:
		return toNumeric, nil
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
	case nil:
		return nil, nil
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			// PostgreSQL text cannot hold NUL; drop it rather than fail the load.
			return strings.ReplaceAll(x, "\x00", ""), nil
		}
		return x, nil
	}
	return nil, cannot(v, "text")
}

func toTimestamp(v any) (any, error) {
	switch x := v.(type) {
	case nil, time.Time:
		return x, nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return nil, fmt.Errorf("cannot parse %q as a timestamp: %w", x, err)
		}
		return t, nil
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

// toJSON passes JSON text through unchanged (pgx sends a string as raw JSON).
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

// toNumeric parses a decimal string; PostgreSQL rounds it to the column's
// scale and rejects values too large for its precision.
func toNumeric(v any) (any, error) {
	switch x := v.(type) {
	case nil, int64:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, cannot(v, "decimal")
		}
		return x, nil
	case string:
		var n pgtype.Numeric
		if err := n.ScanScientific(strings.TrimPrefix(x, "+")); err != nil || !n.Valid || n.NaN || n.InfinityModifier != pgtype.Finite {
			return nil, fmt.Errorf("cannot parse %q as a decimal", x)
		}
		return n, nil
	}
	return nil, cannot(v, "decimal")
}
