package destination

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/restload/restload/internal/schema"
)

// AppendCSVQuoted appends s as one quoted CSV field, its quotes doubled,
// for the CSV that database bulk readers take (DuckDB's read_csv,
// PostgreSQL's COPY … CSV). Text is always quoted there, so that an empty
// string stays apart from NULL, an unquoted empty field.
func AppendCSVQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

// CSVField appends v, a value as a destination's converter made it for a
// column of type typ, as one CSV field in the dialect its database's bulk
// reader takes (NULL an unquoted empty field, text quoted with
// AppendCSVQuoted).
type CSVField func(b []byte, v any, typ schema.DataType) ([]byte, error)

// CSVFile is a temporary file of CSV rows on their way into a database's
// bulk reader (DuckDB's read_csv, PostgreSQL's COPY). It counts what it
// holds, for the reader's limits. Add rows, Finish, have the database read
// the file by Name, then Remove it.
type CSVFile struct {
	Columns []*schema.Column
	// Rows, Bytes and Longest (the longest row's bytes, with its newline)
	// count what was added.
	Rows, Bytes, Longest int64

	f     *os.File
	w     *bufio.Writer
	field CSVField
	line  []byte
}

// CreateCSVFile creates the file in dir (the system's temporary directory
// when "") with a name made from pattern as os.CreateTemp makes it.
func CreateCSVFile(dir, pattern string, cols []*schema.Column, field CSVField) (*CSVFile, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, fmt.Errorf("temporary file for rows: %w", err)
	}
	return &CSVFile{Columns: cols, f: f, w: bufio.NewWriterSize(f, 256<<10), field: field}, nil
}

// Name is the file's path.
func (c *CSVFile) Name() string { return c.f.Name() }

// Add appends one row, a value for each of Columns.
func (c *CSVFile) Add(vals []any) error {
	b := c.line[:0]
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = c.field(b, v, c.Columns[i].Type); err != nil {
			return fmt.Errorf("column %s: %w", c.Columns[i].Name, err)
		}
	}
	b = append(b, '\n')
	c.line = b
	c.Rows++
	c.Bytes += int64(len(b))
	c.Longest = max(c.Longest, int64(len(b)))
	_, err := c.w.Write(b)
	return err
}

// Finish writes out what is buffered and closes the file for reading.
func (c *CSVFile) Finish() error {
	if err := c.w.Flush(); err != nil {
		c.f.Close()
		return fmt.Errorf("write %s: %w", c.f.Name(), err)
	}
	return c.f.Close()
}

// Remove closes and deletes the file.
func (c *CSVFile) Remove() {
	c.f.Close()
	os.Remove(c.f.Name())
}
