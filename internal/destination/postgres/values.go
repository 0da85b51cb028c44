package postgres

import (
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// converterFor returns the conversion of a row value into what pgx encodes
// for column c's COPY: the canonical value (destination.ConverterFor), but
// text without NUL bytes and decimals as pgtype.Numeric.
func converterFor(c *schema.Column) (destination.ValueConverter, error) {
	switch c.Type {
	case schema.Decimal:
		return toNumeric, nil
	case schema.Time:
		return func(v any) (any, error) {
			if v == nil {
				return nil, nil
			}
			s, ok := v.(string)
			if !ok {
				return nil, destination.CannotLoad(v, schema.Time)
			}
			d, err := destination.TimeOfDay(s)
			if err != nil {
				return nil, err
			}
			return pgtype.Time{Microseconds: d.Microseconds(), Valid: true}, nil
		}, nil
	case schema.Binary:
		bin, err := destination.ConverterFor(c)
		if err != nil {
			return nil, err
		}
		return func(v any) (any, error) {
			v, err := bin(v)
			if s, ok := v.(string); ok {
				return []byte(s), err
			}
			return v, err
		}, nil
	case schema.Text:
		text, err := destination.ConverterFor(c)
		if err != nil {
			return nil, err
		}
		return func(v any) (any, error) {
			if s, ok := v.(string); ok && strings.IndexByte(s, 0) >= 0 {
				// PostgreSQL text cannot hold NUL; drop it rather than fail the load.
				return strings.ReplaceAll(s, "\x00", ""), nil
			}
			return text(v)
		}, nil
	}
	return destination.ConverterFor(c)
}

// toNumeric parses a decimal string; PostgreSQL rounds it to the column's
// scale and rejects values too large for its precision.
func toNumeric(v any) (any, error) {
	switch x := v.(type) {
	case nil, int64:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, destination.CannotLoad(v, schema.Decimal)
		}
		return x, nil
	case string:
		var n pgtype.Numeric
		if err := n.ScanScientific(strings.TrimPrefix(x, "+")); err != nil || !n.Valid || n.NaN || n.InfinityModifier != pgtype.Finite {
			return nil, fmt.Errorf("cannot parse %q as a decimal", x)
		}
		return n, nil
	}
	return nil, destination.CannotLoad(v, schema.Decimal)
}
