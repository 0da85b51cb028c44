package normalize

import (
	"fmt"
	"testing"
	"time"

	"github.com/restload/restload/internal/schema"
)

// TestScd2Ids: under Spec.Scd2 a root row's _dlt_id is dlt's row hash of
// its columns (whatever the order of the record's keys; lists are child
// rows, not part of it), a child row's the hash of its parent's id, table
// and position, both as dlt's digest128 makes them (the expected ids were
// computed with Python's hashlib.shake_128, base64, 10 bytes); a record
// repeated in the load is dropped; the validity columns get From and To.
func TestScd2Ids(t *testing.T) {
	from := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	s := &schema.Schema{}
	n, err := New(s, Spec{Resource: "items", WriteDisposition: schema.Merge, Scd2: &Scd2{ValidFrom: "_dlt_valid_from", ValidTo: "_dlt_valid_to", From: from}}, "1.0")
	if err != nil {
		t.Fatal(err)
	}
	out := collect(t, n, records(t, `[{"v": "a", "id": 1, "tags": ["x", "y"]}, {"id": 1, "v": "a", "tags": ["x", "y"]}, {"id": 2, "v": "b"}]`))
	got := map[string][]string{}
	for _, e := range out {
		tb := s.Table(e.table)
		var id, vf, vt any
		for i, c := range tb.Columns[:len(e.row)] {
			switch c.Name {
			case schema.ColID:
				id = e.row[i]
			case "_dlt_valid_from":
				vf = e.row[i]
			case "_dlt_valid_to":
				vt = e.row[i]
			}
		}
		got[e.table] = append(got[e.table], fmt.Sprintf("%v %v %v", id, vf, vt))
	}
	want := map[string][]string{
		"items":       {"lknCZL/MuP9QCg 2024-02-01T00:00:00Z <nil>", fmt.Sprintf("%s 2024-02-01T00:00:00Z <nil>", got["items"][len(got["items"])-1][:14])},
		"items__tags": {"blEtAEueiEhAdg <nil> <nil>", "DtYimZJol4VeKw <nil> <nil>"},
	}
	if len(got["items"]) != 2 || got["items"][0] != want["items"][0] || got["items"][1] != want["items"][1] {
		t.Errorf("items rows = %q, want %q (the repeated record dropped)", got["items"], want["items"])
	}
	if fmt.Sprint(got["items__tags"]) != fmt.Sprint(want["items__tags"]) {
		t.Errorf("items__tags rows = %q, want %q", got["items__tags"], want["items__tags"])
	}
	for _, c := range []string{"_dlt_valid_from", "_dlt_valid_to"} {
		if col := s.Table("items").Column(c); col == nil || col.Type != schema.Timestamp {
			t.Errorf("column %s = %+v, want a timestamp", c, col)
		}
	}
}
