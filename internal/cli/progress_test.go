package cli

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8"
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

	want := "files: 12 pages, 1200 records, 600 rec/s, 1 retry, 2s\n" +
		"teams: 1 page, 7 records, - rec/s, 0 retries, 0s\n" +
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
	for _, s := range []string{"files", "1 page, 100 records", "1 retry", "loading L7 into the destination", "a log line"} {
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

// TestProgressTotal: with a total from the API, a line shows the records of
// the total, the percentage and the time left; the time so far always.
func TestProgressTotal(t *testing.T) {
	var buf bytes.Buffer
	p, err := newProgress(progressPlain, &buf, []string{"files"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	p.Total("files", 2500)
	now = now.Add(4 * time.Second)
	for i := 1; i <= 10; i++ {
		p.Page("files", i, 100)
	}
	now = now.Add(1500 * time.Millisecond)
	p.mu.Lock()
	p.printLocked()
	p.mu.Unlock()
	p.Total("teams", 0) // no total: nothing to show
	want := "files: 10 pages, 1000 of 2500 records (40%), 250 rec/s, 0 retries, 5.5s, about 6s left\n"
	if buf.String() != want {
		t.Errorf("plain progress printed\n%s\nwant\n%s", buf.String(), want)
	}
}

// TestProgressBarsLeaveNothing drives the bars as on a terminal (cursor
// movements included) and replays the output on a small screen model: while
// the run goes, the screen shows the counts of the total, the percentage,
// the time and a retry warning whole above the bars; after Stop, the bars
// are gone and only the warning is left.
func TestProgressBarsLeaveNothing(t *testing.T) {
	var buf syncBuffer
	p, err := newProgressWith(progressBar, &buf, []string{"files"}, mpb.ForceTTY())
	if err != nil {
		t.Fatal(err)
	}
	p.Total("files", 400)
	p.Page("files", 1, 100)
	warning := `level=WARN msg="retrying request" wait=1.5s`
	time.Sleep(250 * time.Millisecond) // a frame
	if _, err := p.Writer().Write([]byte(warning + "\n")); err != nil {
		t.Fatal(err)
	}
	p.Page("files", 2, 100)
	time.Sleep(450 * time.Millisecond) // two more frames
	during := screen(buf.String())
	p.Stop()
	after := screen(buf.String())

	if len(during) != 2 || during[0] != warning || !regexp.MustCompile(`^files\s+\S+ 2 pages, 200 of 400 records \(50%\), \d+ rec/s, 0 retries, [\d.]+m?s, about [\d.]+m?s left$`).MatchString(strings.TrimSpace(during[1])) {
		t.Errorf("screen during the run:\n%s", strings.Join(during, "\n"))
	}
	if len(after) != 1 || after[0] != warning {
		t.Errorf("screen after Stop (want the warning only):\n%q", after)
	}
}

// screen replays out on a model of a terminal that knows what mpb sends:
// text, newlines, carriage returns, cursor up (ESC[nA) and erase to the end
// of the screen (ESC[J). It returns the screen's non-empty lines.
func screen(out string) []string {
	lines := []string{""}
	row := 0
	for i := 0; i < len(out); i++ {
		switch c := out[i]; c {
		case '\n':
			row++
			if row == len(lines) {
				lines = append(lines, "")
			}
		case '\r':
			lines[row] = ""
		case 0x1b:
			m := regexp.MustCompile(`^\x1b\[(\d*)([A-Za-z])`).FindStringSubmatch(out[i:])
			if m == nil {
				continue
			}
			i += len(m[0]) - 1
			switch m[2] {
			case "A":
				n, _ := strconv.Atoi(m[1])
				row = max(0, row-max(n, 1))
			case "J":
				lines = append(lines[:row], "")
			}
		default:
			lines[row] += string(c)
		}
	}
	var nonEmpty []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			nonEmpty = append(nonEmpty, l)
		}
	}
	return nonEmpty
}

// syncBuffer is a bytes.Buffer safe for mpb's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
