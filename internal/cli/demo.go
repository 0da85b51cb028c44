package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/restload/restload/examples"
	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/pipeline"
)

const demoPipeline = "analytics/pipeline.yaml"

func demoCmd(g *globals) *cobra.Command {
	var (
		dest    string
		records int
		workDir string
		// progressMode is --progress.
		progressMode string
	)
	c := &cobra.Command{
		Use:   "demo",
		Short: "Load the bundled mock analytics API (on loopback) into ./restload-demo.duckdb",
		Long: `demo starts the bundled mock of the analytics API on a free loopback port, runs
examples/analytics/pipeline.yaml (the seed pipeline) against it and loads the
eight resources into DuckDB. It needs no network and no secrets. Running it
again merges: row counts stay the same.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			api, err := mockapi.Start(ctx, "127.0.0.1:0", mockapi.Options{Records: records})
			if err != nil {
				return err
			}
			defer api.Close()
			p, err := demoConfig(api)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "mock analytics API on %s (%d records per resource)\n\n", api.URL, api.Server.Count("files"))
			if _, err := g.runWithProgress(ctx, p, progressMode, pipeline.Options{Destination: dest, WorkDir: workDir}); err != nil {
				return err
			}
			d, ds := shellQuote(dest), shellQuote(p.Pipeline.Dataset)
			fmt.Fprintf(g.stdout, `
Look at the data:
  restload info --dest %s --dataset %s
  restload query --dest %s --dataset %s %s
`, d, ds, d, ds, shellQuote(demoQuery))
			return nil
		},
	}
	c.Flags().StringVar(&dest, "dest", "duckdb:./restload-demo.duckdb", "destination URL")
	c.Flags().IntVar(&records, "records", 2500, "records per resource served by the mock API")
	c.Flags().StringVar(&workDir, "work-dir", ".restload/demo", "where load packages are kept")
	c.Flags().StringVar(&progressMode, "progress", "auto", "progress display on stderr: auto (bars on a terminal, plain lines otherwise), bar, plain or none")
	return c
}

// demoConfig reads the embedded example pipeline with the mock's demo
// credentials and ANALYTICS_URL, which its URLs default from, set to the
// running mock.
func demoConfig(api *mockapi.Running) (*config.Pipeline, error) {
	data, err := examples.FS.ReadFile(demoPipeline)
	if err != nil {
		return nil, err
	}
	creds := map[string]string{
		"CLIENT_ID":            mockapi.DefaultClientID,
		"CLIENT_SECRET":        mockapi.DefaultClientSecret,
		"CLIENT_REFRESH_TOKEN": mockapi.DefaultRefreshToken,
		"ANALYTICS_URL":        "http://" + api.Addr,
	}
	p, err := config.Parse("examples/"+demoPipeline, data, config.LoadOptions{
		SecretsFile: "",
		LookupEnv:   func(k string) (string, bool) { v, ok := creds[k]; return v, ok },
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// demoQuery is the query the demo's closing hint suggests.
const demoQuery = "SELECT name, owner__email, created_at FROM files LIMIT 5"

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,/:@%+=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

func mockAPICmd(g *globals) *cobra.Command {
	var (
		addr string
		o    mockapi.Options
		ttl  time.Duration
	)
	c := &cobra.Command{
		Use:   "mock-api",
		Short: "Serve the bundled mock analytics API (for trying pipelines and for tests)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.TokenTTL = ttl
			api, err := mockapi.Start(cmd.Context(), addr, o)
			if err != nil {
				return usageError{err}
			}
			defer api.Close()
			fmt.Fprintf(g.stdout, "mock analytics API (%s flavor) serving on %s\ntoken endpoint %s\nclient_id=%s client_secret=%s refresh_token=%s\n",
				flavor(o.Flavor), api.URL, api.TokenURL, mockapi.DefaultClientID, mockapi.DefaultClientSecret, mockapi.DefaultRefreshToken)
			if api.OtherURL != "" {
				fmt.Fprintf(g.stdout, "redirect faults go to %s\n", api.OtherURL)
			}
			<-cmd.Context().Done()
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	f.StringVar(&o.Flavor, "flavor", "analytics", "analytics (the seed's shape) or sigma (the real API's shape)")
	f.IntVar(&o.Records, "records", 2500, "records per resource")
	f.DurationVar(&ttl, "token-ttl", time.Hour, "access-token lifetime")
	f.BoolVar(&o.RotateRefreshToken, "rotate-refresh-token", false, "issue a new refresh token on each refresh")
	f.DurationVar(&o.Latency, "latency", 0, "latency added to every data request")
	f.StringVar(&o.Compress, "compress", "", "send list pages gzip- or zstd-compressed to requests that accept it (gzip, zstd)")
	f.IntVar(&o.RateLimitEvery, "rate-limit-every", 0, "answer 429 in bursts every N data requests")
	f.Float64Var(&o.RateLimit, "rate-limit", 0, "allow N data requests a second (a token bucket of --rate-burst), 429 with Retry-After above it")
	f.IntVar(&o.RateBurst, "rate-burst", 0, "--rate-limit's bucket size (0: a tenth of a second's requests)")
	f.IntVar(&o.BurstLen, "burst", 1, "length of each 429 burst")
	f.StringVar(&o.RetryAfter, "retry-after", "1", "Retry-After header on 429s (seconds or HTTP date)")
	f.IntVar(&o.FaultEvery, "fault-every", 0, "answer every Nth data request with a 5xx")
	f.IntVar(&o.MaxFaultStreak, "max-fault-streak", mockapi.DefaultMaxFaultStreak, "fault the same request at most N times in a row (0: 3)")
	f.StringVar(&o.BodyFault, "body-fault", "", "break data responses after their request: "+strings.Join(mockapi.BodyFaults, ", "))
	f.IntVar(&o.BodyFaultEvery, "body-fault-every", 1, "serve the body fault on every Nth data request (of --body-fault-page's)")
	f.IntVar(&o.BodyFaultPage, "body-fault-page", 0, "serve the body fault only on requests for this page (0: any page)")
	f.DurationVar(&o.TrickleInterval, "trickle-interval", mockapi.DefaultTrickleInterval, "wait between the bytes of a trickle")
	f.IntVar(&o.GzipBombBytes, "gzip-bomb-bytes", mockapi.DefaultGzipBombBytes, "what a gzip bomb expands to, in bytes")
	f.StringVar(&o.RedirectURL, "redirect-to", "", "where redirect faults send requests (default: a second listener, on 127.0.0.2 when it can)")
	f.BoolVar(&o.ShiftRecords, "shift", false, "shift records between pages (boundary records served twice)")
	f.Int64Var(&o.Seed, "seed", 0, "data seed")
	return c
}

func flavor(f string) string {
	if f == "" {
		return "analytics"
	}
	return f
}
