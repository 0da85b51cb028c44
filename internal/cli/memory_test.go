package cli_test

import (
	"strings"
	"testing"
)

// TestRunMemoryFlag: run --memory takes a size and refuses, as a usage
// error (exit 2) naming the flag, one it cannot read or one too small.
func TestRunMemoryFlag(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"lots", `--memory: "lots" is not a size`},
		{"10MB", "--memory: want at least 192MiB"},
	} {
		code, _, errOut := run(t, "run", "x.yaml", "--memory", tc.value)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("--memory %s: exit %d, %s; want exit 2 and %q", tc.value, code, errOut, tc.want)
		}
	}
}
