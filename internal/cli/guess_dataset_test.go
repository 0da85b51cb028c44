package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestInfoGuessesDataset: given only --dest, info reads the dataset named
// after the destination's file (or NAME_dataset, the default dataset of a
// pipeline NAME) that holds loads, and says which it reads.
func TestInfoGuessesDataset(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ file, dataset string }{
		{"shop.duckdb", "shop"},
		{"blog.duckdb", "blog_dataset"},
	} {
		dest := "duckdb:" + filepath.Join(dir, c.file)
		loadOne(t, dest, c.dataset)
		code, out, errOut := run(t, "info", "--dest", dest)
		if code != 0 || !strings.Contains(out, "1700000000.000001") || !strings.Contains(out, "events_pipe") {
			t.Errorf("info --dest %s: exit %d, want 0 and the load into %s\nstdout:\n%s\nstderr:\n%s", c.file, code, c.dataset, out, errOut)
		}
		code, out, errOut = run(t, "schema", "--dest", dest)
		if code != 0 || !strings.Contains(out, "events") {
			t.Errorf("schema --dest %s: exit %d, want 0 and table events\nstdout:\n%s\nstderr:\n%s", c.file, code, out, errOut)
		}
	}
	// The dataset is elsewhere: info tries the one named after the file,
	// says which on stderr, and lists the datasets there are.
	dest := "duckdb:" + filepath.Join(dir, "misc.duckdb")
	loadOne(t, dest, "other")
	code, _, errOut := run(t, "info", "--dest", dest)
	if code != 1 || !strings.HasPrefix(errOut, "restload: no --dataset given: reading dataset \"misc\"\n") || !strings.Contains(errOut, `dataset "misc" is not in`) || !strings.Contains(errOut, "its datasets: other") {
		t.Errorf("info --dest misc.duckdb: exit %d, stderr %q; want 1, the dataset read and the datasets there are", code, errOut)
	}
	// A URL without a name to guess from.
	code, _, errOut = run(t, "info", "--dest", "duckdb:")
	if want := "restload: give --dataset: duckdb: names no dataset to guess\nRun 'restload --help' for usage.\n"; code != 2 || errOut != want {
		t.Errorf("info --dest duckdb: exit %d, stderr %q; want 2 and %q", code, errOut, want)
	}
}
