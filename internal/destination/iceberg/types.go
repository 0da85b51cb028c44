package iceberg

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	iceberg "github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/restload/restload/internal/schema"
)

// icebergType maps a restload column type to the Iceberg type it is stored
// as. Decimals and JSON are strings: a decimal's text exactly as loaded
// (restload's decimals need not fit decimal(38, s)), JSON as its text.
func icebergType(c *schema.Column) (iceberg.Type, error) {
	switch c.Type {
	case schema.BigInt:
		return iceberg.PrimitiveTypes.Int64, nil
	case schema.Double:
		return iceberg.PrimitiveTypes.Float64, nil
	case schema.Bool:
		return iceberg.PrimitiveTypes.Bool, nil
	case schema.Text, schema.Decimal, schema.JSON, schema.Time:
		return iceberg.PrimitiveTypes.String, nil
	case schema.Binary:
		return nil, fmt.Errorf("column %q: the Iceberg destination does not load binary columns yet", c.Name)
	case schema.Timestamp:
		return iceberg.PrimitiveTypes.TimestampTz, nil
	case schema.Date:
		return iceberg.PrimitiveTypes.Date, nil
	}
	return nil, fmt.Errorf("column %q: unknown data type %q", c.Name, c.Type)
}

// docPrefix marks, in an Iceberg field's doc, the restload type stored in
// it, for people and tools reading the table.
const docPrefix = "restload type: "

// icebergSchema is the Iceberg schema of t: every column optional, ids
// from 1 in column order.
func icebergSchema(t *schema.Table) (*iceberg.Schema, error) {
	fields := make([]iceberg.NestedField, len(t.Columns))
	for i, c := range t.Columns {
		typ, err := icebergType(c)
		if err != nil {
			return nil, err
		}
		fields[i] = iceberg.NestedField{ID: i + 1, Name: c.Name, Type: typ, Doc: docPrefix + string(c.Type)}
	}
	return iceberg.NewSchema(0, fields...), nil
}

// arrowType is the Arrow type restload writes a column as: the one
// iceberg-go maps the column's Iceberg type to.
func arrowType(c *schema.Column) (arrow.DataType, error) {
	typ, err := icebergType(c)
	if err != nil {
		return nil, err
	}
	return table.TypeToArrowType(typ, false, false)
}

// arrowSchema is the Arrow schema of records written for cols.
func arrowSchema(cols []*schema.Column) (*arrow.Schema, error) {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		typ, err := arrowType(c)
		if err != nil {
			return nil, err
		}
		fields[i] = arrow.Field{Name: c.Name, Type: typ, Nullable: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

// appendValue appends a canonical value (see destination.ConverterFor) to
// b, whose type arrowType chose for the value's column.
func appendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.Int64Builder:
		if x, ok := v.(int64); ok {
			b.Append(x)
			return nil
		}
	case *array.Float64Builder:
		if x, ok := v.(float64); ok {
			b.Append(x)
			return nil
		}
	case *array.BooleanBuilder:
		if x, ok := v.(bool); ok {
			b.Append(x)
			return nil
		}
	case *array.StringBuilder:
		if x, ok := v.(string); ok {
			b.Append(x)
			return nil
		}
	case *array.TimestampBuilder:
		if x, ok := v.(time.Time); ok {
			b.Append(arrow.Timestamp(x.UnixMicro()))
			return nil
		}
	case *array.Date32Builder:
		if x, ok := v.(time.Time); ok {
			b.Append(arrow.Date32FromTime(x))
			return nil
		}
	}
	return fmt.Errorf("cannot store %T in an Arrow %s column", v, b.Type())
}

// value returns row i of a as restload reads it back: nil, int64, float64,
// bool, string or time.Time (UTC). Decimal columns of tables written by
// other tools read as their text.
func value(a arrow.Array, i int) (any, error) {
	if a.IsNull(i) {
		return nil, nil
	}
	switch a := a.(type) {
	case *array.Int64:
		return a.Value(i), nil
	case *array.Int32:
		return int64(a.Value(i)), nil
	case *array.Float64:
		return a.Value(i), nil
	case *array.Float32:
		return float64(a.Value(i)), nil
	case *array.Boolean:
		return a.Value(i), nil
	case *array.String:
		return a.Value(i), nil
	case *array.LargeString:
		return a.Value(i), nil
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC(), nil
	case *array.Date32:
		return a.Value(i).ToTime().UTC(), nil
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale), nil
	}
	return nil, fmt.Errorf("cannot read an Arrow %s column", a.DataType())
}

// batcher builds Arrow records of at most batchRows rows and hands each to
// emit, releasing it after: only one record's rows are in memory.
type batcher struct {
	sc   *arrow.Schema
	b    *array.RecordBuilder
	rows int
	emit func(arrow.RecordBatch) error
}

// batchRows is how many rows a record holds: large enough for Parquet's
// column chunks and to compress well when spilled, small enough that one
// batch of wide rows stays a few megabytes.
const batchRows = 4 * 1024

func newBatcher(sc *arrow.Schema, emit func(arrow.RecordBatch) error) *batcher {
	return &batcher{sc: sc, b: array.NewRecordBuilder(memory.DefaultAllocator, sc), emit: emit}
}

// add appends a row of canonical values, one per field of the schema.
func (bt *batcher) add(row []any) error {
	for i, v := range row {
		if err := appendValue(bt.b.Field(i), v); err != nil {
			return fmt.Errorf("column %q: %w", bt.sc.Field(i).Name, err)
		}
	}
	bt.rows++
	if bt.rows >= batchRows {
		return bt.flush()
	}
	return nil
}

func (bt *batcher) flush() error {
	if bt.rows == 0 {
		return nil
	}
	rec := bt.b.NewRecordBatch()
	bt.rows = 0
	defer rec.Release()
	return bt.emit(rec)
}

// done emits the last record and releases the builder.
func (bt *batcher) done() error {
	defer bt.b.Release()
	return bt.flush()
}

// discard releases the builder and its rows.
func (bt *batcher) discard() { bt.b.Release() }
