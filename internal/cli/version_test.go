package cli_test

import (
	"regexp"
	"testing"
)

// TestVersion: `restload version` and `restload --version` print the same
// line: the version, the commit and the Go version.
func TestVersion(t *testing.T) {
	line := regexp.MustCompile(`^restload \S+ \(commit ([0-9a-f]{12}(-dirty)?|unknown), go\S+, duckdb loads (arrow|csv)\)\n$`)
	var outs []string
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errOut := run(t, args...)
		if code != 0 || !line.MatchString(out) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want a line like %q", args, code, out, errOut, "restload v1.2.3 (commit 0123456789ab, go1.26, duckdb loads arrow)")
		}
		outs = append(outs, out)
	}
	if outs[0] != outs[1] {
		t.Errorf("version prints %q, --version prints %q", outs[0], outs[1])
	}
}
