package postgres

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/sqlgen"
	"github.com/restload/restload/internal/schema"
)

// keyFile collects the key columns of the rows a merge copies into a root
// table, as CSV in a temporary file, until they can be copied into the
// key staging table: the connection is busy with the rows' own COPY until
// then, and holding the keys in memory would grow with the table.
type keyFile struct {
	csv  *destination.CSVFile
	keys *sqlgen.Keys
	vals []any
}

func newKeyFile(keys *sqlgen.Keys) (*keyFile, error) {
	f, err := destination.CreateCSVFile("", "restload-keys-*.csv", keys.Columns, appendCSV)
	if err != nil {
		return nil, err
	}
	return &keyFile{csv: f, keys: keys, vals: make([]any, len(keys.Columns))}, nil
}

// add writes the key values of row (values as converterFor makes them).
func (k *keyFile) add(row []any) error {
	k.keys.Values(row, k.vals)
	if err := k.csv.Add(k.vals); err != nil {
		return fmt.Errorf("key %w", err)
	}
	return nil
}

// copy copies the collected keys into the key staging table.
func (k *keyFile) copy(ctx context.Context, conn *pgconn.PgConn) error {
	if err := k.csv.Finish(); err != nil {
		return err
	}
	f, err := os.Open(k.csv.Name())
	if err != nil {
		return err
	}
	defer f.Close()
	cols := make([]string, len(k.keys.Columns))
	for i, c := range k.keys.Columns {
		cols[i] = dialect.Quote(c.Name)
	}
	sql := fmt.Sprintf("COPY %s.%s (%s) FROM STDIN (FORMAT csv)", dialect.TempSchema, dialect.Quote(k.keys.Table), strings.Join(cols, ", "))
	_, err = conn.CopyFrom(ctx, bufio.NewReaderSize(f, 64<<10), sql)
	return err
}

func (k *keyFile) remove() { k.csv.Remove() }

// appendCSV appends v as a PostgreSQL CSV field: nothing for NULL, text
// always quoted (so an empty string stays one), other values in a form
// PostgreSQL's input functions read.
func appendCSV(b []byte, v any, typ schema.DataType) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return b, nil
	case string:
		return destination.AppendCSVQuoted(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		switch {
		case math.IsInf(x, 1):
			return append(b, "Infinity"...), nil
		case math.IsInf(x, -1):
			return append(b, "-Infinity"...), nil
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case time.Time:
		if typ == schema.Date {
			return x.AppendFormat(b, time.DateOnly), nil
		}
		return x.AppendFormat(b, time.RFC3339Nano), nil
	case pgtype.Numeric:
		v, err := x.Value()
		if err != nil {
			return b, err
		}
		s, _ := v.(string)
		return append(b, s...), nil
	}
	return b, fmt.Errorf("cannot stage a key of type %T", v)
}
