package pipeline_test

import (
	"net/http/httptest"
	"testing"
)

// TestColumnNamesStableAcrossRuns: fooBar loaded into foo_bar in run 1
// stays in foo_bar in later runs, where a field spelled foo_bar, arriving
// first, alone or with fooBar, gets foo_bar_1.
func TestColumnNamesStableAcrossRuns(t *testing.T) {
	for name, open := range driftDestinations(t) {
		t.Run(name, func(t *testing.T) {
			dest, dataset := open(t)
			api := &pagesAPI{pages: [][]string{
				{`[{"n": 1, "fooBar": "camel1"}]`},
				{`[{"n": 2, "foo_bar": "snake2"}]`, `[{"n": 3, "foo_bar": "snake3", "fooBar": "camel3"}]`},
			}}
			srv := httptest.NewServer(api)
			defer srv.Close()
			r := newItemsRun(t, dest, dataset, srv.URL, "")
			for phase := range 2 {
				api.phase.Store(int32(phase))
				if err := r.run(); err != nil {
					t.Fatalf("run %d: %v", phase+1, err)
				}
			}
			wantRows(t, "items", r.rows(t, "items", "n", "foo_bar", "foo_bar_1"),
				[]string{"n=1 foo_bar=camel1", "n=2 foo_bar_1=snake2", "n=3 foo_bar=camel3 foo_bar_1=snake3"})
		})
	}
}
