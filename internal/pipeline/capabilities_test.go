package pipeline_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/restload/restload/internal/destination/files"
	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/pipeline"
)

// TestMergeIntoFilesRefusedBeforeExtract checks that a merge resource bound
// for a file destination fails before any request reaches the API, with a
// message naming the resources and what to do instead.
func TestMergeIntoFilesRefusedBeforeExtract(t *testing.T) {
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
			_, err := pipeline.Run(ctx, p, pipeline.Options{Destination: scheme + ":" + dir, WorkDir: filepath.Join(dir, "work"), Resources: []string{"files", "teams"}})
			if err == nil {
				t.Fatal("merge into files ran")
			}
			for _, want := range []string{"resources files, teams use write_disposition merge", scheme + ":" + dir, "append or replace"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if s := api.Server.Stats(); s.DataRequests != 0 || s.TokenRequests != 0 {
				t.Errorf("the API was called before the refusal: %+v", s)
			}
		})
	}
}
