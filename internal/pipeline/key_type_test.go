package pipeline_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/restload/restload/internal/normalize"
)

const keyFlipResource = `      primary_key: id
      merge_key: sku
      write_disposition: merge
`

// TestKeyTypeFlip: a primary key (and a merge key) that is an integer on
// one page and a string on the next lands in its own column, as text,
// never NULL; a merge run again duplicates nothing.
func TestKeyTypeFlip(t *testing.T) {
	for name, open := range driftDestinations(t) {
		t.Run(name, func(t *testing.T) {
			dest, dataset := open(t)
			srv := httptest.NewServer(&pagesAPI{pages: [][]string{{
				`[{"id": 1, "sku": 10, "v": "a"}, {"id": 2, "sku": 20, "v": "b"}, {"id": 3, "sku": 30, "v": "c"}]`,
				`[{"id": "x9", "sku": "s9", "v": "d"}, {"id": "3", "sku": "30", "v": "c2"}]`,
			}}})
			defer srv.Close()
			r := newItemsRun(t, dest, dataset, srv.URL, keyFlipResource)
			for run := 1; run <= 2; run++ {
				if err := r.run(); err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				wantRows(t, "items", r.rows(t, "items", "id", "sku", "v", "id__v_text", "sku__v_text"),
					[]string{"id=1 sku=10 v=a", "id=2 sku=20 v=b", "id=3 sku=30 v=c2", "id=x9 sku=s9 v=d"})
			}
		})
	}
}

// TestKeyTypeFlipStored: the key column was loaded as bigint; a string key
// cannot go into it, so the resource fails, saying why, before anything of
// it is loaded.
func TestKeyTypeFlipStored(t *testing.T) {
	for name, open := range driftDestinations(t) {
		t.Run(name, func(t *testing.T) {
			dest, dataset := open(t)
			api := &pagesAPI{pages: [][]string{
				{`[{"id": 1, "sku": 10, "v": "a"}, {"id": 2, "sku": 20, "v": "b"}]`},
				{`[{"id": 1, "sku": 10, "v": "a2"}]`, `[{"id": "x9", "sku": 90, "v": "d"}]`},
			}}
			srv := httptest.NewServer(api)
			defer srv.Close()
			r := newItemsRun(t, dest, dataset, srv.URL, keyFlipResource)
			if err := r.run(); err != nil {
				t.Fatal(err)
			}
			api.phase.Store(1)
			err := r.run()
			var kerr *normalize.KeyTypeError
			if !errors.As(err, &kerr) || !strings.Contains(err.Error(), `key column "id" of table "items" is bigint`) || !strings.Contains(err.Error(), "page 2: record 1") {
				t.Fatalf("second run: %v; want a key type error for id on page 2", err)
			}
			wantRows(t, "items after the failed run", r.rows(t, "items", "id", "v", "id__v_text"), []string{"id=1 v=a", "id=2 v=b"})
		})
	}
}
