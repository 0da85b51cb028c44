package pipeline_test

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/pipeline"
)

// TestProcessingSteps: filter and map, in order, on a parent and on its
// child; the child sees the parent's records after the parent's steps.
func TestProcessingSteps(t *testing.T) {
	f := newForge(t)
	dest := filepath.Join(t.TempDir(), "forge.duckdb")
	p := forgePipeline(t, f, `
pipeline: {name: forge, dataset: forge}
source:
  client:
    base_url: BASE
  resources:
    - name: repos
      endpoint: {path: orgs/acme/repos, paginator: single_page}
      processing_steps:
        - filter: "!archived && name != 'deleted'"
        - map: '{"slug": upper(name) + "-" + string(id), "updated_at": nil}'
    - name: issues
      endpoint:
        path: repos/{resources.repos.id}/issues
        data_selector: items
        paginator: json_link
      processing_steps:
        - filter: state == 'open'
        - map: '{"title": nil, "label": record["state"] + "#" + string(number)}'
        - filter: number > 102
`)
	if _, err := runForge(t, p, dest); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, dest, "forge", "repos", "id", "slug", "updated_at"); !slices.Equal(got, []string{"1 WIDGETS-1 <nil>"}) {
		t.Errorf("repos %q, want only repo 1, slug WIDGETS-1, no updated_at", got)
	}
	if got := paths(f.requests("/repos/")); !slices.Equal(got, []string{"/repos/1/issues", "/repos/1/issues", "/repos/1/issues"}) {
		t.Errorf("issue requests %q: children ran for filtered-out parents", got)
	}
	if got := rows(t, dest, "forge", "issues", "number", "label", "title"); !slices.Equal(got, []string{"104 open#104 <nil>"}) {
		t.Errorf("issues %q, want 104 (open, > 102) with label and no title", got)
	}
}

// TestProcessingStepErrors: a syntax error is reported at its file:line
// before any request; a map that gives no object fails the resource.
func TestProcessingStepErrors(t *testing.T) {
	f := newForge(t)
	p := forgePipeline(t, f, `
pipeline: {name: forge, dataset: forge}
source:
  client:
    base_url: BASE
  resources:
    - name: repos
      endpoint: {path: orgs/acme/repos, paginator: single_page}
      processing_steps:
        - filter: "id >"
`)
	_, err := runForge(t, p, filepath.Join(t.TempDir(), "x.duckdb"))
	var ce config.Errors
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "forge.yaml:10:19: source.resources[0].processing_steps[0].filter: invalid filter expression") {
		t.Errorf("error %v, want a config error at forge.yaml:10:19", err)
	}
	if n := len(f.requests("/")); n != 0 {
		t.Errorf("%d requests sent before the expression error", n)
	}

	p = forgePipeline(t, f, `
pipeline: {name: forge, dataset: forge}
source:
  client:
    base_url: BASE
  resources:
    - name: repos
      endpoint: {path: orgs/acme/repos, paginator: single_page}
      processing_steps:
        - map: name
`)
	_, err = runForge(t, p, filepath.Join(t.TempDir(), "x.duckdb"))
	if err == nil || !strings.Contains(err.Error(), `resource repos: page 1: record 1: processing_steps: map "name": gave string, want an object`) {
		t.Errorf("error %v, want the map's type error", err)
	}
}

// TestResponseActions: 404 of a deleted parent's child, a 204, a content
// match on a 2xx body and on an error body are ignored; any other non-2xx
// is an error naming resource, page and the redacted URL.
func TestResponseActions(t *testing.T) {
	f := newForge(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "forge.duckdb")
	p := forgePipeline(t, f, `
pipeline: {name: forge, dataset: forge}
retry: {max_retries: 0}
source:
  client:
    base_url: BASE
    auth: {type: api_key, name: key, api_key: "${env.FORGE_KEY}", location: query}
  resources:
    - name: repos
      endpoint: {path: orgs/acme/repos, paginator: single_page}
    - name: topics
      endpoint:
        path: repos/{resources.repos.id}/topics
        data_selector: names
        response_actions: [{status_code: 404, action: ignore}]
    - name: events
      endpoint: {path: events}
    - name: events_ignored
      endpoint: {path: events, response_actions: [{status_code: 204, action: ignore}]}
    - name: reports
      endpoint: {path: reports, response_actions: [{content: not ready, action: ignore}]}
    - name: quota
      endpoint: {path: quota, response_actions: [{status_code: 400, content: quota exhausted, action: ignore}]}
    - name: forbidden
      endpoint: {path: forbidden, params: {access: "${secrets.FORGE_KEY}"}, response_actions: [{status_code: 403, content: something else, action: ignore}]}
`)
	sum, err := runForge(t, p, dest)
	var pe *pipeline.Error
	if !errors.As(err, &pe) || len(pe.Failed) != 1 {
		t.Fatalf("error %v, want only forbidden to fail", err)
	}
	msg := err.Error()
	for _, want := range []string{"resource forbidden: page 1: ", "403", "/forbidden?access=", "no access"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, forgeEnv["FORGE_KEY"]) {
		t.Errorf("error shows the api key:\n%s", msg)
	}
	status := map[string]string{}
	records := map[string]int64{}
	for _, rs := range sum.Resources {
		status[rs.Name], records[rs.Name] = string(rs.Status), rs.Records
	}
	for _, name := range []string{"repos", "topics", "events", "events_ignored", "reports", "quota"} {
		if status[name] != "loaded" {
			t.Errorf("resource %s: status %q, want loaded", name, status[name])
		}
	}
	if records["topics"] != 2 || records["events"] != 0 || records["reports"] != 0 || records["quota"] != 0 {
		t.Errorf("records %v: want topics 2 and no records from events, reports and quota", records)
	}
	if got := rows(t, dest, "forge", "topics", "value"); !slices.Equal(got, []string{"topic-1", "topic-2"}) {
		t.Errorf("topics %q", got)
	}
}
