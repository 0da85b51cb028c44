//go:build !duckdb_arrow

package duckdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/restload/restload/internal/schema"
)

// ArrowLoads says whether this build hands rows to DuckDB as Arrow record
// batches (built with the duckdb_arrow tag) or as CSV files (without);
// BuildTags is the -tags value that builds restload the same way.
const (
	ArrowLoads = false
	BuildTags  = ""
)

// newChunk starts a chunk of rows for cols: a CSV file beside the
// database (see csv.go).
func (d *DuckDB) newChunk(cols []*schema.Column) (rowChunk, error) {
	return newCSVFile(d.tmpDir, d.tmpPrefix, cols)
}

func (c *csvFile) stats() chunkStats {
	return chunkStats{Columns: len(c.Columns), Rows: c.Rows, Bytes: c.Bytes, Longest: c.Longest}
}

// insert has DuckDB read the finished file c into table on t's connection
// and returns how many rows it inserted.
func (c *csvFile) insert(ctx context.Context, t *tx, table string) (int64, error) {
	sel, err := c.readCSV()
	if err != nil {
		return 0, err
	}
	res, err := t.conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) %s", table, t.d.sql.ColumnList(c.Columns), sel))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// readCSV is the SELECT that reads the finished file: no sniffing, every value
// typed by its column, an unquoted empty field NULL and a quoted one an
// empty string, and no columns made up from a path that looks like hive
// partitions (a directory named "a=b").
func (c *csvFile) readCSV() (string, error) {
	cols := c.Columns
	defs := make([]string, len(cols))
	for i, c := range cols {
		typ, err := dialect.Type(c)
		if err != nil {
			return "", err
		}
		defs[i] = sqlString(c.Name) + ": " + sqlString(typ)
	}
	// read_csv refuses a row longer than max_line_size (2 MB by default)
	// and allocates buffers of buffer_size on every read: both follow the
	// file, so a 20 MB value still loads, while ordinary rows get 2 MB
	// buffers (DuckDB's 32 MB default took more memory and more time: 8 x
	// 100k seed records read in 5.2 s instead of 4.3 s, single-threaded).
	line := max(c.Longest+1, 64<<10)
	buffer := max(2*line, min(c.Bytes+1, 2<<20))
	return fmt.Sprintf("SELECT * FROM read_csv(%s, columns = {%s}, header = false, auto_detect = false, "+
		"delim = ',', quote = '\"', escape = '\"', new_line = '\\n', nullstr = '', allow_quoted_nulls = false, "+
		"compression = 'none', hive_partitioning = false, max_line_size = %d, buffer_size = %d)",
		sqlString(c.Name()), strings.Join(defs, ", "), line, buffer), nil
}
