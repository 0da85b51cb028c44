package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPipelineNameMustBeAFileName: pipeline.name and pipeline.dataset name
// directories (the work dir, a parquet/jsonl dataset) and files (the
// default DuckDB file), so anything but a plain file name is a config error
// at its position.
func TestPipelineNameMustBeAFileName(t *testing.T) {
	const src = "pipeline:\n  name: %s\n  dataset: %s\nsource:\n  client: {base_url: https://api.example.com}\n  resources: [items]\n"
	tests := []struct {
		name, dataset string
		want          string // "" for valid
	}{
		{"ok_name-1.2", "My_Data-1", ""},
		{`"Custom Name"`, "d", ""},
		{`"trailing "`, "d", `p.yaml:2:9: pipeline.name: "trailing " is not a safe file name`},
		{`"../evil"`, "d", `p.yaml:2:9: pipeline.name: "../evil" is not a safe file name`},
		{`"/etc/cron.d/x"`, "d", `p.yaml:2:9: pipeline.name: "/etc/cron.d/x" is not a safe file name`},
		{`"a/b"`, "d", `p.yaml:2:9: pipeline.name: "a/b" is not a safe file name`},
		{`'a\b'`, "d", `p.yaml:2:9: pipeline.name: "a\\b" is not a safe file name`},
		{`".."`, "d", `p.yaml:2:9: pipeline.name: ".." is not a safe file name`},
		{`".hidden"`, "d", `p.yaml:2:9: pipeline.name: ".hidden" is not a safe file name`},
		{`"-rf"`, "d", `p.yaml:2:9: pipeline.name: "-rf" is not a safe file name`},
		{`"a\u202eb"`, "d", `p.yaml:2:9: pipeline.name: "a\u202eb" is not a safe file name`},
		{strings.Repeat("n", 129), "d", "p.yaml:2:9: pipeline.name: \"" + strings.Repeat("n", 129) + "\" is not a safe file name"},
		{"p", `"../../tmp/x"`, `p.yaml:3:12: pipeline.dataset: "../../tmp/x" is not a safe file name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", fmt.Appendf(nil, src, tt.name, tt.dataset), LoadOptions{LookupEnv: env()})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("valid names refused: %v", err)
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v, want config Errors", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %s\nwant %s ...", err, tt.want)
			}
		})
	}
}

// TestSecretsFileReadableByOthers: like ssh, a secrets file that group or
// others may read gets a warning naming the file, its mode and the chmod
// that fixes it; a 0600 file gets none.
func TestSecretsFileReadableByOthers(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o600, 0o400} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "p.yaml")
			secrets := filepath.Join(dir, ".restload", "secrets.toml")
			if err := os.MkdirAll(filepath.Dir(secrets), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(secrets, []byte("token = \"tok-123456\"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(secrets, mode); err != nil {
				t.Fatal(err)
			}
			yaml := "source:\n  client:\n    base_url: https://api.example.com\n    auth: {token: \"${secrets.token}\"}\n  resources: [items]\n"
			if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := Load(file, LoadOptions{LookupEnv: env()})
			if err != nil {
				t.Fatal(err)
			}
			warns := p.Warnings()
			if mode&0o077 == 0 {
				if len(warns) != 0 {
					t.Errorf("mode %04o: warnings %q, want none", mode, warns)
				}
				return
			}
			want := fmt.Sprintf("secrets file %s is readable by others (mode %04o); restrict it with: chmod 600 %s", secrets, mode, secrets)
			if len(warns) != 1 || warns[0] != want {
				t.Errorf("warnings = %q\nwant [%q]", warns, want)
			}
		})
	}
}

// TestCredentialHeaders: headers whose values hold a ${secrets.X} or an
// ${env.X}, in the client block, resource_defaults or an endpoint, are
// credentials; literal headers and placeholders are not.
func TestCredentialHeaders(t *testing.T) {
	const src = `
client:
  base_url: https://api.example.com
  headers: {X-Key: "${secrets.token}", Accept-Language: en, "X Odd": "k=${env.ODD}"}
resource_defaults:
  endpoint: {headers: {X-Default: "Token ${env.TOK}"}}
resources:
  - name: a
  - name: b
    endpoint: {path: "b/{resources.a.id}", headers: {X-Parent: "{resources.a.id}", X-Short: "${secrets.s}"}}
`
	p, err := Parse("bare.yaml", []byte(src), LoadOptions{LookupEnv: env("TOKEN", "tok-123456", "ODD", "odd-value", "TOK", "t", "S", "abc")})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(p.CredentialHeaders(), ",")
	if want := "X Odd,X-Default,X-Key,X-Short"; got != want {
		t.Errorf("CredentialHeaders = %s, want %s", got, want)
	}
}
