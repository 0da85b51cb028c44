package duckdb

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/sqlgen"
	"github.com/restload/restload/internal/schema"
)

// converterFor returns the conversion of a row value into what appendCSV
// writes for column c: the canonical value (destination.ConverterFor), but
// a duckdb.Decimal at the column's scale for decimals (rounded here, as
// every destination rounds) and a json.RawMessage for JSON.
func converterFor(c *schema.Column) (destination.ValueConverter, error) {
	switch c.Type {
	case schema.Decimal:
		p, s := sqlgen.DecimalSize(c)
		return func(v any) (any, error) { return toDecimal(v, p, s) }, nil
	case schema.JSON:
		text, err := destination.ConverterFor(c)
		if err != nil {
			return nil, err
		}
		return func(v any) (any, error) {
			s, err := text(v)
			if s == nil || err != nil {
				return s, err
			}
			return json.RawMessage(s.(string)), nil
		}, nil
	}
	return destination.ConverterFor(c)
}

// toDecimal converts a decimal string (or a number) into a duckdb.Decimal
// at the column's scale, rounding half away from zero.
func toDecimal(v any, precision, scale int) (any, error) {
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
			return nil, destination.CannotLoad(v, schema.Decimal)
		}
		unscaled = scaleRat(r, scale)
	default:
		return nil, destination.CannotLoad(v, schema.Decimal)
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
