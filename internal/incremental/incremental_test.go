package incremental

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

func recs(vals ...any) []map[string]any {
	out := make([]map[string]any, len(vals))
	for i, v := range vals {
		out[i] = map[string]any{"id": i, "ts": v}
	}
	return out
}

// kept runs the values through a cursor begun from st and returns the
// values kept and the next state.
func kept(t *testing.T, s *Spec, st *State, vals ...any) ([]string, *State) {
	t.Helper()
	c, err := s.Begin(st)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs(vals...) {
		ok, err := c.Keep(r)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			out = append(out, fmt.Sprint(r["ts"]))
		}
	}
	return out, c.State()
}

func TestKeepRanges(t *testing.T) {
	n := func(s string) json.Number { return json.Number(s) }
	tests := []struct {
		name string
		spec Spec
		vals []any
		want []string
		last any
	}{
		{"max closed start", Spec{CursorPath: "ts", InitialValue: 2}, []any{n("1"), n("2"), n("5"), n("3")}, []string{"2", "5", "3"}, n("5")},
		{"max open start", Spec{CursorPath: "ts", InitialValue: 2, StartOpen: true}, []any{n("1"), n("2"), n("3")}, []string{"3"}, n("3")},
		{"end open", Spec{CursorPath: "ts", InitialValue: 1, EndValue: 3}, []any{n("1"), n("2"), n("3")}, []string{"1", "2"}, nil},
		{"end closed", Spec{CursorPath: "ts", InitialValue: 1, EndValue: 3, EndClosed: true}, []any{n("3"), n("4")}, []string{"3"}, nil},
		{"min", Spec{CursorPath: "ts", InitialValue: 5, Min: true}, []any{n("6"), n("5"), n("1")}, []string{"5", "1"}, n("1")},
		{"timestamps", Spec{CursorPath: "ts", InitialValue: "2024-01-02T00:00:00Z"},
			[]any{"2024-01-01T23:00:00Z", "2024-01-02T01:00:00+01:00", "2024-01-03T00:00:00Z"}, []string{"2024-01-02T01:00:00+01:00", "2024-01-03T00:00:00Z"}, "2024-01-03T00:00:00Z"},
		{"no initial value", Spec{CursorPath: "ts"}, []any{"b", "a"}, []string{"b", "a"}, "b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, st := kept(t, &tc.spec, nil, tc.vals...)
			if !slices.Equal(got, tc.want) {
				t.Errorf("kept %v, want %v", got, tc.want)
			}
			var last any
			if st != nil {
				last = st.LastValue
			}
			if last != tc.last {
				t.Errorf("last value %v, want %v", last, tc.last)
			}
		})
	}
}

func TestDedupAtBoundaryAndLag(t *testing.T) {
	s := &Spec{CursorPath: "ts", InitialValue: "2024-01-01T00:00:00Z"}
	_, st := kept(t, s, nil, "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z")
	// The same record at the boundary is dropped; a different one at the
	// same instant is kept.
	c, _ := s.Begin(st)
	same := map[string]any{"id": 1, "ts": "2024-01-05T00:00:00Z"}
	other := map[string]any{"id": 9, "ts": "2024-01-05T00:00:00Z"}
	if ok, _ := c.Keep(same); ok {
		t.Error("the record loaded last time at the boundary was kept again")
	}
	if ok, _ := c.Keep(other); !ok {
		t.Error("a new record at the boundary was dropped")
	}

	lagged := &Spec{CursorPath: "ts", Lag: 3600}
	c, err := lagged.Begin(&State{LastValue: "2024-01-05T00:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := c.StartValue(); v != "2024-01-04T23:00:00Z" {
		t.Errorf("lagged start %v, want 2024-01-04T23:00:00Z", v)
	}
	days := &Spec{CursorPath: "ts", Lag: 2}
	c, _ = days.Begin(&State{LastValue: "2024-01-05"})
	if v, _ := c.StartValue(); v != "2024-01-03" {
		t.Errorf("lagged date %v, want 2024-01-03", v)
	}
}

func TestConvertAndMissing(t *testing.T) {
	for conv, want := range map[string]any{"epoch": int64(1704067200), "epoch_ms": int64(1704067200000), "iso": "2024-01-01T00:00:00Z", "date": "2024-01-01"} {
		c, _ := (&Spec{CursorPath: "ts", InitialValue: "2024-01-01T00:00:00Z", Convert: conv}).Begin(nil)
		if v, err := c.StartValue(); err != nil || v != want {
			t.Errorf("convert %s: %v %v, want %v", conv, v, err, want)
		}
	}
	c, _ := (&Spec{CursorPath: "ts", InitialValue: 1704067200, Convert: "iso"}).Begin(nil)
	if v, _ := c.StartValue(); v != "2024-01-01T00:00:00Z" {
		t.Errorf("iso of unix seconds: %v", v)
	}
	c, _ = (&Spec{CursorPath: "ts"}).Begin(nil)
	if _, err := c.Keep(map[string]any{"id": 1}); err == nil {
		t.Error("a record without a cursor value was accepted (default raise)")
	}
	c, _ = (&Spec{CursorPath: "ts", OnMissing: "exclude"}).Begin(nil)
	if ok, err := c.Keep(map[string]any{"id": 1}); ok || err != nil {
		t.Errorf("exclude: %v %v", ok, err)
	}
	if _, err := Compare(json.Number("1"), "x"); err == nil {
		t.Error("a number compared with text")
	}
}

func TestStoredRoundTrip(t *testing.T) {
	in := &Stored{Parents: map[string]*State{ParentKey(map[string]string{"resources.a.id": "1", "b": "x"}): {LastValue: "v"}}}
	b, _ := json.Marshal(in)
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if out.Parents["b=x&resources.a.id=1"] == nil {
		t.Errorf("round trip %s gave %+v", b, out)
	}
}
