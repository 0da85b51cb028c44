package incremental

import (
	"encoding/json"
	"fmt"
	"sync"
)

// Tracker owns one resource's incremental state in a run: the document
// stored by earlier runs and the one to store after this run, for the
// resource itself or, for a child resource, per parent record (keyed by
// ParentKey). Every run of the resource (one per parent record for a
// child) Begins a Cursor from it and hands the cursor back with Done. Safe
// for concurrent use.
type Tracker struct {
	spec  *Spec
	child bool
	was   *Stored // nil: nothing stored, or a backfill

	mu   sync.Mutex
	next *Stored // nil until a run ended with a state
}

// NewTracker returns the tracker of a resource with spec, a child resource
// when child is set, from its stored document raw (nil on a first run; not
// read for a backfill).
func NewTracker(spec *Spec, child bool, raw json.RawMessage) (*Tracker, error) {
	t := &Tracker{spec: spec, child: child}
	if !spec.Backfill() {
		st, err := Decode(raw)
		if err != nil {
			return nil, err
		}
		// dlt keeps a state per cursor path: another cursor starts afresh.
		if st.CursorPath == "" || st.CursorPath == spec.CursorPath {
			t.was = st
		}
	}
	return t, nil
}

// Begin starts a run: of the resource, or of a child resource for the
// parent record whose placeholders took the values parent. It returns the
// cursor and the key under which Done keeps its state.
func (t *Tracker) Begin(parent map[string]string) (*Cursor, string, error) {
	var st *State
	var key string
	if t.child {
		key = ParentKey(parent)
	}
	if t.was != nil {
		if t.child {
			st = t.was.Parents[key]
		} else {
			st = &t.was.State
		}
	}
	c, err := t.spec.Begin(st)
	return c, key, err
}

// Done keeps the state c, begun with key, ended with. Call it only for a
// run that succeeded.
func (t *Tracker) Done(key string, c *Cursor) {
	next := c.State()
	if next == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.next == nil {
		t.next = &Stored{}
		if t.was != nil && t.child {
			// Parents not seen in this run keep their state.
			t.next.Parents = make(map[string]*State, len(t.was.Parents))
			for k, v := range t.was.Parents {
				t.next.Parents[k] = v
			}
		}
	}
	if !t.child {
		t.next.State = *next
		return
	}
	if t.next.Parents == nil {
		t.next.Parents = map[string]*State{}
	}
	t.next.Parents[key] = next
}

// Encode returns the document to store after the run, and false when no
// run ended with a state (nothing changes then).
func (t *Tracker) Encode() (json.RawMessage, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.next == nil {
		return nil, false, nil
	}
	// What dlt keeps beside the last value: the cursor it belongs to, the
	// initial value and the start value of the run that moved it.
	t.next.CursorPath, t.next.InitialValue, t.next.StartValue = t.spec.CursorPath, t.spec.InitialValue, t.spec.InitialValue
	if t.was != nil && t.was.LastValue != nil {
		t.next.StartValue = t.was.LastValue
		// dlt moves start_value only with last_value: a run that found
		// nothing newer leaves the stored state as it was.
		if t.was.StartValue != nil && sameJSON(t.was.LastValue, t.next.LastValue) {
			t.next.StartValue = t.was.StartValue
		}
	}
	if t.next.Hashes == nil {
		t.next.Hashes = []string{}
	}
	b, err := json.Marshal(t.next)
	if err != nil {
		return nil, false, fmt.Errorf("encode incremental state: %w", err)
	}
	return b, true, nil
}

// sameJSON reports whether a and b encode to the same JSON (a value read
// back from the store and one from a record may differ in Go type only).
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
