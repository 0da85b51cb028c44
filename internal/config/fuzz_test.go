package config

import (
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bytes to the pipeline file decoder: it must
// never panic, and what it accepts must be a usable pipeline (named safely,
// every resource with an endpoint and a table) and what it refuses a list of
// problems.
func FuzzParse(f *testing.F) {
	f.Add([]byte("source:\n  client: {base_url: https://api.example.com}\n  resources: [items]\n"))
	f.Add([]byte("{\"client\": {\"base_url\": \"https://h/\"}, \"resources\": [{\"name\": \"a\", \"endpoint\": {\"json\": {\"<<\": 1}}}]}"))
	f.Add([]byte("a: &a [x, x]\nb: &b [*a, *a]\nsource: {client: {base_url: 'http://h'}, resources: [{name: r, endpoint: {params: {p: *b}}}]}\n"))
	lookup := env("TOKEN", "tok-123456", "PAGES", "3")
	f.Fuzz(func(t *testing.T, data []byte) {
		var p *Pipeline
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			p, err = Parse("fuzz.yaml", data, LoadOptions{LookupEnv: lookup, SecretsFile: "testdata/secrets/dlt_style.toml"})
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("Parse hangs on %q", data)
		}
		if err != nil {
			if p != nil {
				t.Fatalf("Parse returned a pipeline with errors: %v", err)
			}
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("Parse failed with an empty message")
			}
			return
		}
		if SafeName(p.Pipeline.Name) != nil || p.Pipeline.Dataset == "" {
			t.Fatalf("accepted pipeline name %q, dataset %q", p.Pipeline.Name, p.Pipeline.Dataset)
		}
		for _, r := range p.Source.Resources {
			if r.Endpoint == nil || r.TableName == "" || r.WriteDisposition == nil {
				t.Fatalf("accepted resource %q without defaults: %+v", r.Name, r)
			}
		}
	})
}
