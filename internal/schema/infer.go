package schema

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Row values. Inference and coercion take values decoded by encoding/json
// with UseNumber (nil, bool, string, json.Number, []any, map[string]any) and
// produce the values destinations accept (see destination.RowSource):
//
//	bigint     int64
//	double     float64
//	decimal    string holding the exact decimal text, never in exponent
//	           form ("12.50", "123456789012345678901234567890")
//	bool       bool
//	text       string
//	timestamp  time.Time in UTC
//	date       time.Time at midnight UTC
//	json       string holding compact JSON (object keys sorted)
//	time       string "15:04:05" with up to 6 fractional digits ("15:04:05.25")
//	binary     string holding the bytes themselves

// Hint overrides inference for one column, as a resource's `columns` entry
// does in dlt. A zero DataType leaves the type to inference.
type Hint struct {
	DataType DataType
	// Nullable, when set, says whether the column may hold nulls.
	Nullable   *bool
	PrimaryKey bool
	// Precision, Scale, Timezone and Unique are dlt's column hints of the
	// same names; see Column.
	Precision, Scale *int
	Timezone         *bool
	Unique           bool
}

// dataTypeNames maps the data_type names a config may use to a DataType:
// dlt's names, written as dlt writes them (dlt's schema rejects "BIGINT").
var dataTypeNames = map[string]DataType{
	"text":      Text,
	"double":    Double,
	"bool":      Bool,
	"timestamp": Timestamp,
	"bigint":    BigInt,
	"json":      JSON,
	"complex":   JSON, // dlt's name before 1.0
	"date":      Date,
	"decimal":   Decimal,
	"time":      Time,
	"binary":    Binary,
}

var (
	// dataTypeAliases are type names from SQL and other tools that users
	// write for dlt's data types.
	dataTypeAliases = map[string]string{
		"int": "bigint", "integer": "bigint", "long": "bigint", "int64": "bigint", "smallint": "bigint",
		"float": "double", "float64": "double", "real": "double", "number": "double", "numeric": "decimal",
		"boolean": "bool", "string": "text", "str": "text", "varchar": "text",
		"datetime": "timestamp", "timestamptz": "timestamp", "object": "json", "array": "json",
	}
	// unsupportedTypes are dlt data types restload does not load yet.
	unsupportedTypes = []string{"wei"}
)

// DataTypes lists the data_type names restload loads, sorted ("complex",
// dlt's older name of json, is accepted too).
func DataTypes() []string {
	return []string{"bigint", "binary", "bool", "date", "decimal", "double", "json", "text", "time", "timestamp"}
}

// DataTypeError is ParseDataType's error: Name is not a data type restload
// loads. Alias is the data type it is another tool's name for ("integer":
// "bigint"), if any; Unsupported says Name is a dlt type restload does not
// load yet.
type DataTypeError struct {
	Name        string
	Alias       string
	Unsupported bool
}

func (e *DataTypeError) Error() string {
	return fmt.Sprintf("unknown data_type %q (want one of %s)", e.Name, strings.Join(DataTypes(), ", "))
}

// ParseDataType returns the DataType named s, as a `data_type` hint writes
// it: dlt's names text, double, bool, timestamp, bigint, json, date,
// decimal, time and binary, and "complex" as the older name of json, exactly as dlt spells
// them. Anything else is a *DataTypeError.
func ParseDataType(s string) (DataType, error) {
	if t, ok := dataTypeNames[s]; ok {
		return t, nil
	}
	e := &DataTypeError{Name: s, Unsupported: slices.Contains(unsupportedTypes, s)}
	if a, ok := dataTypeAliases[strings.ToLower(s)]; ok {
		e.Alias = a
	}
	return "", e
}

// InferType returns the type a column would get from its first value v:
// bool; a json.Number is bigint when it is an integer within int64, decimal
// when it is an integer beyond that (or a number too large for a double),
// double otherwise; a string is timestamp when it is an RFC 3339 timestamp
// with a time zone, date when it is YYYY-MM-DD, text otherwise; an object or
// list is json. InferType returns "" for nil, whose type is unknown.
func InferType(v any) DataType {
	switch v := v.(type) {
	case nil:
		return ""
	case bool:
		return Bool
	case json.Number:
		return inferNumber(string(v))
	case string:
		if _, ok := parseTimestamp(v); ok {
			return Timestamp
		}
		if _, ok := parseDate(v); ok {
			return Date
		}
		return Text
	case int, int8, int16, int32, int64, uint8, uint16, uint32:
		return BigInt
	case float32, float64:
		return Double
	case time.Time:
		return Timestamp
	case map[string]any, []any:
		return JSON
	}
	return Text
}

// inferNumber types the JSON number s: bigint when it is an integer that
// fits 64 bits, double when a float64 holds it (without overflowing or
// vanishing to 0), decimal when DECIMAL(38,9) does, else text: a number
// beyond every numeric type (a 30-digit integer, 1e400, 1e-400) is kept as
// written rather than failing the load.
func inferNumber(s string) DataType {
	if isIntegerText(s) {
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			return BigInt
		}
		if fitsDecimal(s) {
			return Decimal
		}
		return Text
	}
	if _, ok := parseDouble(s); ok {
		return Double
	}
	if d, ok := decimalText(s); ok && fitsDecimal(d.(string)) {
		return Decimal
	}
	return Text
}

// DecimalIntDigits is how many digits before the point the default
// decimal column, DECIMAL(38,9), holds.
const DecimalIntDigits = 38 - 9

// fitsDecimal reports whether the plain decimal text d (no exponent) fits
// DECIMAL(38,9) without failing or vanishing: at most DecimalIntDigits
// digits before the point, and not a non-zero value that rounds to 0 at 9
// decimals. More decimals than 9 are rounded, as for any decimal column.
func fitsDecimal(d string) bool {
	whole, frac, _ := strings.Cut(strings.TrimLeft(d, "+-"), ".")
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > DecimalIntDigits {
		return false
	}
	if whole != "" || strings.Trim(frac, "0") == "" {
		return true
	}
	return strings.Trim(frac[:min(len(frac), 9)], "0") != ""
}

// parseDouble parses the JSON number s as a float64, failing when it
// overflows or when a non-zero number underflows to 0 (1e-400), which
// strconv.ParseFloat answers with 0 and no error.
func parseDouble(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	if f == 0 {
		mant, _, _ := strings.Cut(strings.ToLower(s), "e")
		if strings.Trim(mant, "+-0.") != "" {
			return 0, false
		}
	}
	return f, true
}

func isIntegerText(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Coerce returns v as the row value of a column of type t, and ok=false when
// v does not fit, in which case the caller stores it in a variant column
// instead. Coerce never loses information: it widens a bigint into a
// double or decimal column and a date into a timestamp column, and accepts
// timestamp strings into timestamp columns, but a double does not go into a
// bigint column, nor a number into a text column. A string that looks like a
// timestamp stays text in a text column. nil fits every type.
func Coerce(v any, t DataType) (any, bool) {
	if v == nil {
		return nil, true
	}
	switch t {
	case Text:
		// Return v itself: boxing the string again would allocate.
		switch n := v.(type) {
		case string:
			return v, true
		case json.Number:
			// A number beyond every numeric type is text, as written.
			if inferNumber(string(n)) == Text {
				return string(n), true
			}
		}
	case BigInt:
		switch v := v.(type) {
		case json.Number:
			i, err := strconv.ParseInt(string(v), 10, 64)
			return i, err == nil
		case int64:
			return v, true
		case int:
			return int64(v), true
		case int32:
			return int64(v), true
		}
	case Double:
		switch v := v.(type) {
		case json.Number:
			if inferNumber(string(v)) == Text {
				return nil, false
			}
			return parseDouble(string(v))
		case float64:
			return v, true
		case int64:
			return float64(v), true
		case int:
			return float64(v), true
		}
	case Decimal:
		switch v := v.(type) {
		case json.Number:
			return fittingDecimal(string(v))
		case int64:
			return strconv.FormatInt(v, 10), true
		case int:
			return strconv.Itoa(v), true
		case float64:
			if math.IsInf(v, 0) || math.IsNaN(v) {
				return nil, false
			}
			return fittingDecimal(strconv.FormatFloat(v, 'f', -1, 64))
		}
	case Bool:
		if _, ok := v.(bool); ok {
			return v, true
		}
	case Timestamp:
		switch v := v.(type) {
		case string:
			if ts, ok := parseTimestamp(v); ok {
				return ts, true
			}
			if d, ok := parseDate(v); ok {
				return d, true
			}
		case time.Time:
			return v.UTC(), true
		}
	case Date:
		if s, ok := v.(string); ok {
			if d, ok := parseDate(s); ok {
				return d, true
			}
		}
	case JSON:
		switch v.(type) {
		case map[string]any, []any:
			return compactJSON(v)
		}
	case Time:
		switch v := v.(type) {
		case string:
			return parseTimeOfDay(v)
		case time.Time:
			return FormatTimeOfDay(v), true
		}
	case Binary:
		if s, ok := v.(string); ok {
			return parseBinary(s)
		}
	}
	return nil, false
}

// timeOfDayLayouts are the times of day a time column takes, as ISO 8601
// writes them (dlt's ensure_pendulum_time): hours and minutes, seconds,
// and fractions.
var timeOfDayLayouts = []string{"15:04:05.999999999", "15:04"}

// parseTimeOfDay reads an ISO 8601 time of day ("08:30", "08:30:15.25")
// into its canonical form.
func parseTimeOfDay(s string) (any, bool) {
	for _, layout := range timeOfDayLayouts {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return FormatTimeOfDay(t), true
		}
	}
	return nil, false
}

// FormatTimeOfDay is t's time of day in the canonical form of a time
// value: "15:04:05", with up to 6 fractional digits.
func FormatTimeOfDay(t time.Time) string {
	return t.Format("15:04:05.999999")
}

// parseBinary reads bytes written in text as dlt reads them: "0x" and hex
// digits, or standard base64 (padded).
func parseBinary(s string) (any, bool) {
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		b, err := hex.DecodeString(h)
		return string(b), err == nil
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	return string(b), err == nil
}

// Convert is Coerce for a column whose type a hint fixed: the user asked
// for that type, so Convert also converts between representations when
// nothing is lost: anything into text (numbers by their exact text, bools
// as true/false, objects and lists as JSON), numeric strings into numbers,
// "true"/"false" into bool, timestamps without a zone (taken as UTC) and
// Unix seconds into timestamp, and any value into json. ok=false still
// means the value goes to a variant column.
func Convert(v any, t DataType) (any, bool) {
	if out, ok := Coerce(v, t); ok {
		return out, true
	}
	switch t {
	case Text:
		switch v := v.(type) {
		case json.Number:
			return string(v), true
		case int64:
			return strconv.FormatInt(v, 10), true
		case float64:
			return strconv.FormatFloat(v, 'g', -1, 64), true
		case bool:
			return strconv.FormatBool(v), true
		case map[string]any, []any:
			return compactJSON(v)
		case time.Time:
			return v.UTC().Format(time.RFC3339Nano), true
		}
	case BigInt:
		switch v := v.(type) {
		case string:
			i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return i, err == nil
		case json.Number:
			// 3.0 or 1e3: keep it when it is a whole number that fits.
			r, ok := new(big.Rat).SetString(string(v))
			if ok && r.IsInt() && r.Num().IsInt64() {
				return r.Num().Int64(), true
			}
		}
	case Double:
		if s, ok := v.(string); ok {
			return parseDouble(strings.TrimSpace(s))
		}
	case Decimal:
		if s, ok := v.(string); ok {
			return fittingDecimal(strings.TrimSpace(s))
		}
	case Bool:
		if s, ok := v.(string); ok {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "true":
				return true, true
			case "false":
				return false, true
			}
		}
	case Timestamp:
		switch v := v.(type) {
		case string:
			for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
				if ts, err := time.Parse(layout, strings.TrimSpace(v)); err == nil {
					return ts, true
				}
			}
		case json.Number:
			f, err := strconv.ParseFloat(string(v), 64)
			if err == nil && !math.IsInf(f, 0) {
				sec, frac := math.Modf(f)
				return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
			}
		}
	case JSON:
		return compactJSON(v)
	}
	return nil, false
}

func compactJSON(v any) (any, bool) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, false
	}
	return string(bytes.TrimRight(buf.Bytes(), "\n")), true
}

// parseTimestamp parses an RFC 3339 timestamp that carries a zone
// (2024-05-01T12:00:00Z, 2024-05-01 12:00:00.5+02:00, ...+0200).
func parseTimestamp(s string) (time.Time, bool) {
	// Cheap shape check first: this runs on every new string column.
	if len(s) < 20 || len(s) > 40 || s[4] != '-' || s[7] != '-' || s[13] != ':' {
		return time.Time{}, false
	}
	switch s[10] {
	case 'T':
	case 't', ' ':
		s = s[:10] + "T" + s[11:]
	default:
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999Z0700", s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

// parseDate parses YYYY-MM-DD.
func parseDate(s string) (time.Time, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// decimalText returns the exact decimal text of a JSON number, rewriting
// exponent form (1.5e3 -> 1500) because not every database casts it.
func decimalText(s string) (any, bool) {
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	if !hasExp {
		return s, isDecimalText(s)
	}
	exp, err := strconv.Atoi(expText)
	if err != nil || !isDecimalText(mant) || exp > 1000 || exp < -1000 {
		return nil, false
	}
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimLeft(mant, "+-")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	point := len(intPart) + exp
	var out string
	switch {
	case point <= 0:
		out = "0." + strings.Repeat("0", -point) + digits
	case point >= len(digits):
		out = digits + strings.Repeat("0", point-len(digits))
	default:
		out = digits[:point] + "." + digits[point:]
	}
	whole, rest, hasPoint := strings.Cut(out, ".")
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	if hasPoint {
		out = whole + "." + rest
	} else {
		out = whole
	}
	if neg {
		out = "-" + out
	}
	return out, true
}

// fittingDecimal is decimalText for a number that fits DECIMAL(38,9)
// (see fitsDecimal).
func fittingDecimal(s string) (any, bool) {
	d, ok := decimalText(s)
	if !ok || !fitsDecimal(d.(string)) {
		return nil, false
	}
	return d, true
}

func isDecimalText(s string) bool {
	s = strings.TrimLeft(s, "+-")
	intPart, frac, _ := strings.Cut(s, ".")
	return isIntegerText(intPart + frac)
}
