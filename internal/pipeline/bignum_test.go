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
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/pipeline"
)

// TestNumbersBeyondDecimal: numbers no numeric column holds (a 30-digit
// integer, 1e400, 1e-400, -1e400) are kept as written in a text variant
// column, and the rest of the resource loads, into every destination;
// run again, the same.
func TestNumbersBeyondDecimal(t *testing.T) {
	dests := map[string]func(t *testing.T) (string, string){
		"duckdb": func(t *testing.T) (string, string) {
			return "duckdb:" + filepath.Join(t.TempDir(), "num.duckdb"), "num"
		},
		"postgres": func(t *testing.T) (string, string) {
			url := destinationtest.PostgresURL(t)
			dataset := destinationtest.Dataset(t)
			destinationtest.DropOnCleanup(t, url, dataset)
			return url, dataset
		},
		"jsonl":   func(t *testing.T) (string, string) { return "jsonl:" + t.TempDir(), "num" },
		"parquet": func(t *testing.T) (string, string) { return "parquet:" + t.TempDir(), "num" },
	}
	api := &keyFlipAPI{pages: [][]string{{
		`[{"id": 1, "amount": 5, "big": 12345678901234567890123456789},
		  {"id": 2, "amount": 123456789012345678901234567890},
		  {"id": 3, "amount": 1e400, "big": 1e400},
		  {"id": 4, "amount": 1e-400},
		  {"id": 5, "amount": -1e400},
		  {"id": 6, "amount": -123456789012345678901234567890123456789012, "big": 1}]`,
		`[{"id": 7, "amount": 7}]`,
	}}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	want := []string{
		"id=1 amount=5 big=12345678901234567890123456789",
		"id=2 amount__v_text=123456789012345678901234567890",
		"id=3 amount__v_text=1e400 big__v_text=1e400",
		"id=4 amount__v_text=1e-400",
		"id=5 amount__v_text=-1e400",
		"id=6 amount__v_text=-123456789012345678901234567890123456789012 big=1",
		"id=7 amount=7",
	}
	for name, open := range dests {
		t.Run(name, func(t *testing.T) {
			dest, dataset := open(t)
			work := t.TempDir()
			p, err := config.Parse(filepath.Join(work, "num.yaml"), []byte(fmt.Sprintf(namesPipeline, dataset, srv.URL)), config.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for run := 1; run <= 2; run++ {
				if _, err := pipeline.Run(context.Background(), p, pipeline.Options{Destination: dest, WorkDir: work}); err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
			}
			d, err := destination.Open(context.Background(), dest, dataset)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			got := tableRows(t, d, "items", "id", "amount", "amount__v_text", "big", "big__v_text")
			for i := range got {
				// DECIMAL(38,9) reads back with its scale in databases.
				got[i] = strings.ReplaceAll(got[i], ".000000000", "")
			}
			var wantTwice []string
			for _, w := range want {
				wantTwice = append(wantTwice, w, w)
			}
			if strings.Join(got, "\n") != strings.Join(wantTwice, "\n") {
				t.Errorf("items:\n%s\nwant (each twice):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
