package pipeline_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/pipeline"
)

const namesPipeline = `pipeline: {name: names, dataset: %s}
source:
  client:
    base_url: %s
    paginator: {type: page_number, base_page: 1, total_path: null, stop_after_empty_page: true}
  resources:
    - name: items
      endpoint: {path: items}
`

// TestColumnNamesStableAcrossRuns: fooBar loaded into foo_bar in run 1
// stays in foo_bar in later runs, where a field spelled foo_bar, arriving
// first, alone or with fooBar, gets foo_bar_1.
func TestColumnNamesStableAcrossRuns(t *testing.T) {
	for name, open := range driftDestinations(t) {
		t.Run(name, func(t *testing.T) {
			dest, dataset := open(t)
			api := &keyFlipAPI{pages: [][]string{
				{`[{"n": 1, "fooBar": "camel1"}]`},
				{`[{"n": 2, "foo_bar": "snake2"}]`, `[{"n": 3, "foo_bar": "snake3", "fooBar": "camel3"}]`},
			}}
			srv := httptest.NewServer(api)
			defer srv.Close()
			work := t.TempDir()
			p, err := config.Parse(filepath.Join(work, "names.yaml"), []byte(fmt.Sprintf(namesPipeline, dataset, srv.URL)), config.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for phase := range 2 {
				api.phase.Store(int32(phase))
				if _, err := pipeline.Run(context.Background(), p, pipeline.Options{Destination: dest, WorkDir: work}); err != nil {
					t.Fatalf("run %d: %v", phase+1, err)
				}
			}
			d, err := destination.Open(context.Background(), dest, dataset)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			got := tableRows(t, d, "items", "n", "foo_bar", "foo_bar_1")
			want := []string{"n=1 foo_bar=camel1", "n=2 foo_bar_1=snake2", "n=3 foo_bar=camel3 foo_bar_1=snake3"}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
