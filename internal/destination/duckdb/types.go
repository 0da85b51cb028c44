package duckdb

import (
	"fmt"

	"github.com/restload/restload/internal/destination/sqlgen"
	"github.com/restload/restload/internal/schema"
)

// types are the DuckDB types of restload's data types, as dlt's duckdb
// destination names them (its DuckDbTypeMapper).
var types = map[schema.DataType]string{
	schema.BigInt:    "BIGINT",
	schema.Double:    "DOUBLE",
	schema.Bool:      "BOOLEAN",
	schema.Text:      "VARCHAR",
	schema.Timestamp: "TIMESTAMP WITH TIME ZONE",
	schema.Date:      "DATE",
	schema.JSON:      "JSON",
	schema.Time:      "TIME",
	schema.Binary:    "BLOB",
}

// integerSizes are the integer types a bigint precision hint picks from.
var integerSizes = []sqlgen.IntegerSize{{Bits: 8, Type: "TINYINT"}, {Bits: 16, Type: "SMALLINT"}, {Bits: 32, Type: "INTEGER"}, {Bits: 64, Type: "BIGINT"}, {Bits: 128, Type: "HUGEINT"}}

// hintedType is the type dlt's duckdb destination gives a column whose
// precision or timezone hint changes it, or "" when none does: a bigint's
// precision in bits picks TINYINT to HUGEINT; a timestamp without time
// zone takes its precision (TIMESTAMP_S, _MS, TIMESTAMP, _NS). DuckDB has
// no precision for a timestamp with time zone, so there (as in dlt) the
// precision is ignored.
func hintedType(c *schema.Column) (string, error) {
	switch c.Type {
	case schema.BigInt:
		return sqlgen.IntegerType(c, integerSizes)
	case schema.Timestamp:
		if c.Timezone == nil || *c.Timezone {
			return "", nil
		}
		switch p := schema.IntOf(c.Precision, 6); {
		case p == 0:
			return "TIMESTAMP_S", nil
		case p > 0 && p <= 3:
			return "TIMESTAMP_MS", nil
		case p > 0 && p <= 6:
			return "TIMESTAMP", nil
		case p > 0 && p <= 9:
			return "TIMESTAMP_NS", nil
		default:
			return "", fmt.Errorf("timestamp precision %d: DuckDB takes 0 to 9", p)
		}
	}
	return "", nil
}
