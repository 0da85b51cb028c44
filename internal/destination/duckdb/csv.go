package duckdb

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// csvFile is one chunk of rows (see rowChunk) encoded as a CSV file for
// read_csv: the chunks of a build without the duckdb_arrow tag.
type csvFile struct{ *destination.CSVFile }

// inFlight holds the row files this process has made and not yet removed:
// a second Open of the same database in this process (DuckDB shares the
// instance) must not take them for a killed run's leftovers.
var inFlight sync.Map // path -> struct{}

func newCSVFile(dir, prefix string, cols []*schema.Column) (*csvFile, error) {
	f, err := destination.CreateCSVFile(dir, prefix+"*.csv", cols, appendCSV)
	if err != nil {
		return nil, err
	}
	inFlight.Store(f.Name(), struct{}{})
	return &csvFile{f}, nil
}

func (c *csvFile) remove() {
	c.Remove()
	inFlight.Delete(c.Name())
}

// removeStale removes the row files in dir named prefix* that no load of
// this process is using: a killed run's leftovers.
func removeStale(dir, prefix string) {
	stale, _ := filepath.Glob(filepath.Join(dir, prefix+"*.csv"))
	for _, f := range stale {
		if _, busy := inFlight.Load(f); !busy {
			os.Remove(f)
		}
	}
}

const hexDigits = "0123456789abcdef"

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// appendCSV appends v, a value as converterFor makes it for a column of
// type typ, as one CSV field.
func appendCSV(b []byte, v any, typ schema.DataType) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return b, nil
	case string:
		if typ == schema.Binary {
			if x == "" {
				// Quoted: an unquoted empty field is NULL.
				return append(b, `""`...), nil
			}
			// Every byte as \xHH, which DuckDB reads into a BLOB: no
			// byte of the value can end the field or the line.
			for i := 0; i < len(x); i++ {
				b = append(b, '\\', 'x', hexDigits[x[i]>>4], hexDigits[x[i]&15])
			}
			return b, nil
		}
		return appendText(b, x), nil
	case json.RawMessage:
		return appendText(b, string(x)), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		switch {
		case math.IsNaN(x):
			return append(b, "nan"...), nil
		case math.IsInf(x, 1):
			return append(b, "inf"...), nil
		case math.IsInf(x, -1):
			return append(b, "-inf"...), nil
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case time.Time:
		if typ == schema.Date {
			return x.AppendFormat(b, time.DateOnly), nil
		}
		return x.UTC().AppendFormat(b, "2006-01-02T15:04:05.999999Z"), nil
	case duckdb.Decimal:
		return appendDecimal(b, x.Value, int(x.Scale)), nil
	}
	return b, fmt.Errorf("cannot write a %T as CSV", v)
}

// appendText appends s as a CSV field, quoted only when it must be: when
// it is empty (an unquoted empty field is NULL) or holds a delimiter, a
// quote or a line break. read_csv takes anything else verbatim, spaces
// included, and there is less to write and scan (8 x 100k seed records:
// 568 -> 526 MB of CSV; end to end the difference is within the bench's
// noise). Text that is not UTF-8, which read_csv refuses, has its bad bytes
// replaced.
func appendText(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if s == "" || strings.ContainsAny(s, ",\"\n\r") {
		return destination.AppendCSVQuoted(b, s)
	}
	return append(b, s...)
}

// appendDecimal appends unscaled / 10^scale in plain notation.
func appendDecimal(b []byte, unscaled *big.Int, scale int) []byte {
	digits := unscaled.Text(10)
	if unscaled.Sign() < 0 {
		b = append(b, '-')
		digits = digits[1:]
	}
	if scale == 0 {
		return append(b, digits...)
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	b = append(b, digits[:len(digits)-scale]...)
	b = append(b, '.')
	return append(b, digits[len(digits)-scale:]...)
}
