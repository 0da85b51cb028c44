// Command bench measures restload against the bundled mock analytics API.
//
// It starts internal/mockapi on loopback with -records records per resource,
// then times
//
//   - the floor: a client that only fetches every page of every resource
//     (-workers resources at a time, as restload runs them) and decodes each
//     body with response.DecodeOwned, the decoder restload uses (encoding/json's
//     types, with UseNumber); nothing is normalized or stored;
//   - `restload run` of the seed pipeline (examples/analytics/pipeline.yaml,
//     URLs pointed at the mock) into each destination of -dests, for each
//     write disposition of -modes, in a child process so its peak RSS can be
//     read from the kernel's rusage.
//
// With -scenarios it runs API-bound scenarios instead (a latency-bound and
// a rate-limited mock API; see scenario.go).
//
// It prints one table row per run (records/s, pages/s, seconds, peak RSS
// and the ratio of its time to the floor's) and writes the same as JSON to
// -out/<timestamp>.json for comparison across commits. See bench/README.md.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/restload/restload/examples"
	mysqldest "github.com/restload/restload/internal/destination/mysql"
	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/pipeline"
	"github.com/restload/restload/internal/response"
)

type options struct {
	Records   int           `json:"records_per_resource"`
	Limit     int           `json:"limit"`
	Latency   time.Duration `json:"latency_ns"`
	Compress  string        `json:"compress,omitempty"`
	Workers   int           `json:"workers"`
	Resources []string      `json:"resources"`
	Dests     []string      `json:"destinations"`
	Modes     []string      `json:"modes"`
	Solo      bool          `json:"solo"`
	Alone     bool          `json:"duckdb_alone"`
	Extra     []string      `json:"extra_args,omitempty"`
	Scenarios []string      `json:"scenarios,omitempty"`
	// Repeat is how many times each destination and mode runs, each run
	// right after a floor run of its own (see pairedRuns).
	Repeat int `json:"repeat"`

	// pipelineExtra is YAML appended to the pipeline file (a scenario's
	// limits block).
	pipelineExtra string

	postgres string
	mysql    string
	s3       string // the fake S3 endpoint, once started
	bin      string
	out      string
	keep     bool
	profile  string
}

// Result is one measured run.
type Result struct {
	Name      string  `json:"name"` // floor, duckdb, postgres, parquet, solo:<resource>
	Mode      string  `json:"mode,omitempty"`
	Records   int64   `json:"records"`
	Pages     int64   `json:"pages"`
	Seconds   float64 `json:"seconds"`
	RecordsPS float64 `json:"records_per_second"`
	PagesPS   float64 `json:"pages_per_second"`
	PeakRSSMB float64 `json:"peak_rss_mb,omitempty"`
	// CPUSeconds is the run's user+system CPU time, steadier than wall time
	// on a busy machine.
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	VsFloor    float64 `json:"ratio_to_floor,omitempty"`
	// FloorSeconds is the floor run this run is compared with: the one
	// measured right before it (the machine's speed drifts between runs
	// on a shared machine).
	FloorSeconds float64 `json:"floor_seconds,omitempty"`
	// Phases is restload's own split of its run: extract, then load the
	// rows left and commit (see pipeline.Phases).
	Phases *pipeline.Phases `json:"phases,omitempty"`

	// db and dataset are where a DuckDB run loaded its rows.
	db, dataset string
	Skipped     string `json:"skipped,omitempty"`

	// A scenario's (-scenarios): the data requests the mock answered, how
	// many of them 429, and the run's ideal time.
	Requests  int64   `json:"requests,omitempty"`
	Served429 int64   `json:"served_429,omitempty"`
	Ideal     float64 `json:"ideal_seconds,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// Report is what -out receives.
type Report struct {
	Started time.Time `json:"started_at"`
	Commit  string    `json:"commit"`
	Go      string    `json:"go"`
	CPUs    int       `json:"cpus"`
	Options options   `json:"options"`
	Results []Result  `json:"results"`
}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case rssExecFlag:
			os.Exit(rssExec(os.Args[2:]))
		case duckdbCopyFlag:
			os.Exit(duckdbCopyMain(os.Args[2:]))
		}
	}
	// The mock API and the floor client run in this process: they get the
	// garbage collector settings restload runs with.
	pipeline.SetGCDefaults(os.Getenv)
	var o options
	var resources, dests, modes, extra, scens string
	flag.IntVar(&o.Records, "records", 100_000, "records per resource served by the mock API")
	flag.IntVar(&o.Limit, "limit", 100, "page size (the seed pipeline's `limit` param)")
	flag.DurationVar(&o.Latency, "latency", 0, "latency the mock adds to every data request")
	flag.StringVar(&o.Compress, "compress", "", "the mock sends pages gzip or zstd to requests that accept it (the floor's client, Go's transport, asks for gzip only)")
	flag.IntVar(&o.Workers, "workers", pipeline.DefaultWorkers, "resources run at once (floor and restload --workers)")
	flag.StringVar(&resources, "resources", "", "comma-separated resources (default all eight)")
	flag.StringVar(&dests, "dests", "duckdb,postgres,mysql,parquet", "destinations: duckdb, postgres, mysql, parquet, jsonl, iceberg, parquet-s3, jsonl-s3 (on an S3-compatible server in this process)")
	flag.StringVar(&modes, "modes", "append,merge", "write dispositions: append, merge, remerge (a second merge run of the same data, timed)")
	flag.BoolVar(&o.Alone, "duckdb-alone", true, "after each DuckDB run, time DuckDB alone storing the same rows (a copy of the run's tables into a new file in one transaction)")
	flag.IntVar(&o.Repeat, "repeat", 1, "run each destination and mode this many times, each right after a floor run of its own, and print the medians")
	flag.BoolVar(&o.Solo, "solo", false, "also time each resource alone (into the first destination, first mode) and compare the slowest with the full run")
	flag.StringVar(&extra, "args", "", "extra arguments for `restload run`, space-separated")
	flag.StringVar(&scens, "scenarios", "", "run these API-bound scenarios instead (latency, ratelimit), each against a mock of its own")
	flag.StringVar(&o.postgres, "postgres", envOr("RESTLOAD_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL URL (runs are skipped when unreachable)")
	flag.StringVar(&o.mysql, "mysql", envOr("RESTLOAD_TEST_MYSQL", "mysql://root@127.0.0.1:3306/test"), "MySQL or MariaDB URL (runs are skipped when unreachable)")
	flag.StringVar(&o.bin, "bin", "", "restload binary to measure (default: build ./cmd/restload)")
	flag.StringVar(&o.out, "out", "bench/results", "directory for the JSON results (\"\" to skip)")
	flag.BoolVar(&childStderr, "stderr", false, "pass each restload run's stderr (logs, warnings) through")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (pipelines, databases, load packages)")
	flag.StringVar(&o.profile, "profile", "", "write CPU and heap profiles of each restload run to this directory")
	flag.Parse()
	o.Resources = split(resources)
	o.Dests = split(dests)
	o.Modes = split(modes)
	o.Extra = strings.Fields(extra)
	o.Scenarios = split(scens)
	for _, sc := range o.Scenarios {
		if scenarios[sc] == nil {
			fmt.Fprintf(os.Stderr, "bench: unknown scenario %q (want latency or ratelimit)\n", sc)
			os.Exit(2)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	tmp, err := os.MkdirTemp("", "restload-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if o.bin == "" {
		o.bin = filepath.Join(tmp, "restload")
		fmt.Fprintln(os.Stderr, "building ./cmd/restload ...")
		linked := o.bin + ".linked"
		b := exec.CommandContext(ctx, "go", "build", "-tags", "duckdb_arrow", "-o", linked, "./cmd/restload")
		b.Stdout, b.Stderr = os.Stderr, os.Stderr
		if err := b.Run(); err != nil {
			return fmt.Errorf("build restload: %w", err)
		}
		if err := copyBinary(linked, o.bin); err != nil {
			return err
		}
	}

	rep := Report{Started: time.Now().UTC(), Commit: commit(), Go: runtime.Version(), CPUs: runtime.NumCPU(), Options: o}
	if len(o.Scenarios) > 0 {
		for _, sc := range o.Scenarios {
			rep.Results = append(rep.Results, scenarios[sc](ctx, o, tmp)...)
		}
		printScenarioTable(os.Stdout, rep.Results)
		return writeReport(o, rep)
	}

	api, err := mockapi.Start(ctx, "127.0.0.1:0", mockapi.Options{Records: o.Records, Latency: o.Latency, Compress: o.Compress})
	if err != nil {
		return err
	}
	defer api.Close()
	if len(o.Resources) == 0 {
		o.Resources = api.Server.Resources()
	}
	fmt.Fprintf(os.Stderr, "mock API on %s: %d resources x %d records, limit %d, latency %s, workers %d\n",
		api.URL, len(o.Resources), o.Records, o.Limit, o.Latency, o.Workers)

	floor, err := runFloor(ctx, api, o, o.Resources)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	rep.Results = append(rep.Results, floor)
	printRow(floor)

	for _, dest := range o.Dests {
		if strings.HasSuffix(dest, "-s3") && o.s3 == "" {
			endpoint, stop, err := startFakeS3()
			if err != nil {
				return fmt.Errorf("fake S3: %w", err)
			}
			defer stop()
			o.s3 = endpoint
		}
		for _, mode := range o.Modes {
			for range max(o.Repeat, 1) {
				if o.Repeat > 1 {
					// Every repeated run gets a floor of its own, just before it.
					if floor, err = runFloor(ctx, api, o, o.Resources); err != nil {
						return fmt.Errorf("floor: %w", err)
					}
					rep.Results = append(rep.Results, floor)
					printRow(floor)
				}
				r := runRestload(ctx, api, o, tmp, dest, mode, o.Resources, dest+"-"+mode)
				r.Name = dest
				compare(&r, floor)
				rep.Results = append(rep.Results, r)
				printRow(r)
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if dest == "duckdb" && o.Alone && r.Error == "" && r.Skipped == "" {
					a := duckdbAlone(ctx, r)
					compare(&a, floor)
					rep.Results = append(rep.Results, a)
				}
			}
		}
	}

	if o.Solo && len(o.Dests) > 0 && len(o.Modes) > 0 {
		var slowest float64
		for _, res := range o.Resources {
			r := runRestload(ctx, api, o, tmp, o.Dests[0], o.Modes[0], []string{res}, "solo-"+res)
			r.Name = "solo:" + res
			rep.Results = append(rep.Results, r)
			printRow(r)
			slowest = max(slowest, r.Seconds)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		for _, r := range rep.Results {
			if r.Name == o.Dests[0] && r.Mode == o.Modes[0] && slowest > 0 {
				fmt.Fprintf(os.Stderr, "all %d resources together: %.2fs = %.2fx the slowest alone (%.2fs)\n",
					len(o.Resources), r.Seconds, r.Seconds/slowest, slowest)
			}
		}
	}

	printTable(os.Stdout, rep.Results)
	if o.Repeat > 1 {
		fmt.Println()
		printTable(os.Stdout, medians(rep.Results))
	}
	return writeReport(o, rep)
}

// compare sets r's ratio to floor, the floor run measured before it.
func compare(r *Result, floor Result) {
	if floor.Seconds > 0 && r.Seconds > 0 {
		r.FloorSeconds = floor.Seconds
		r.VsFloor = r.Seconds / floor.Seconds
	}
}

// medians gives one row per run name and mode of rs that ran more than
// once: the median of its runs' seconds, CPU seconds, ratios to their
// floors and phases, and the highest peak RSS. The floor's row has the
// median of the floor runs.
func medians(rs []Result) []Result {
	type key struct{ name, mode string }
	var order []key
	groups := map[key][]Result{}
	for _, r := range rs {
		if r.Skipped != "" || r.Error != "" {
			continue
		}
		k := key{r.Name, r.Mode}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	var out []Result
	for _, k := range order {
		g := groups[k]
		if len(g) < 2 {
			continue
		}
		m := g[0]
		m.Name = "median:" + k.name
		pick := func(f func(Result) float64) float64 {
			v := make([]float64, len(g))
			for i, r := range g {
				v[i] = f(r)
			}
			return median(v)
		}
		m.Seconds = pick(func(r Result) float64 { return r.Seconds })
		m.CPUSeconds = pick(func(r Result) float64 { return r.CPUSeconds })
		m.VsFloor = pick(func(r Result) float64 { return r.VsFloor })
		m.FloorSeconds = pick(func(r Result) float64 { return r.FloorSeconds })
		m.RecordsPS = float64(m.Records) / m.Seconds
		m.PagesPS = float64(m.Pages) / m.Seconds
		for _, r := range g {
			m.PeakRSSMB = max(m.PeakRSSMB, r.PeakRSSMB)
		}
		if m.Phases != nil {
			m.Phases = &pipeline.Phases{
				Extract: pick(func(r Result) float64 { return phase(r, func(p *pipeline.Phases) float64 { return p.Extract }) }),
				Load:    pick(func(r Result) float64 { return phase(r, func(p *pipeline.Phases) float64 { return p.Load }) }),
				Commit:  pick(func(r Result) float64 { return phase(r, func(p *pipeline.Phases) float64 { return p.Commit }) }),
			}
		}
		out = append(out, m)
	}
	return out
}

func phase(r Result, f func(*pipeline.Phases) float64) float64 {
	if r.Phases == nil {
		return 0
	}
	return f(r.Phases)
}

// median returns the middle value of v (the mean of the middle two for an
// even count); v is sorted in place.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

// writeReport writes rep as JSON to o.out, unless it is "".
func writeReport(o options, rep Report) error {
	if o.out == "" {
		return nil
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	path := filepath.Join(o.out, rep.Started.Format("20060102T150405Z")+".json")
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "results written to", path)
	return nil
}

// runFloor fetches and decodes every page of every resource, workers
// resources at a time, and nothing else.
func runFloor(ctx context.Context, api *mockapi.Running, o options, resources []string) (Result, error) {
	token, err := accessToken(ctx, api.TokenURL)
	if err != nil {
		return Result{}, err
	}
	// Keep a connection per request in flight, as restload run does
	// (DefaultTransport keeps two per host and reconnects for the rest).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4 * o.Workers
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var mu sync.Mutex
	var records, pages int64
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Workers)
	for _, res := range resources {
		g.Go(func() error {
			r, p, err := floorResource(gctx, client, api.URL+"/"+res, token, o.Limit)
			mu.Lock()
			records += r
			pages += p
			mu.Unlock()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return Result{}, err
	}
	secs := time.Since(start).Seconds()
	return Result{Name: "floor", Records: records, Pages: pages, Seconds: secs,
		RecordsPS: float64(records) / secs, PagesPS: float64(pages) / secs}, nil
}

func floorResource(ctx context.Context, c *http.Client, base, token string, limit int) (records, pages int64, err error) {
	for page := 1; ; page++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"?limit="+strconv.Itoa(limit)+"&page="+strconv.Itoa(page), nil)
		if err != nil {
			return records, pages, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			return records, pages, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return records, pages, err
		}
		if resp.StatusCode != http.StatusOK {
			return records, pages, fmt.Errorf("GET %s: %s", req.URL, resp.Status)
		}
		v, err := response.DecodeOwned(body)
		if err != nil {
			return records, pages, fmt.Errorf("GET %s: %w", req.URL, err)
		}
		m, _ := v.(map[string]any)
		entries, _ := m["entries"].([]any)
		pages++
		records += int64(len(entries))
		if m["nextPage"] == nil {
			return records, pages, nil
		}
	}
}

func accessToken(ctx context.Context, tokenURL string) (string, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {mockapi.DefaultRefreshToken},
		"client_id": {mockapi.DefaultClientID}, "client_secret": {mockapi.DefaultClientSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token endpoint: %s: %v", resp.Status, err)
	}
	return tok.AccessToken, nil
}

// runRestload measures `restload run` of the seed pipeline into dest with
// write disposition mode (remerge: a merge run, then a timed second one).
func runRestload(ctx context.Context, api *mockapi.Running, o options, tmp, dest, mode string, resources []string, tag string) Result {
	res := Result{Name: dest, Mode: mode}
	dir := filepath.Join(tmp, tag)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		res.Error = err.Error()
		return res
	}
	disposition := mode
	if mode == "remerge" {
		disposition = "merge"
	}
	if (dest == "parquet" || dest == "jsonl" || strings.HasSuffix(dest, "-s3")) && disposition == "merge" {
		res.Skipped = "the file destinations do not merge"
		return res
	}
	dataset := "bench_" + strings.ReplaceAll(tag, "-", "_") + "_" + strconv.FormatInt(time.Now().Unix(), 36)
	pipelineFile, err := writePipeline(api, dir, o.Limit, disposition, dataset, o.pipelineExtra)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	var destURL string
	switch dest {
	case "duckdb":
		res.db, res.dataset = filepath.Join(dir, "bench.duckdb"), dataset
		destURL = "duckdb:" + res.db
	case "parquet", "jsonl":
		destURL = dest + ":" + filepath.Join(dir, "out")
	case "parquet-s3", "jsonl-s3":
		destURL = s3Dest(dest, o.s3, tag)
	case "iceberg":
		destURL = "iceberg:" + filepath.Join(dir, "warehouse")
	case "postgres":
		if err := pgDataset(ctx, o.postgres, dataset, false); err != nil {
			res.Skipped = "postgres unreachable: " + err.Error()
			return res
		}
		defer pgDataset(context.Background(), o.postgres, dataset, true)
		destURL = o.postgres
	case "mysql":
		if err := myDataset(ctx, o.mysql, dataset, false); err != nil {
			res.Skipped = "mysql unreachable: " + err.Error()
			return res
		}
		defer myDataset(context.Background(), o.mysql, dataset, true)
		destURL = o.mysql
	default:
		res.Error = "unknown destination " + dest
		return res
	}
	args := []string{"run", pipelineFile, "--dest", destURL, "--work-dir", filepath.Join(dir, "work"),
		"--workers", strconv.Itoa(o.Workers), "--progress", "none"}
	for _, r := range resources {
		args = append(args, "--resource", r)
	}
	args = append(args, o.Extra...)
	if mode == "remerge" {
		if _, err := child(ctx, o.bin, append(args, "--summary-json", filepath.Join(dir, "first.json"))); err != nil {
			res.Error = err.Error()
			return res
		}
	}
	if o.profile != "" {
		_ = os.MkdirAll(o.profile, 0o755)
		args = append(args, "--cpuprofile", filepath.Join(o.profile, tag+".cpu.pprof"),
			"--memprofile", filepath.Join(o.profile, tag+".mem.pprof"))
	}
	sumFile := filepath.Join(dir, "summary.json")
	m, err := child(ctx, o.bin, append(args, "--summary-json", sumFile))
	res.Seconds = m.seconds
	res.PeakRSSMB = m.rssMB
	res.CPUSeconds = m.cpu
	if err != nil {
		res.Error = err.Error()
		return res
	}
	var sum struct {
		Resources []struct {
			Records int64 `json:"records"`
			Pages   int64 `json:"pages"`
		} `json:"resources"`
		Phases *pipeline.Phases `json:"phases"`
	}
	b, err := os.ReadFile(sumFile)
	if err == nil {
		err = json.Unmarshal(b, &sum)
	}
	if err != nil {
		res.Error = "summary: " + err.Error()
		return res
	}
	res.Phases = sum.Phases
	for _, r := range sum.Resources {
		res.Records += r.Records
		res.Pages += r.Pages
	}
	if want := int64(o.Records * len(resources)); res.Records != want {
		res.Error = fmt.Sprintf("loaded %d records, the mock served %d", res.Records, want)
	}
	res.RecordsPS = float64(res.Records) / res.Seconds
	res.PagesPS = float64(res.Pages) / res.Seconds
	return res
}

// childStderr passes the restload runs' stderr through (-stderr).
var childStderr bool

// child runs the restload binary and measures its wall time, CPU time and
// peak RSS.
func child(ctx context.Context, bin string, args []string) (measure, error) {
	env := append(os.Environ(),
		"CLIENT_ID="+mockapi.DefaultClientID,
		"CLIENT_SECRET="+mockapi.DefaultClientSecret,
		"CLIENT_REFRESH_TOKEN="+mockapi.DefaultRefreshToken)
	var stderr strings.Builder
	var errOut io.Writer = &stderr
	if childStderr {
		errOut = io.MultiWriter(&stderr, os.Stderr)
	}
	m, err := runMeasured(ctx, bin, args, env, io.Discard, errOut)
	if err != nil {
		return m, fmt.Errorf("restload %s: %w: %s", strings.Join(args[:2], " "), err, strings.TrimSpace(stderr.String()))
	}
	return m, nil
}

// writePipeline writes the seed pipeline pointed at api with the given page
// size, write disposition and dataset, and extra YAML at its end.
func writePipeline(api *mockapi.Running, dir string, limit int, disposition, dataset, extra string) (string, error) {
	data, err := examples.FS.ReadFile("analytics/pipeline.yaml")
	if err != nil {
		return "", err
	}
	s := string(data)
	for _, r := range [][2]string{
		{"http://127.0.0.1:8080", strings.TrimSuffix(api.URL, "/v2")},
		{"limit: 100", "limit: " + strconv.Itoa(limit)},
		{"write_disposition: merge", "write_disposition: " + disposition},
		{"dataset: analytics", "dataset: " + dataset},
	} {
		if !strings.Contains(s, r[0]) {
			return "", fmt.Errorf("examples/analytics/pipeline.yaml no longer contains %q; update bench", r[0])
		}
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	path := filepath.Join(dir, "pipeline.yaml")
	return path, os.WriteFile(path, []byte(s+extra), 0o644)
}

// pgDataset checks PostgreSQL is reachable, or drops the dataset's schemas.
func pgDataset(ctx context.Context, pgURL, dataset string, drop bool) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if !drop {
		return conn.Ping(ctx)
	}
	for _, s := range []string{dataset, dataset + "_staging"} {
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{s}.Sanitize()+" CASCADE"); err != nil {
			return err
		}
	}
	return nil
}

// myDataset checks MySQL is reachable, or drops the dataset's database.
func myDataset(ctx context.Context, myURL, dataset string, drop bool) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cfg, err := mysqldest.Config(myURL)
	if err != nil {
		return err
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	if !drop {
		return db.PingContext(ctx)
	}
	_, err = db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+dataset+"`")
	return err
}

func printRow(r Result) {
	switch {
	case r.Skipped != "":
		fmt.Fprintf(os.Stderr, "%-16s %-8s skipped: %s\n", r.Name, r.Mode, r.Skipped)
	case r.Error != "":
		fmt.Fprintf(os.Stderr, "%-16s %-8s FAILED after %.2fs: %s\n", r.Name, r.Mode, r.Seconds, r.Error)
	default:
		fmt.Fprintf(os.Stderr, "%-16s %-8s %9d records %6.2fs %9.0f rec/s %6.1f MB\n", r.Name, r.Mode, r.Records, r.Seconds, r.RecordsPS, r.PeakRSSMB)
	}
}

func printTable(w io.Writer, rs []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "RUN\tMODE\tRECORDS\tPAGES\tSECONDS\tRECORDS/S\tPAGES/S\tCPU S\tPEAK RSS MB\tx FLOOR\tEXTRACT x FLOOR\tEXTRACT+LOAD+COMMIT S\t")
	var notes []string
	for _, r := range rs {
		if r.Skipped != "" || r.Error != "" {
			notes = append(notes, fmt.Sprintf("%s %s: %s%s", r.Name, r.Mode, r.Skipped, r.Error))
			continue
		}
		cpu, rss, vs := "-", "-", "-"
		if r.CPUSeconds > 0 {
			cpu = fmt.Sprintf("%.1f", r.CPUSeconds)
		}
		if r.PeakRSSMB > 0 {
			rss = fmt.Sprintf("%.1f", r.PeakRSSMB)
		}
		if r.VsFloor > 0 {
			vs = fmt.Sprintf("%.2f", r.VsFloor)
		}
		phases, extractVs := "-", "-"
		if p := r.Phases; p != nil {
			phases = fmt.Sprintf("%.1f+%.1f+%.1f", p.Extract, p.Load, p.Commit)
			if r.FloorSeconds > 0 && p.Extract > 0 {
				extractVs = fmt.Sprintf("%.2f", p.Extract/r.FloorSeconds)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.2f\t%.0f\t%.0f\t%s\t%s\t%s\t%s\t%s\t\n", r.Name, r.Mode, r.Records, r.Pages, r.Seconds, r.RecordsPS, r.PagesPS, cpu, rss, vs, extractVs, phases)
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintln(w, "  "+n)
	}
}

func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += "-dirty"
	}
	return c
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// copyBinary copies the freshly linked binary with plain writes, as an
// installed or downloaded binary is written. The linker writes its output
// through a memory map, and until the kernel drops those page-cache pages a
// process started from the file maps them in large chunks: measured here,
// `restload version` peaked at 125 MB started from the linker's file and at
// 85 MB from a copy (or from the same file after dropping caches), which
// would put 40 MB into every run's peak RSS that no installed binary has.
func copyBinary(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy the restload binary: %w", err)
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Remove(from)
}
