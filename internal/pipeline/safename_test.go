package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/pipeline"
)

// TestUnsafePipelineNameWritesNothing: a Pipeline whose name or dataset is a
// path (set in code, past Load's check) fails before any file is created: no
// work dir, default DuckDB file or dataset directory outside the project.
func TestUnsafePipelineNameWritesNothing(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "project")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "p.yaml")
	src := "source:\n  client: {base_url: http://127.0.0.1:1/}\n  resources: [items]\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := config.Load(file, config.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	escape := filepath.Join(root, "escaped")
	rel, _ := filepath.Rel(filepath.Join(dir, ".restload"), escape)
	p.Pipeline.Name = rel
	t.Chdir(dir)
	_, err = pipeline.Run(context.Background(), p, pipeline.Options{})
	if err == nil || !strings.Contains(err.Error(), "pipeline.name") {
		t.Fatalf("err = %v, want a pipeline.name error", err)
	}
	p.Pipeline.Name = "ok"
	p.Pipeline.Dataset = rel
	_, err = pipeline.Run(context.Background(), p, pipeline.Options{Destination: "jsonl:" + filepath.Join(dir, "out")})
	if err == nil || !strings.Contains(err.Error(), "pipeline.dataset") {
		t.Fatalf("err = %v, want a pipeline.dataset error", err)
	}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if e.Name() != "project" {
			t.Errorf("run created %s outside the project", filepath.Join(root, e.Name()))
		}
	}
}
