package files

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"

	"github.com/restload/restload/internal/jsontext"
	"github.com/restload/restload/internal/schema"
)

// codec writes canonical rows to one file and reads a file back as typed
// rows keyed by column name (nil for columns the file lacks).
type codec interface {
	write(w io.Writer, cols []*schema.Column, rows *normalizing) (int64, error)
	read(path string, cols []*schema.Column, fn func(row map[string]any) error) error
}

// jsonlCodec writes one JSON object per line: timestamps as RFC 3339 text,
// dates as YYYY-MM-DD, decimals as strings, JSON columns embedded as JSON.
type jsonlCodec struct{}

func (jsonlCodec) write(w io.Writer, cols []*schema.Column, rows *normalizing) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	var n int64
	keys := make([][]byte, len(cols)) // `"name":`, with the comma before all but the first
	for i, c := range cols {
		k, _ := json.Marshal(c.Name)
		if i > 0 {
			k = append([]byte{','}, k...)
		}
		keys[i] = append(k, ':')
	}
	var line []byte
	for {
		row, err := rows.next()
		if err != nil {
			return n, err
		}
		if row == nil {
			break
		}
		line = append(line[:0], '{')
		for i, c := range cols {
			line = append(line, keys[i]...)
			if line, err = appendJSONValue(line, c, row[i]); err != nil {
				return n, fmt.Errorf("row %d column %q: %w", n+1, c.Name, err)
			}
		}
		line = append(line, "}\n"...)
		if _, err := bw.Write(line); err != nil {
			return n, err
		}
		n++
	}
	return n, bw.Flush()
}

func (jsonlCodec) read(path string, cols []*schema.Column, fn func(row map[string]any) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<16))
	for line := 1; ; line++ {
		var raw map[string]json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		row := make(map[string]any, len(cols))
		for _, c := range cols {
			v, err := fromJSON(c, raw[c.Name])
			if err != nil {
				return fmt.Errorf("line %d column %q: %w", line, c.Name, err)
			}
			row[c.Name] = v
		}
		if err := fn(row); err != nil {
			return err
		}
	}
}

func fromJSON(c *schema.Column, raw json.RawMessage) (any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if c.Type == schema.JSON {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, err
		}
		return buf.String(), nil
	}
	var v any
	switch c.Type {
	case schema.BigInt:
		var i int64
		err := json.Unmarshal(raw, &i)
		return i, err
	case schema.Double:
		var f float64
		err := json.Unmarshal(raw, &f)
		return f, err
	case schema.Bool:
		var b bool
		err := json.Unmarshal(raw, &b)
		return b, err
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	v = s
	switch c.Type {
	case schema.Timestamp:
		return time.Parse(time.RFC3339Nano, s)
	case schema.Date:
		return time.Parse(time.DateOnly, s)
	case schema.Binary:
		b, err := base64.StdEncoding.DecodeString(s)
		return string(b), err
	}
	return v, nil
}

// parquetCodec writes a parquet file whose schema has one optional field per
// column: INT64, DOUBLE, BOOLEAN, STRING (text and decimal), TIMESTAMP
// (microseconds, UTC), DATE and JSON.
type parquetCodec struct{}

func parquetNode(c *schema.Column) (parquet.Node, error) {
	switch c.Type {
	case schema.BigInt:
		return parquet.Int(64), nil
	case schema.Double:
		return parquet.Leaf(parquet.DoubleType), nil
	case schema.Bool:
		return parquet.Leaf(parquet.BooleanType), nil
	case schema.Text, schema.Decimal, schema.Time:
		return parquet.String(), nil
	case schema.Binary:
		return parquet.Leaf(parquet.ByteArrayType), nil
	case schema.Timestamp:
		return parquet.Timestamp(parquet.Microsecond), nil
	case schema.Date:
		return parquet.Date(), nil
	case schema.JSON:
		return parquet.JSON(), nil
	}
	return nil, fmt.Errorf("column %q: unknown data type %q", c.Name, c.Type)
}

func (parquetCodec) write(w io.Writer, cols []*schema.Column, rows *normalizing) (int64, error) {
	group := parquet.Group{}
	for _, c := range cols {
		node, err := parquetNode(c)
		if err != nil {
			return 0, err
		}
		group[c.Name] = parquet.Optional(node)
	}
	sch := parquet.NewSchema("restload", group)
	// Group fields are sorted by name: map each table column to its leaf.
	index := map[string]int{}
	for i, f := range sch.Fields() {
		index[f.Name()] = i
	}
	leaf := make([]int, len(cols))
	for i, c := range cols {
		leaf[i] = index[c.Name]
	}
	// Rows stream: the writer holds at most one row group (its compressed
	// pages) and a batch of rows, whatever the table's size; without a row
	// group limit it would hold the whole file until Close.
	// Snappy, as dlt writes (pyarrow's default): readers expect it, and it
	// costs a fraction of zstd's CPU (zstd took ~8% of a Parquet load's).
	pw := parquet.NewWriter(w, sch, parquet.Compression(&parquet.Snappy), parquet.MaxRowsPerRowGroup(rowGroupRows), parquet.PageBufferSize(pageBuffer))
	var n int64
	// The batch's rows are reused: WriteRows copies their values.
	batch := make([]parquet.Row, batchRows)
	for i := range batch {
		batch[i] = make(parquet.Row, len(cols))
	}
	k := 0
	flush := func() error {
		if k == 0 {
			return nil
		}
		_, err := pw.WriteRows(batch[:k])
		k = 0
		return err
	}
	for {
		row, err := rows.next()
		if err != nil {
			return n, err
		}
		if row == nil {
			break
		}
		out := batch[k]
		for i, v := range row {
			out[leaf[i]] = parquetValue(cols[i], v).Level(0, definition(v), leaf[i])
		}
		k++
		n++
		if k == len(batch) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := flush(); err != nil {
		return n, err
	}
	return n, pw.Close()
}

// Parquet writer bounds. The writer holds one row group's compressed pages
// plus one page buffer per column, so both are kept small: at the default
// 256 KiB pages and unbounded row groups a 1M-row table took ~80 MB of heap,
// at these ~16 MB whatever the row count. 32,768 rows is still large enough
// for readers to scan row groups in parallel.
const (
	rowGroupRows = 32_768
	pageBuffer   = 64 << 10
	batchRows    = 1024 // rows per WriteRows call
)

func definition(v any) int {
	if v == nil {
		return 0
	}
	return 1
}

func parquetValue(c *schema.Column, v any) parquet.Value {
	switch x := v.(type) {
	case int64:
		return parquet.Int64Value(x)
	case float64:
		return parquet.DoubleValue(x)
	case bool:
		return parquet.BooleanValue(x)
	case string:
		// The value only reads the bytes (the writer copies them into its
		// pages), so it can view the string's own memory instead of a copy
		// per value.
		return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(x), len(x)))
	case time.Time:
		if c.Type == schema.Date {
			return parquet.Int32Value(daysSinceEpoch(x))
		}
		return parquet.Int64Value(x.UnixMicro())
	}
	return parquet.NullValue()
}

func (parquetCodec) read(path string, cols []*schema.Column, fn func(row map[string]any) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return err
	}
	index := map[string]int{}
	for i, fl := range pf.Schema().Fields() {
		index[fl.Name()] = i
	}
	r := parquet.NewReader(pf)
	defer r.Close()
	buf := make([]parquet.Row, 256)
	for {
		n, err := r.ReadRows(buf)
		for _, pr := range buf[:n] {
			row := make(map[string]any, len(cols))
			for _, c := range cols {
				i, ok := index[c.Name]
				if !ok || i >= len(pr) || pr[i].IsNull() {
					row[c.Name] = nil
					continue
				}
				row[c.Name] = fromParquet(c, pr[i])
			}
			if err := fn(row); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func fromParquet(c *schema.Column, v parquet.Value) any {
	switch c.Type {
	case schema.BigInt:
		return v.Int64()
	case schema.Double:
		return v.Double()
	case schema.Bool:
		return v.Boolean()
	case schema.Timestamp:
		return time.UnixMicro(v.Int64()).UTC()
	case schema.Date:
		return dateFromDays(v.Int32())
	}
	return strings.Clone(string(v.ByteArray()))
}

// appendJSONValue appends v, a value of column c, as encoding/json would
// marshal it (timestamps as RFC 3339 text, dates as YYYY-MM-DD, a JSON
// column's text compacted): the common kinds by hand, the rest through
// json.Marshal.
func appendJSONValue(b []byte, c *schema.Column, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		if c.Type == schema.Binary {
			// Bytes as base64 text, as encoding/json writes a []byte.
			return jsontext.AppendString(b, base64.StdEncoding.EncodeToString([]byte(x))), nil
		}
		if c.Type != schema.JSON {
			return jsontext.AppendString(b, x), nil
		}
		v = json.RawMessage(x) // compacted (and checked) by json.Marshal
	case time.Time:
		// Formatted straight into b: a date or RFC 3339 time holds nothing
		// JSON escapes (digits, "-", ":", ".", "+", "T", "Z").
		layout := time.RFC3339Nano
		if c.Type == schema.Date {
			layout = time.DateOnly
		}
		b = append(b, '"')
		return append(x.AppendFormat(b, layout), '"'), nil
	}
	m, err := json.Marshal(v)
	return append(b, m...), err
}
