package pipeline_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/config"
)

// TestJSONBodyKeyPlaceholder: a parent reference written only in a key of
// the json body makes the resource a child at validation and is rendered
// at run time, once per parent record; one naming an unknown parent is
// rejected when the file is read, at its position.
func TestJSONBodyKeyPlaceholder(t *testing.T) {
	child := `
    - name: search
      endpoint:
        path: search
        method: POST
        json: {"q_{resources.repos.id}": "is:open"}
        data_selector: results`
	f := newForge(t)
	p := forgePipeline(t, f, forgeHead+child)
	if got := p.Source.Resources[1].Parent(); got != "repos" {
		t.Fatalf("search parent %q, want repos", got)
	}
	dest := filepath.Join(t.TempDir(), "forge.duckdb")
	if _, err := runForge(t, p, dest); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, r := range f.requests("/search") {
		bodies = append(bodies, strings.TrimSpace(r.Body))
	}
	want := []string{`{"q_1":"is:open"}`, `{"q_2":"is:open"}`, `{"q_3":"is:open"}`}
	if strings.Join(bodies, " ") != strings.Join(want, " ") {
		t.Errorf("search bodies %q, want %q", bodies, want)
	}

	src := strings.ReplaceAll(forgeHead+strings.ReplaceAll(child, "resources.repos", "resources.repo"), "BASE", "http://127.0.0.1:1")
	_, err := config.Parse("forge.yaml", []byte(src), config.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	var ce config.Errors
	if !errors.As(err, &ce) {
		t.Fatalf("error %v, want config errors", err)
	}
	if want := `forge.yaml:15:15: source.resources[1].endpoint.json: unknown parent resource in {resources.repo.id} (did you mean "repos"?)`; !strings.Contains(err.Error(), want) {
		t.Errorf("error:\n%v\nwant it to contain\n%s", err, want)
	}
}
