package config

import (
	"strings"
	"testing"
)

// TestYAMLSyntaxPosition: a YAML syntax error points at the offending line
// and column (yaml.v3 names the line where the enclosing collection starts),
// and a tab in the indentation is called a tab.
func TestYAMLSyntaxPosition(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"tab before a key", "source:\n  client:\n\tbase_url: x\n", "p.yaml:3:1: invalid YAML: a tab character indents this line"},
		{"tab after spaces", "source:\n  resources:\n  \t- name: a\n", "p.yaml:3:3: invalid YAML: a tab character"},
		{"tab before a list item", "source:\n\t- b\n", "p.yaml:2:1: invalid YAML: a tab character"},
		{"unclosed flow sequence", "source:\n  client:\n    x: [y\n  resources: []\n", "p.yaml:3:9: invalid YAML: did not find expected ',' or ']'"},
		{"unclosed flow mapping", "pipeline: {name: a\nsource: {}\n", "p.yaml:1:12: invalid YAML: did not find expected ',' or '}'"},
		{"bad indentation", "source:\n  client:\n    base_url: x\n   resources: [a]\n", "p.yaml:4:4: invalid YAML: did not find expected key"},
		{"list then key", "source:\n  resources:\n    - a\n    b: 2\n", "p.yaml:4:6: invalid YAML: did not find expected '-' indicator"},
		{"reserved character", "source:\n  client:\n    base_url: @x\n", "p.yaml:3:15: invalid YAML: found character that cannot start any token"},
		{"unclosed quote", "pipeline:\n  name: \"x\n", "p.yaml:2:9: invalid YAML: found unexpected end of stream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tc.doc), LoadOptions{LookupEnv: env()})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant one containing %q", err, tc.want)
			}
		})
	}
	// A tab inside a value or a block scalar is no indentation error, and a
	// flow sequence over two lines is no unclosed one.
	ok := "source:\n  client:\n    base_url:\thttp://x\n    headers:\n      X-A: |\n        a\tb\n  resources: [a,\n    b]\n"
	if _, err := Parse("p.yaml", []byte(ok), LoadOptions{LookupEnv: env()}); err != nil {
		t.Errorf("valid file refused: %v", err)
	}
}
