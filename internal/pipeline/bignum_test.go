package pipeline_test

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestNumbersBeyondDecimal: numbers no numeric column holds (a 30-digit
// integer, 1e400, 1e-400, -1e400) are kept as written in a text variant
// column, and the rest of the resource loads, into every destination;
// run again, the same.
func TestNumbersBeyondDecimal(t *testing.T) {
	srv := httptest.NewServer(&pagesAPI{pages: [][]string{{
		`[{"id": 1, "amount": 5, "big": 12345678901234567890123456789},
		  {"id": 2, "amount": 123456789012345678901234567890},
		  {"id": 3, "amount": 1e400, "big": 1e400},
		  {"id": 4, "amount": 1e-400},
		  {"id": 5, "amount": -1e400},
		  {"id": 6, "amount": -123456789012345678901234567890123456789012, "big": 1}]`,
		`[{"id": 7, "amount": 7}]`,
	}}})
	defer srv.Close()
	var want []string // each row twice: two runs
	for _, w := range []string{
		"id=1 amount=5 big=12345678901234567890123456789",
		"id=2 amount__v_text=123456789012345678901234567890",
		"id=3 amount__v_text=1e400 big__v_text=1e400",
		"id=4 amount__v_text=1e-400",
		"id=5 amount__v_text=-1e400",
		"id=6 amount__v_text=-123456789012345678901234567890123456789012 big=1",
		"id=7 amount=7",
	} {
		want = append(want, w, w)
	}
	for name, open := range allDestinations() {
		t.Run(name, func(t *testing.T) {
			dest, dataset := open(t)
			r := newItemsRun(t, dest, dataset, srv.URL, "")
			for run := 1; run <= 2; run++ {
				if err := r.run(); err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
			}
			got := r.rows(t, "items", "id", "amount", "amount__v_text", "big", "big__v_text")
			for i := range got {
				// DECIMAL(38,9) reads back with its scale in databases.
				got[i] = strings.ReplaceAll(got[i], ".000000000", "")
			}
			wantRows(t, "items", got, want)
		})
	}
}
