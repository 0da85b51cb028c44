package cli_test

import (
	"strings"
	"testing"

	"github.com/restload/restload/internal/cli"
)

// TestUsageErrors: every way of calling restload wrongly (an unknown
// command, flag or shorthand, a bad flag value, too many or too few
// arguments) exits 2 with cobra's message and the pointer to --help; a
// valid call does not.
func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `restload: unknown command "bogus" for "restload"` + "\nRun 'restload --help' for usage.\n"},
		// The tab before a suggestion is escaped like every control character.
		{[]string{"rn"}, `restload: unknown command "rn" for "restload"` + "\n\nDid you mean this?\n\\trun\n\nRun 'restload --help' for usage.\n"},
		{[]string{"run"}, "restload: accepts 1 arg(s), received 0\n"},
		{[]string{"run", "a.yaml", "b.yaml"}, "restload: accepts 1 arg(s), received 2\n"},
		{[]string{"check"}, "restload: accepts 1 arg(s), received 0\n"},
		{[]string{"info", "a.yaml", "b.yaml"}, "restload: accepts at most 1 arg(s), received 2\n"},
		{[]string{"schema", "a.yaml", "b.yaml"}, "restload: accepts at most 1 arg(s), received 2\n"},
		{[]string{"demo", "extra"}, `restload: unknown command "extra" for "restload demo"` + "\n"},
		{[]string{"init", "extra"}, `restload: unknown command "extra" for "restload init"` + "\n"},
		{[]string{"version", "extra"}, `restload: unknown command "extra" for "restload version"` + "\n"},
		{[]string{"mock-api", "extra"}, `restload: unknown command "extra" for "restload mock-api"` + "\n"},
		{[]string{"--bogus"}, "restload: unknown flag: --bogus\n"},
		{[]string{"info", "--bogus"}, "restload: unknown flag: --bogus\n"},
		{[]string{"run", "-z", "a.yaml"}, "restload: unknown shorthand flag: 'z' in -z\n"},
		{[]string{"run", "a.yaml", "--workers", "many"}, `restload: invalid argument "many" for "--workers" flag`},
		{[]string{"run", "a.yaml", "--dest"}, "restload: flag needs an argument: --dest\n"},
	} {
		code, stdout, stderr := run(t, c.args...)
		if code != cli.ExitUsage {
			t.Errorf("%v: exit %d, want %d\nstderr: %s", c.args, code, cli.ExitUsage, stderr)
		}
		if !strings.HasPrefix(stderr, c.want) && !strings.Contains(stderr, c.want) {
			t.Errorf("%v: stderr\n%q\nwant it to hold\n%q", c.args, stderr, c.want)
		}
		if !strings.HasSuffix(stderr, "Run 'restload --help' for usage.\n") {
			t.Errorf("%v: stderr does not point to --help: %q", c.args, stderr)
		}
		if stdout != "" {
			t.Errorf("%v: stdout %q, want nothing", c.args, stdout)
		}
	}
	// No arguments is not an error: the help.
	code, stdout, stderr := run(t)
	if code != cli.ExitOK || !strings.Contains(stdout, "Available Commands:") || stderr != "" {
		t.Errorf("no arguments: exit %d, stdout %q, stderr %q; want 0 and the help", code, stdout, stderr)
	}
}
