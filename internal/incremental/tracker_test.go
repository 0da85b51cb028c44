package incremental

import (
	"encoding/json"
	"testing"
)

// TestTrackerPerParent: a child's tracker begins each parent record from
// that parent's stored state, keeps what each parent's run ended with, and
// keeps the stored state of parents this run did not see; a tracker no
// run ended with has nothing to store.
func TestTrackerPerParent(t *testing.T) {
	spec := &Spec{CursorPath: "ts", InitialValue: json.Number("0")}
	stored := json.RawMessage(`{"last_value": null, "parents": {"p=1": {"last_value": 5}, "p=9": {"last_value": 7}}}`)
	tr, err := NewTracker(spec, true, stored)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := tr.Encode(); ok {
		t.Fatal("Encode before any run: ok, want nothing to store")
	}
	for _, parent := range []string{"1", "2"} {
		c, key, err := tr.Begin(map[string]string{"p": parent})
		if err != nil {
			t.Fatal(err)
		}
		start, _ := c.StartValue()
		want := map[string]string{"1": "5", "2": "0"}[parent]
		if key != "p="+parent || jsonString(start) != want {
			t.Errorf("parent %s: key %q start %v, want key p=%s start %s", parent, key, start, parent, want)
		}
		for _, ts := range []int{6, 8} {
			if _, err := c.Keep(map[string]any{"ts": json.Number(jsonString(ts))}); err != nil {
				t.Fatal(err)
			}
		}
		tr.Done(key, c)
	}
	raw, ok, err := tr.Encode()
	if err != nil || !ok {
		t.Fatalf("Encode: %v %v", ok, err)
	}
	got, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"p=1": "8", "p=2": "8", "p=9": "7"} {
		if st := got.Parents[key]; st == nil || jsonString(st.LastValue) != want {
			t.Errorf("state of %s = %+v, want last value %s (stored: %s)", key, st, want, raw)
		}
	}
}

// TestTrackerBackfillReadsNothing: a backfill (end value set) neither reads
// the stored document (even a corrupt one) nor stores one.
func TestTrackerBackfillReadsNothing(t *testing.T) {
	spec := &Spec{CursorPath: "ts", InitialValue: json.Number("0"), EndValue: json.Number("10")}
	tr, err := NewTracker(spec, false, json.RawMessage(`{corrupt`))
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := tr.Begin(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Keep(map[string]any{"ts": json.Number("3")})
	tr.Done("", c)
	if _, ok, _ := tr.Encode(); ok {
		t.Error("a backfill stored state")
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestTrackerStartValueMovesWithLastValue: as dlt, start_value becomes the
// stored last_value only when the run moved last_value; a run that found
// nothing newer stores the state as it was.
func TestTrackerStartValueMovesWithLastValue(t *testing.T) {
	spec := &Spec{CursorPath: "ts", InitialValue: json.Number("0")}
	for _, c := range []struct {
		seen      int
		wantStart string
	}{{5, "0"}, {8, "5"}} {
		stored := json.RawMessage(`{"cursor_path": "ts", "initial_value": 0, "last_value": 5, "start_value": 0, "unique_hashes": []}`)
		tr, err := NewTracker(spec, false, stored)
		if err != nil {
			t.Fatal(err)
		}
		cur, key, err := tr.Begin(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cur.Keep(map[string]any{"ts": json.Number(jsonString(c.seen))}); err != nil {
			t.Fatal(err)
		}
		tr.Done(key, cur)
		raw, _, err := tr.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		if jsonString(got.StartValue) != c.wantStart {
			t.Errorf("a run seeing %d: start_value %v, want %s (stored: %s)", c.seen, got.StartValue, c.wantStart, raw)
		}
	}
}
