package config

import (
	"strings"
	"testing"
	"time"
)

// TestResponseBounds: the keys that bound a response (limits.max_pages,
// limits.max_response_bytes, limits.max_columns, client.idle_read_timeout) have defaults, take
// values, and refuse nonsense.
func TestResponseBounds(t *testing.T) {
	const base = "source:\n  client:\n    base_url: https://api.test\n%s  resources: [{name: a, endpoint: {path: /a}}]\n"
	load := func(limits, client string) (*Pipeline, error) {
		src := limits + strings.Replace(base, "%s", client, 1)
		return Parse("b.yaml", []byte(src), LoadOptions{LookupEnv: env()})
	}
	p, err := load("", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Limits.ResponseBytes() != 256<<20 || p.Limits.Pages() != 100000 || p.Limits.Columns() != 10000 || p.Limits.Tables() != 1000 || time.Duration(p.Source.Client.IdleReadTimeout) != 30*time.Second {
		t.Errorf("defaults: %d bytes, %d pages, %d columns, idle %v", p.Limits.ResponseBytes(), p.Limits.Pages(), p.Limits.Columns(), time.Duration(p.Source.Client.IdleReadTimeout))
	}
	p, err = load("limits: {max_response_bytes: 1073741824, max_pages: 7, max_columns: 300, max_tables: 20}\n", "    idle_read_timeout: 5s\n")
	if err != nil {
		t.Fatal(err)
	}
	if p.Limits.ResponseBytes() != 1<<30 || p.Limits.Pages() != 7 || p.Limits.Columns() != 300 || p.Limits.Tables() != 20 || time.Duration(p.Source.Client.IdleReadTimeout) != 5*time.Second {
		t.Errorf("set: %d bytes, %d pages, idle %v", p.Limits.ResponseBytes(), p.Limits.Pages(), time.Duration(p.Source.Client.IdleReadTimeout))
	}
	_, err = load("limits: {max_response_bytes: 0, max_pages: -1, max_columns: 0, max_tables: 0}\n", "    idle_read_timeout: -1s\n")
	for _, want := range []string{
		"limits.max_response_bytes: want at least 1 (bytes)",
		"limits.max_pages: want at least 1",
		"limits.max_columns: want at least 1",
		"limits.max_tables: want at least 1",
		"source.client.idle_read_timeout: must not be negative",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}
