package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestReportClassifiesByType: the exit code follows the error's type, not
// its wording: a failure whose message reads like cobra's is still a
// failure (1), and a usage error wrapped in context is still usage (2).
func TestReportClassifiesByType(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
		want string
	}{
		{errors.New("accepts 2 arg(s), received 3 from the API"), ExitFailed, "restload: accepts 2 arg(s), received 3 from the API\n"},
		{errors.New("unknown command sent by the server"), ExitFailed, "restload: unknown command sent by the server\n"},
		{fmt.Errorf("resource x: %w", errors.New("unknown flag: --x in the response")), ExitFailed, "restload: resource x: unknown flag: --x in the response\n"},
		{fmt.Errorf("in context: %w", usageError{errors.New("give a pipeline file or --dest")}), ExitUsage,
			"restload: in context: give a pipeline file or --dest\nRun 'restload --help' for usage.\n"},
	} {
		var stderr bytes.Buffer
		if code := report(&stderr, c.err, context.Background()); code != c.code || stderr.String() != c.want {
			t.Errorf("report(%v) = %d, %q; want %d, %q", c.err, code, stderr.String(), c.code, c.want)
		}
	}
}
