package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgressPlainLines drives the plain display with a fake clock: a line
// per resource that moved, singular "retry", the rate over the resource's
// pages, nothing for resources that did not move, and the loading line.
func TestProgressPlainLines(t *testing.T) {
	var buf bytes.Buffer
	p, err := newProgress(progressPlain, &buf, []string{"files", "teams"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }

	p.Page("files", 1, 100) // files starts now
	now = now.Add(2 * time.Second)
	for i := 2; i <= 12; i++ {
		p.Page("files", i, 100)
	}
	p.Retry("files")
	p.mu.Lock()
	p.printLocked()
	p.printLocked() // nothing moved: no new lines
	p.mu.Unlock()
	p.Page("teams", 1, 7)
	p.Loading("L1")
	p.Stop()

	want := "files: 12 pages, 1200 records, 600 rec/s, 1 retry\n" +
		"teams: 1 pages, 7 records, - rec/s, 0 retries\n" +
		"loading L1 into the destination...\n"
	if buf.String() != want {
		t.Errorf("plain progress printed\n%s\nwant\n%s", buf.String(), want)
	}
}

// TestProgressBarsToWriter forces bars into a buffer (not a terminal): each
// resource and the load get a line with their counts.
func TestProgressBarsToWriter(t *testing.T) {
	var buf bytes.Buffer
	p, err := newProgress(progressBar, &buf, []string{"files"})
	if err != nil {
		t.Fatal(err)
	}
	p.Page("files", 1, 100)
	p.Retry("files")
	p.Loading("L7")
	if _, err := p.Writer().Write([]byte("a log line\n")); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	p.Stop() // idempotent
	out := buf.String()
	for _, s := range []string{"files", "1 pages, 100 records", "1 retry", "loading L7 into the destination", "a log line"} {
		if !strings.Contains(out, s) {
			t.Errorf("bar output lacks %q:\n%s", s, out)
		}
	}
}

// TestProgressAuto picks plain lines when stderr is not a terminal.
func TestProgressAuto(t *testing.T) {
	p, err := newProgress(progressAuto, &bytes.Buffer{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if p.mode != progressPlain {
		t.Errorf("auto on a buffer chose %q, want plain", p.mode)
	}
}
