package config

import (
	"strings"
	"testing"
)

func TestLimitsMemory(t *testing.T) {
	tests := []struct {
		name, limits string
		want         ByteSize
		wantErr      string
	}{
		{name: "default", limits: "", want: 0},
		{name: "decimal unit", limits: "limits: {memory: 512MB}\n", want: 512e6},
		{name: "binary unit, spaced", limits: "limits: {memory: 1.5 GiB}\n", want: 3 << 29},
		{name: "bytes", limits: "limits: {memory: 268435456}\n", want: 256 << 20},
		{name: "from the environment", limits: "limits: {memory: \"${env.RESTLOAD_TEST_MEM:-300MiB}\"}\n", want: 300 << 20},
		{name: "too small", limits: "limits: {memory: 10MB}\n", wantErr: "t.yaml:1:18: limits.memory: want at least 192MiB"},
		{name: "unknown unit", limits: "limits: {memory: 5 lots}\n", wantErr: `t.yaml:1:18: limits.memory: want a size such as "512MB"`},
		{name: "negative", limits: "limits: {memory: -1}\n", wantErr: "limits.memory"},
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
			var got ByteSize
			if p.Limits != nil {
				got = p.Limits.Memory
			}
			if got != tt.want {
				t.Errorf("limits.memory = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"1": 1, "2KB": 2000, "2kib": 2048, "0.5GB": 5e8, " 64 MiB ": 64 << 20, "3TiB": 3 << 40} {
		if got, err := ParseByteSize(in); err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "1.2.3MB", "12 parsecs", "-5MB", "1e30", "99999999999TiB"} {
		if got, err := ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q) = %d, want an error", in, got)
		}
	}
	if s := ByteSize(3 << 29).String(); s != "1536MiB" {
		t.Errorf("String() = %q", s)
	}
}
