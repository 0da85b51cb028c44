package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/restload/restload/internal/pipeline"
)

// Progress display modes (--progress).
const (
	progressAuto  = "auto"
	progressBar   = "bar"
	progressPlain = "plain"
	progressNone  = "none"
)

// plainInterval is how often plain progress lines are printed.
const plainInterval = 2 * time.Second

// resourceProgress is one resource's counters, written by the pipeline's
// goroutines and read by the display.
type resourceProgress struct {
	name    string
	started time.Time // set once, under progress.mu, before the counters move
	pages   atomic.Int64
	records atomic.Int64
	retries atomic.Int64
	total   atomic.Int64 // records the API says there are; 0: unknown
	bar     *mpb.Bar     // bar mode only

	lastPage atomic.Int64 // unix nanoseconds of the latest page

	// plain mode, under progress.mu: what the last line showed.
	lastPages, lastRetries int64
}

// line is the resource's progress line at now, e.g.
// "files: 12 pages, 1200 records, 3400 rec/s, 1 retry, 3s", or with a total
// the API gave, "files: 12 pages, 1200 of 2500 records (48%), 600 rec/s,
// 0 retries, 2s, about 2s left". The rate is the average from the
// resource's first event to its latest page, so it holds still once the
// resource has finished; the time is the resource's time so far.
func (r *resourceProgress) line(now time.Time) string {
	recs := r.records.Load()
	rate, perSec := "-", 0.0
	if secs := time.Duration(r.lastPage.Load() - r.started.UnixNano()).Seconds(); secs > 0.2 {
		perSec = float64(recs) / secs
		rate = fmt.Sprintf("%.0f", perSec)
	}
	retries := r.retries.Load()
	counted := fmt.Sprintf("%d records", recs)
	left := ""
	if total := r.total.Load(); total > 0 {
		counted = fmt.Sprintf("%d of %d records (%d%%)", recs, total, min(100, recs*100/total))
		if perSec > 0 && recs < total {
			left = ", about " + roundElapsed(time.Duration(float64(total-recs)/perSec*float64(time.Second))).String() + " left"
		}
	}
	pages := r.pages.Load()
	return fmt.Sprintf("%s: %d %s, %s, %s rec/s, %d %s, %s%s",
		r.name, pages, plural(pages, "page", "pages"), counted, rate, retries, plural(retries, "retry", "retries"),
		roundElapsed(now.Sub(r.started)), left)
}

// roundElapsed rounds a time for a progress line: whole seconds, tenths
// under ten seconds.
func roundElapsed(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// progress shows a run's progress on stderr: one live bar per resource on a
// terminal (bar), periodic lines (plain) or nothing (none). It implements
// pipeline.Observer and pipeline.LoadObserver; its methods are safe for
// concurrent use.
type progress struct {
	mode  string
	w     io.Writer
	now   func() time.Time
	width int // name column width for bars

	mu        sync.Mutex
	resources map[string]*resourceProgress
	order     []*resourceProgress
	stopped   bool

	bars    *mpb.Progress // bar mode
	loadBar *mpb.Bar

	stop chan struct{} // plain: stops the ticker
	done chan struct{} // plain: closed when the ticker goroutine ended
}

var (
	_ pipeline.Observer     = (*progress)(nil)
	_ pipeline.LoadObserver = (*progress)(nil)
)

// newProgress starts the display chosen by mode on w. names are the
// resources expected (for bar alignment); others are added as they appear.
// auto means bars when w is a terminal (and TERM is not dumb, and CI is not
// set), plain lines otherwise.
func newProgress(mode string, w io.Writer, names []string) (*progress, error) {
	return newProgressWith(mode, w, names)
}

// newProgressWith is newProgress with more options for the bars.
func newProgressWith(mode string, w io.Writer, names []string, barOpts ...mpb.ContainerOption) (*progress, error) {
	switch mode {
	case progressAuto, "":
		mode = progressPlain
		if isTerminal(w) && os.Getenv("TERM") != "dumb" && os.Getenv("CI") == "" {
			mode = progressBar
		}
	case progressBar, progressPlain, progressNone:
	default:
		return nil, usageError{fmt.Errorf("--progress %q: want auto, bar, plain or none", mode)}
	}
	p := &progress{mode: mode, w: w, now: time.Now, resources: map[string]*resourceProgress{}}
	for _, n := range names {
		p.width = max(p.width, len(n))
	}
	switch mode {
	case progressBar:
		// The width is the line width when w is not a terminal (--progress
		// bar into a pipe); on a terminal its own width wins.
		p.bars = mpb.New(append([]mpb.ContainerOption{mpb.WithOutput(w), mpb.WithWidth(100), mpb.WithRefreshRate(200 * time.Millisecond), mpb.WithAutoRefresh()}, barOpts...)...)
	case progressPlain:
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.tick(time.NewTicker(plainInterval))
	}
	return p, nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Writer returns where log lines should go so they do not tear the bars:
// above the bars in bar mode, w otherwise.
func (p *progress) Writer() io.Writer {
	if p.bars != nil {
		return barWriter{p}
	}
	return p.w
}

// barWriter writes above the live bars until the display stops.
type barWriter struct{ p *progress }

func (b barWriter) Write(data []byte) (int, error) {
	b.p.mu.Lock()
	stopped := b.p.stopped
	b.p.mu.Unlock()
	if !stopped {
		if n, err := b.p.bars.Write(data); err == nil {
			return n, nil
		}
	}
	return b.p.w.Write(data)
}

// resource returns name's counters, creating them (and its bar) on first
// use.
func (p *progress) resource(name string) *resourceProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.resources[name]
	if r != nil {
		return r
	}
	r = &resourceProgress{name: name, started: p.now()}
	p.resources[name] = r
	p.order = append(p.order, r)
	if p.bars != nil && !p.stopped {
		r.bar = p.bars.New(0, mpb.SpinnerStyle(), mpb.BarWidth(1),
			mpb.PrependDecorators(decor.Name(name, decor.WC{W: p.width + 1, C: decor.DindentRight})),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return r.barText(p.now()) })),
			mpb.BarRemoveOnComplete())
	}
	return r
}

// barText is what a bar shows after its spinner.
func (r *resourceProgress) barText(now time.Time) string {
	return strings.TrimPrefix(r.line(now), r.name+": ")
}

// Total records that the API said resource has total records (a total
// field of its first page), for the percentage and the time left.
func (p *progress) Total(resource string, total int64) {
	if p.mode == progressNone || total <= 0 {
		return
	}
	p.resource(resource).total.Store(total)
}

// Page counts one page of resource.
func (p *progress) Page(resource string, _ int, records int) {
	if p.mode == progressNone {
		return
	}
	r := p.resource(resource)
	r.pages.Add(1)
	r.records.Add(int64(records))
	r.lastPage.Store(p.now().UnixNano())
}

// Retry counts one retried request of resource.
func (p *progress) Retry(resource string) {
	if p.mode == progressNone {
		return
	}
	p.resource(resource).retries.Add(1)
}

// Loading says extraction is over and a package is being loaded.
func (p *progress) Loading(loadID string) {
	switch p.mode {
	case progressPlain:
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.stopped {
			return
		}
		p.printLocked()
		fmt.Fprintf(p.w, "loading %s into the destination...\n", loadID)
	case progressBar:
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.stopped {
			return
		}
		for _, r := range p.order {
			if r.bar != nil {
				r.bar.SetTotal(-1, true)
			}
		}
		if p.loadBar == nil {
			p.loadBar = p.bars.New(0, mpb.SpinnerStyle(), mpb.BarWidth(1),
				mpb.PrependDecorators(decor.Name("load", decor.WC{W: p.width + 1, C: decor.DindentRight})),
				mpb.AppendDecorators(decor.Name("loading "+loadID+" into the destination "), decor.Elapsed(decor.ET_STYLE_GO)),
				mpb.BarRemoveOnComplete())
		}
	}
}

// tick prints the plain lines every tick until stop.
func (p *progress) tick(t *time.Ticker) {
	defer close(p.done)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			if !p.stopped {
				p.printLocked()
			}
			p.mu.Unlock()
		}
	}
}

// printLocked prints a plain line for each resource whose counts changed
// since its last line.
func (p *progress) printLocked() {
	rs := append([]*resourceProgress(nil), p.order...)
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].name < rs[j].name })
	for _, r := range rs {
		pages, retries := r.pages.Load(), r.retries.Load()
		if pages == r.lastPages && retries == r.lastRetries {
			continue
		}
		fmt.Fprintln(p.w, r.line(p.now()))
		r.lastPages, r.lastRetries = pages, retries
	}
}

// Stop ends the display: bars are completed and removed from the screen
// (the summary that follows says how each resource ended), the plain ticker
// stops. Stop is idempotent.
func (p *progress) Stop() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	bars := p.bars
	for _, r := range p.order {
		if r.bar != nil {
			r.bar.SetTotal(-1, true)
		}
	}
	if p.loadBar != nil {
		p.loadBar.SetTotal(-1, true)
	}
	p.mu.Unlock()
	if bars != nil {
		bars.Wait()
	}
	if p.stop != nil {
		close(p.stop)
		<-p.done
	}
}
