package pipeline_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/destination"
	_ "github.com/restload/restload/internal/destination/files"
	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/pipeline"
)

// TestMergeIntoFilesAppends checks that merge resources bound for a file
// destination run as dlt's filesystem destination does: their records are
// appended, with one warning per run that names the resources and says so.
func TestMergeIntoFilesAppends(t *testing.T) {
	ctx := context.Background()
	api, err := mockapi.Start(ctx, "127.0.0.1:0", mockapi.Options{Records: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	for _, scheme := range []string{"parquet", "jsonl"} {
		t.Run(scheme, func(t *testing.T) {
			p := examplePipeline(t, api)
			dir := t.TempDir()
			dest := scheme + ":" + dir
			for run := 1; run <= 2; run++ {
				var logs bytes.Buffer
				_, err := pipeline.Run(ctx, p, pipeline.Options{Destination: dest, WorkDir: filepath.Join(dir, "work"), Resources: []string{"files", "teams"},
					Logger: slog.New(slog.NewTextHandler(&logs, nil))})
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				if n := strings.Count(logs.String(), "write_disposition merge"); n != 1 {
					t.Errorf("run %d: %d warnings about merge, want 1:\n%s", run, n, logs.String())
				}
				for _, want := range []string{"resources files, teams use write_disposition merge", "appended"} {
					if !strings.Contains(logs.String(), want) {
						t.Errorf("run %d: the warning does not say %q:\n%s", run, want, logs.String())
					}
				}
			}
			d, err := destination.Open(ctx, dest, p.Pipeline.Dataset)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			n := 0
			if err := d.Read(ctx, "files", func(map[string]any) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
			if n != 20 {
				t.Errorf("files has %d rows after two runs of 10 records, want 20 (appended)", n)
			}
		})
	}
}
