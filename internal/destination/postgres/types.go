package postgres

import (
	"fmt"

	"github.com/restload/restload/internal/destination/sqlgen"
	"github.com/restload/restload/internal/schema"
)

// types are the PostgreSQL types of restload's data types, as dlt's
// postgres destination names them (its PostgresTypeMapper), so a dataset
// either tool made reads the same: information_schema shows
// character varying, timestamp with time zone, jsonb, ...
var types = map[schema.DataType]string{
	schema.BigInt:    "bigint",
	schema.Double:    "double precision",
	schema.Bool:      "boolean",
	schema.Text:      "varchar",
	schema.Timestamp: "timestamp with time zone",
	schema.Date:      "date",
	schema.JSON:      "jsonb",
	schema.Time:      "time without time zone",
	schema.Binary:    "bytea",
}

// maxTimePrecision is PostgreSQL's finest timestamp and time precision:
// microseconds.
const maxTimePrecision = 6

// integerSizes are the integer types a bigint precision hint picks from.
var integerSizes = []sqlgen.IntegerSize{{Bits: 16, Type: "smallint"}, {Bits: 32, Type: "integer"}, {Bits: 64, Type: "bigint"}}

// hintedType is the type dlt's postgres destination gives a column whose
// precision or timezone hint changes it, or "" when none does: a bigint's
// precision in bits picks smallint, integer or bigint; a timestamp's
// precision and timezone make "timestamp (3) without time zone", a time's
// precision "time (3) without time zone"; a text's precision is a
// varchar's length.
func hintedType(c *schema.Column) (string, error) {
	switch c.Type {
	case schema.BigInt:
		return sqlgen.IntegerType(c, integerSizes)
	case schema.Timestamp:
		if c.Precision == nil && c.Timezone == nil {
			return "", nil
		}
		t := "timestamp"
		if c.Precision != nil {
			if p := *c.Precision; p < 0 || p > maxTimePrecision {
				return "", fmt.Errorf("timestamp precision %d: PostgreSQL takes 0 to %d", p, maxTimePrecision)
			}
			t += fmt.Sprintf(" (%d)", *c.Precision)
		}
		if c.Timezone != nil && !*c.Timezone {
			return t + " without time zone", nil
		}
		return t + " with time zone", nil
	case schema.Time:
		if c.Precision != nil {
			if p := *c.Precision; p < 0 || p > maxTimePrecision {
				return "", fmt.Errorf("time precision %d: PostgreSQL takes 0 to %d", p, maxTimePrecision)
			}
			return fmt.Sprintf("time (%d) without time zone", *c.Precision), nil
		}
	case schema.Text:
		if c.Precision != nil {
			return fmt.Sprintf("varchar(%d)", *c.Precision), nil
		}
	}
	return "", nil
}
