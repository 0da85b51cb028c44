// Package incremental implements dlt's incremental loading for REST
// resources: a cursor field whose highest (or lowest) value seen is kept
// between runs, a start value sent to the API so it returns only newer
// records, and filtering of the records that fall outside the range anyway.
//
// A run of one resource (or, for a child resource, of one parent record's
// children) is a Cursor: Begin it from the stored State, ask it for the
// start and end values to put in the request, pass every record through
// Keep, and read the next State at the end. The caller stores that state
// with the rows it belongs to (restload writes both in one destination
// transaction), so a failed load never moves the cursor. A Tracker owns a
// resource's state within a run: the stored document, the cursor of each
// run (one per parent record for a child resource) and the document to
// store after it.
//
// Semantics, following dlt:
//   - The start value is the stored last value (minus lag), or
//     initial_value on the first run. With last_value_func max, records
//     whose cursor is below the start are dropped (range_start closed, the
//     default, keeps a cursor equal to the start; open drops it).
//   - end_value bounds the range on the other side (range_end open, the
//     default, drops a cursor equal to the end). A resource with an
//     end_value is a backfill: its state is neither read nor written.
//   - With range_start closed and no lag, records whose cursor equals the
//     stored last value and that were loaded last time (same primary key,
//     or same content when there is no primary key) are dropped, so a run
//     with nothing new loads nothing.
//   - lag moves the start back (forward for min): seconds for timestamps,
//     days for dates, units for numbers.
//   - Cursor values compare as numbers when both are numbers, as instants
//     when both are RFC 3339 timestamps or dates, else as strings.
//   - convert changes only the values put into requests, never the stored
//     state: epoch (unix seconds), epoch_ms, iso (RFC 3339 in UTC) and date
//     (YYYY-MM-DD).
package incremental

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/dltstate"
	"github.com/restload/restload/internal/incremental/converter"
	"github.com/restload/restload/internal/response"
)

// Converters are the names convert accepts (package converter owns them).
var Converters = converter.Names()

// Spec is an endpoint's incremental settings, from its incremental block or
// a {type: incremental} param.
type Spec struct {
	CursorPath   string
	InitialValue any
	EndValue     any
	// Min is true for last_value_func min.
	Min bool
	Lag float64
	// StartOpen is range_start: open; EndClosed is range_end: closed.
	StartOpen, EndClosed bool
	Convert              string
	// StartParam and EndParam, when set, are query params that get the start
	// and end values. Param is the name of a {type: incremental} param.
	StartParam, EndParam, Param string
	// OnMissing is what to do with a record without a cursor value: raise
	// (the default), include or exclude.
	OnMissing string
	// PrimaryKey identifies records for deduplication at the start value.
	PrimaryKey []string
	// RowOrder is "asc" or "desc" when the API returns records in that
	// order of the cursor (as Min orders them), "" when unknown. See
	// Cursor.Closed.
	RowOrder string
}

// FromResource returns r's incremental spec, or nil when it has none.
func FromResource(r *config.Resource) *Spec {
	e := r.Endpoint
	if e == nil {
		return nil
	}
	if inc := e.Incremental; inc != nil {
		return &Spec{
			CursorPath: inc.CursorPath, InitialValue: inc.InitialValue, EndValue: inc.EndValue,
			Min: inc.LastValueFunc == "min", Lag: inc.Lag,
			StartOpen: inc.RangeStart == "open", EndClosed: inc.RangeEnd == "closed",
			Convert: inc.Convert, StartParam: inc.StartParam, EndParam: inc.EndParam,
			OnMissing: inc.OnCursorValueMissing, PrimaryKey: r.PrimaryKey, RowOrder: inc.RowOrder,
		}
	}
	for name, v := range e.Params {
		m, ok := v.(map[string]any)
		if !ok || m["type"] != "incremental" {
			continue
		}
		s := &Spec{Param: name, PrimaryKey: r.PrimaryKey}
		s.CursorPath, _ = m["cursor_path"].(string)
		s.InitialValue = m["initial_value"]
		s.EndValue = m["end_value"]
		s.Min = m["last_value_func"] == "min"
		s.Lag = toFloat(m["lag"])
		s.StartOpen = m["range_start"] == "open"
		s.EndClosed = m["range_end"] == "closed"
		s.Convert, _ = m["convert"].(string)
		s.OnMissing, _ = m["on_cursor_value_missing"].(string)
		s.RowOrder, _ = m["row_order"].(string)
		return s
	}
	return nil
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// Backfill reports whether the spec has an end value: such runs neither
// read nor write state.
func (s *Spec) Backfill() bool { return s.EndValue != nil }

// State is what is kept between runs for one resource or one parent
// record.
type State struct {
	LastValue any `json:"last_value"`
	// Hashes identify the records loaded whose cursor equals LastValue
	// (dlt's unique_hashes, computed as dlt does: dltstate.UniqueHash).
	// dlt requires the key, so it is written even when empty.
	Hashes []string `json:"unique_hashes"`
}

// Stored is the state document of one resource: State for a resource
// without a parent, Parents (keyed by the parent's placeholder values, see
// ParentKey) for a child resource.
//
// Its JSON is the incremental state dlt keeps for one cursor
// (initial_value, last_value, unique_hashes, start_value) plus what dlt has
// no place for: cursor_path, which the load layer turns into the key dlt
// stores the document under, and parents.
type Stored struct {
	CursorPath   string `json:"cursor_path,omitempty"`
	InitialValue any    `json:"initial_value"`
	State
	StartValue any               `json:"start_value"`
	Parents    map[string]*State `json:"parents,omitempty"`
}

// Key is the state key of resource name.
func Key(resource string) string { return "incremental." + resource }

// Decode reads a stored document; nil or empty gives an empty one.
func Decode(raw json.RawMessage) (*Stored, error) {
	st := &Stored{}
	if len(raw) == 0 {
		return st, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(st); err != nil {
		return nil, fmt.Errorf("decode incremental state: %w", err)
	}
	return st, nil
}

// ParentKey builds the key of one parent record's state from the values
// its placeholders took, e.g. "resources.issues.number=12".
func ParentKey(bindings map[string]string) string {
	keys := make([]string, 0, len(bindings))
	for k := range bindings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + bindings[k]
	}
	return strings.Join(parts, "&")
}

// Cursor follows one run. It is not safe for concurrent use.
type Cursor struct {
	spec *Spec
	// from is the stored last value (nil on a first run).
	from   any
	start  any // lower bound (upper for min) after lag; nil: none
	dedup  map[string]bool
	last   any
	hashes map[string]bool
	// legacy is set when the stored hashes are the ones restload kept
	// before it computed dlt's: a record is then also checked by those.
	legacy bool
	// closed is set when RowOrder says no later record can be in range.
	closed bool
}

// Begin starts a run from st (nil on a first run, and always nil for a
// backfill).
func (s *Spec) Begin(st *State) (*Cursor, error) {
	c := &Cursor{spec: s}
	if st != nil && st.LastValue != nil && !s.Backfill() {
		c.from = st.LastValue
		c.last = st.LastValue
		start, err := s.applyLag(st.LastValue)
		if err != nil {
			return nil, err
		}
		c.start = start
		if !s.StartOpen && s.Lag == 0 && len(st.Hashes) > 0 {
			c.dedup = make(map[string]bool, len(st.Hashes))
			for _, h := range st.Hashes {
				c.dedup[h] = true
			}
		}
		c.hashes = map[string]bool{}
		for _, h := range st.Hashes {
			c.hashes[h] = true
			c.legacy = c.legacy || isLegacyHash(h)
		}
	} else {
		c.start = s.InitialValue
	}
	return c, nil
}

// StartValue is {incremental.start_value}: the start of the range, after
// lag and convert; nil when there is none.
func (c *Cursor) StartValue() (any, error) { return convert(c.spec.Convert, c.start) }

// EndValue is {incremental.end_value}, after convert; nil when there is
// none.
func (c *Cursor) EndValue() (any, error) { return convert(c.spec.Convert, c.spec.EndValue) }

// Keep reports whether rec is within the range, and records its cursor
// value.
func (c *Cursor) Keep(rec map[string]any) (bool, error) {
	v, ok := response.Lookup(rec, c.spec.CursorPath)
	if !ok || v == nil {
		switch c.spec.OnMissing {
		case "include":
			return true, nil
		case "exclude":
			return false, nil
		}
		return false, fmt.Errorf("incremental: record has no value at cursor_path %q (set on_cursor_value_missing to include or exclude such records)", c.spec.CursorPath)
	}
	if c.start != nil {
		cmp, err := Compare(v, c.start)
		if err != nil {
			return false, err
		}
		if c.spec.Min {
			cmp = -cmp
		}
		if cmp < 0 || (cmp == 0 && c.spec.StartOpen) {
			// As dlt: descending, a record at or before the start means
			// the rest are too.
			c.closed = c.closed || c.spec.RowOrder == "desc"
			return false, nil
		}
	}
	if end := c.spec.EndValue; end != nil {
		cmp, err := Compare(v, end)
		if err != nil {
			return false, err
		}
		if c.spec.Min {
			cmp = -cmp
		}
		if cmp > 0 || (cmp == 0 && !c.spec.EndClosed) {
			c.closed = c.closed || c.spec.RowOrder == "asc"
			return false, nil
		}
	}
	var h string
	if c.dedup != nil || !c.spec.StartOpen {
		h = c.hash(rec)
	}
	if c.dedup != nil {
		if cmp, err := Compare(v, c.from); err == nil && cmp == 0 && (c.dedup[h] || (c.legacy && c.dedup[legacyHash(rec, c.spec.PrimaryKey)])) {
			return false, nil
		}
	}
	if c.last == nil {
		c.last = v
		c.hashes = map[string]bool{h: true}
		return true, nil
	}
	cmp, err := Compare(v, c.last)
	if err != nil {
		return false, err
	}
	if c.spec.Min {
		cmp = -cmp
	}
	switch {
	case cmp > 0:
		c.last = v
		c.hashes = map[string]bool{h: true}
	case cmp == 0:
		c.hashes[h] = true
	}
	return true, nil
}

// Closed reports whether a record passed to Keep showed, by the spec's
// RowOrder, that the records still to come are all out of range: past
// end_value ascending, at or before the start descending. The caller then
// stops paging, as dlt closes the resource; what was kept is stored as usual.
func (c *Cursor) Closed() bool { return c.closed }

// State returns the state to store after a successful run: the last value
// seen and the hashes of the records at it. It returns nil for a backfill.
func (c *Cursor) State() *State {
	if c.spec.Backfill() || c.last == nil {
		return nil
	}
	st := &State{LastValue: c.last, Hashes: []string{}}
	if !c.spec.StartOpen {
		for h := range c.hashes {
			if h != "" {
				st.Hashes = append(st.Hashes, h)
			}
		}
		sort.Strings(st.Hashes)
	}
	return st
}

func (c *Cursor) hash(rec map[string]any) string {
	return dltstate.UniqueHash(rec, c.spec.PrimaryKey)
}

// legacyHash is the hash restload kept before it computed dlt's.
func legacyHash(rec map[string]any, primaryKey []string) string {
	var b []byte
	if len(primaryKey) > 0 {
		vals := make([]any, len(primaryKey))
		for i, k := range primaryKey {
			vals[i] = rec[k]
		}
		b, _ = json.Marshal(vals)
	} else {
		b, _ = json.Marshal(rec) // map keys are sorted: stable
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// isLegacyHash reports whether h is a legacyHash (24 hex digits; dlt's
// are 20 base64 characters).
func isLegacyHash(h string) bool {
	if len(h) != 24 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

// Compare orders two cursor values: numbers numerically, timestamps and
// dates as instants, other strings lexically.
func Compare(a, b any) (int, error) {
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			switch {
			case x < y:
				return -1, nil
			case x > y:
				return 1, nil
			}
			return 0, nil
		}
	}
	sa, aok := a.(string)
	sb, bok := b.(string)
	if aok && bok {
		if ta, _, ok := parseTime(sa); ok {
			if tb, _, ok := parseTime(sb); ok {
				return ta.Compare(tb), nil
			}
		}
		return strings.Compare(sa, sb), nil
	}
	if ta, ok := a.(time.Time); ok {
		if tb, _, ok := parseTime(fmt.Sprint(b)); ok {
			return ta.Compare(tb), nil
		}
	}
	return 0, fmt.Errorf("incremental: cannot compare cursor values %v (%T) and %v (%T)", a, a, b, b)
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		// A numeric string compares with a number (an initial_value
		// written in quotes, say), but two strings compare as strings.
		return 0, false
	}
	return 0, false
}

var layouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04:05Z07:00", time.DateOnly}

func parseTime(s string) (time.Time, string, bool) {
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, l, true
		}
	}
	return time.Time{}, "", false
}

// applyLag moves v back by the lag (forward for min).
func (s *Spec) applyLag(v any) (any, error) {
	if s.Lag == 0 {
		return v, nil
	}
	lag := s.Lag
	if s.Min {
		lag = -lag
	}
	if f, ok := number(v); ok {
		if n, isNum := v.(json.Number); isNum {
			if i, err := n.Int64(); err == nil && lag == math.Trunc(lag) {
				return i - int64(lag), nil
			}
		}
		return f - lag, nil
	}
	if str, ok := v.(string); ok {
		t, layout, ok := parseTime(str)
		if !ok {
			return nil, fmt.Errorf("incremental: lag needs a number, timestamp or date cursor, got %q", str)
		}
		if layout == time.DateOnly {
			return t.AddDate(0, 0, -int(lag)).Format(layout), nil
		}
		return t.Add(-time.Duration(lag * float64(time.Second))).Format(layout), nil
	}
	return nil, fmt.Errorf("incremental: lag needs a number, timestamp or date cursor, got %T", v)
}

// convert applies a named converter to a value put into a request.
func convert(name string, v any) (any, error) {
	if v == nil || name == "" {
		return v, nil
	}
	t, err := asTime(v)
	if err != nil {
		return nil, fmt.Errorf("incremental: convert %s: %w", name, err)
	}
	if out, ok := converter.Apply(name, t); ok {
		return out, nil
	}
	return nil, fmt.Errorf("incremental: unknown convert %q (want one of %s)", name, strings.Join(Converters, ", "))
}

// asTime reads a timestamp string, a date, or a number of unix seconds.
func asTime(v any) (time.Time, error) {
	if f, ok := number(v); ok {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	if s, ok := v.(string); ok {
		if t, _, ok := parseTime(s); ok {
			return t, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return asTime(f)
		}
	}
	if t, ok := v.(time.Time); ok {
		return t, nil
	}
	return time.Time{}, errors.New("value " + fmt.Sprint(v) + " is neither a timestamp, a date nor unix seconds")
}
