package config

import (
	"strings"
	"testing"
)

func TestLimitsPrefetch(t *testing.T) {
	tests := []struct {
		name, limits    string
		want            int
		wantSpeculative bool
		wantErr         string
	}{
		{name: "default", limits: "", want: DefaultPrefetch},
		{name: "limits without prefetch", limits: "limits: {concurrency: 2}\n", want: DefaultPrefetch},
		{name: "one page at a time", limits: "limits: {prefetch: 1}\n", want: 1},
		{name: "eight", limits: "limits: {prefetch: 8}\n", want: 8},
		{name: "zero", limits: "limits: {prefetch: 0}\n", wantErr: "t.yaml:1:20: limits.prefetch: want at least 1"},
		{name: "not a number", limits: "limits: {prefetch: many}\n", wantErr: "limits.prefetch"},
		{name: "speculative", limits: "limits: {prefetch: {speculative: true}}\n", want: DefaultPrefetch, wantSpeculative: true},
		{name: "speculative with pages", limits: "limits:\n  prefetch: {pages: 8, speculative: true}\n", want: 8, wantSpeculative: true},
		{name: "pages without speculation", limits: "limits: {prefetch: {pages: 2}}\n", want: 2},
		{name: "zero pages", limits: "limits:\n  prefetch: {pages: 0, speculative: true}\n", wantErr: "t.yaml:2:21: limits.prefetch.pages: want at least 1"},
		{name: "unknown key", limits: "limits: {prefetch: {speculate: true}}\n", wantErr: `limits.prefetch.speculate: unknown key (did you mean "speculative"?)`},
		{name: "a list", limits: "limits: {prefetch: [4]}\n", wantErr: "limits.prefetch: want a number of pages or a mapping {pages, speculative}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.limits + "source: {client: {base_url: http://localhost:1}, resources: [a]}\n"
			p, err := Parse("t.yaml", []byte(src), LoadOptions{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Limits.PrefetchPages(); got != tt.want {
				t.Errorf("PrefetchPages() = %d, want %d", got, tt.want)
			}
			if got := p.Limits.SpeculativePrefetch(); got != tt.wantSpeculative {
				t.Errorf("SpeculativePrefetch() = %v, want %v", got, tt.wantSpeculative)
			}
		})
	}
}
