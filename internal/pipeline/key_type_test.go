package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/normalize"
	"github.com/restload/restload/internal/pipeline"
)

// keyFlipAPI serves /items in pages; pages[phase][page-1] is the page's
// JSON list.
type keyFlipAPI struct {
	phase atomic.Int32
	pages [][]string
}

func (a *keyFlipAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pages := a.pages[a.phase.Load()]
	body := "[]"
	if page >= 1 && page <= len(pages) {
		body = pages[page-1]
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, body)
}

const keyFlipPipeline = `pipeline: {name: keyflip, dataset: %s}
source:
  client:
    base_url: %s
    paginator: {type: page_number, base_page: 1, total_path: null, stop_after_empty_page: true}
  resources:
    - name: items
      endpoint: {path: items}
      primary_key: id
      merge_key: sku
      write_disposition: merge
`

// TestKeyTypeFlip: a primary key (and a merge key) that is an integer on
// one page and a string on the next lands in its own column, as text,
// never NULL; a merge run again duplicates nothing. When the key column was
// loaded as bigint before, a string key fails the resource with a clear
// error and leaves the table as it was.
func TestKeyTypeFlip(t *testing.T) {
	for name, open := range driftDestinations(t) {
		t.Run(name, func(t *testing.T) {
			dest, dataset := open(t)
			api := &keyFlipAPI{pages: [][]string{
				{
					`[{"id": 1, "sku": 10, "v": "a"}, {"id": 2, "sku": 20, "v": "b"}, {"id": 3, "sku": 30, "v": "c"}]`,
					`[{"id": "x9", "sku": "s9", "v": "d"}, {"id": "3", "sku": "30", "v": "c2"}]`,
				},
			}}
			srv := httptest.NewServer(api)
			defer srv.Close()
			work := t.TempDir()
			p, err := config.Parse(filepath.Join(work, "keyflip.yaml"), []byte(fmt.Sprintf(keyFlipPipeline, dataset, srv.URL)), config.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"id=1 sku=10 v=a", "id=2 sku=20 v=b", "id=3 sku=30 v=c2", "id=x9 sku=s9 v=d"}
			for run := 1; run <= 2; run++ {
				if _, err := pipeline.Run(context.Background(), p, pipeline.Options{Destination: dest, WorkDir: work}); err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				d, err := destination.Open(context.Background(), dest, dataset)
				if err != nil {
					t.Fatal(err)
				}
				got := tableRows(t, d, "items", "id", "sku", "v", "id__v_text", "sku__v_text")
				d.Close()
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("run %d: items:\n%s\nwant:\n%s", run, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
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
			api := &keyFlipAPI{pages: [][]string{
				{`[{"id": 1, "sku": 10, "v": "a"}, {"id": 2, "sku": 20, "v": "b"}]`},
				{`[{"id": 1, "sku": 10, "v": "a2"}]`, `[{"id": "x9", "sku": 90, "v": "d"}]`},
			}}
			srv := httptest.NewServer(api)
			defer srv.Close()
			work := t.TempDir()
			p, err := config.Parse(filepath.Join(work, "keyflip.yaml"), []byte(fmt.Sprintf(keyFlipPipeline, dataset, srv.URL)), config.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pipeline.Run(context.Background(), p, pipeline.Options{Destination: dest, WorkDir: work}); err != nil {
				t.Fatal(err)
			}
			api.phase.Store(1)
			_, err = pipeline.Run(context.Background(), p, pipeline.Options{Destination: dest, WorkDir: work})
			var kerr *normalize.KeyTypeError
			if !errors.As(err, &kerr) || !strings.Contains(err.Error(), `key column "id" of table "items" is bigint`) || !strings.Contains(err.Error(), "page 2: record 1") {
				t.Fatalf("second run: %v; want a key type error for id on page 2", err)
			}
			d, err := destination.Open(context.Background(), dest, dataset)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			got := tableRows(t, d, "items", "id", "v", "id__v_text")
			if want := []string{"id=1 v=a", "id=2 v=b"}; strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("items after the failed run:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// muxOf serves each API at its path prefix.
func muxOf(apis map[string]*keyFlipAPI) http.Handler {
	mux := http.NewServeMux()
	for prefix, api := range apis {
		mux.Handle(prefix, api)
	}
	return mux
}
