package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/mockapi"
)

// Scenarios are the API-bound runs of -scenarios: where users wait on a
// slow or rate-limited API rather than on restload's CPU. Each runs the
// seed pipeline into JSONL (append, the cheapest destination) against a
// mock API of its own.
var scenarios = map[string]func(ctx context.Context, o options, tmp string) []Result{
	"latency":   latencyScenario,
	"ratelimit": rateLimitScenario,
}

// Scenario constants, from issue 15's targets.
const (
	latencyPages    = 40
	latencyPerPage  = 100 * time.Millisecond
	rateAPILimit    = 100 // requests a second the rate-limited API allows
	rateConfigured  = 95  // limits.requests_per_second of the paced run
	ratePagesPerRes = 50
	rateResources   = 8
	rateRetryAfter  = "1"
	scenarioDest    = "jsonl"
	scenarioMode    = "append"
)

// latencyScenario: one seed resource of 40 pages, every data request
// answered after 100 ms; once as restload runs by default (pages fetched
// ahead, the seed's total read as a record count) and once one page at a
// time (limits.prefetch: 1) for comparison. Ideal: the first page, then
// the rest limits.prefetch (8 by default) at a time.
func latencyScenario(ctx context.Context, o options, tmp string) []Result {
	var out []Result
	ahead := latencyPerPage.Seconds() * float64(1+(latencyPages-1+config.DefaultPrefetch-1)/config.DefaultPrefetch)
	for _, run := range []scenarioRun{
		{"latency", "", ahead},
		{"latency-prefetch1", "limits:\n  prefetch: 1\n", latencyPerPage.Seconds() * latencyPages},
	} {
		r := run.run(ctx, o, tmp, mockapi.Options{Records: latencyPages * o.Limit, Latency: latencyPerPage}, 1)
		out = append(out, r)
		if ctx.Err() != nil {
			break
		}
	}
	return out
}

// scenarioRun is one run of a scenario: its name, the limits block of its
// pipeline and its ideal time.
type scenarioRun struct {
	tag, limits string
	ideal       float64
}

// run runs the seed pipeline's first resources (in the seed's order) against a mock
// API started with opts.
func (s scenarioRun) run(ctx context.Context, o options, tmp string, opts mockapi.Options, resources int) Result {
	api, err := mockapi.Start(ctx, "127.0.0.1:0", opts)
	if err != nil {
		return Result{Name: s.tag, Error: err.Error()}
	}
	defer api.Close()
	o.Records, o.pipelineExtra = opts.Records, s.limits
	r := runRestload(ctx, api, o, tmp, scenarioDest, scenarioMode, api.Server.Resources()[:resources], s.tag)
	r.Name = s.tag
	r.Requests, r.Served429 = served(api)
	r.Ideal = s.ideal
	printScenario(r)
	return r
}

// rateLimitScenario: an API allowing 100 requests a second (a token bucket
// of 10, 429 with Retry-After: 1 above it), eight resources of 50 pages;
// once with limits.requests_per_second: 95 (ideal: 400 requests at 95 a
// second) and once with no limit (ideal: at the API's 100 a second).
func rateLimitScenario(ctx context.Context, o options, tmp string) []Result {
	var out []Result
	pages := float64(ratePagesPerRes * rateResources)
	for _, run := range []scenarioRun{
		{"ratelimit-95", fmt.Sprintf("limits:\n  requests_per_second: %d\n", rateConfigured), pages / rateConfigured},
		{"ratelimit-none", "", pages / rateAPILimit},
	} {
		r := run.run(ctx, o, tmp, mockapi.Options{Records: ratePagesPerRes * o.Limit, RateLimit: rateAPILimit, RetryAfter: rateRetryAfter}, rateResources)
		out = append(out, r)
		if ctx.Err() != nil {
			break
		}
	}
	return out
}

// served returns the data requests the mock answered, and how many of
// them 429.
func served(api *mockapi.Running) (requests, tooMany int64) {
	st := api.Server.Stats()
	return st.DataRequests, st.Served429
}

func pct429(r Result) float64 {
	if r.Requests == 0 {
		return 0
	}
	return 100 * float64(r.Served429) / float64(r.Requests)
}

func printScenario(r Result) {
	if r.Error != "" || r.Skipped != "" {
		printRow(r)
		return
	}
	fmt.Fprintf(os.Stderr, "%-18s %6.2fs (ideal %.2fs, x%.2f) %4d requests, %3d answered 429 (%.1f%%)\n",
		r.Name, r.Seconds, r.Ideal, r.Seconds/r.Ideal, r.Requests, r.Served429, pct429(r))
}

func printScenarioTable(w io.Writer, rs []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SCENARIO\tRECORDS\tPAGES\tSECONDS\tIDEAL S\tx IDEAL\tREQUESTS\t429s\t% 429\t")
	for _, r := range rs {
		if r.Error != "" || r.Skipped != "" {
			fmt.Fprintf(tw, "%s\t%s%s\t\n", r.Name, r.Skipped, r.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.2f\t%.2f\t%d\t%d\t%.1f\t\n", r.Name, r.Records, r.Pages, r.Seconds, r.Ideal,
			r.Seconds/r.Ideal, r.Requests, r.Served429, pct429(r))
	}
	tw.Flush()
}
