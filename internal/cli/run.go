package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/restload/restload/internal/auth"
	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/extract"
	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/pipeline"
)

type runFlags struct {
	dest        string
	secrets     string
	workers     int
	workDir     string
	resources   []string
	summaryJSON string
	progress    string
	lockTimeout time.Duration
	tokenStore  string
	cpuProfile  string
	memProfile  string
	limit       int
	maxPages    int
	memory      string
}

func (f *runFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.dest, "dest", "", "destination URL (duckdb:PATH, postgres://..., parquet:DIR, jsonl:DIR); overrides pipeline.destination")
	c.Flags().StringVar(&f.secrets, "secrets", "", "TOML secrets file (default .restload/secrets.toml beside the pipeline file)")
	c.Flags().IntVar(&f.workers, "workers", pipeline.DefaultWorkers, "resource trees extracted at once (requests are further bounded by the file's limits)")
	c.Flags().StringVar(&f.workDir, "work-dir", "", "where load packages are kept (default .restload/<pipeline> beside the pipeline file)")
	c.Flags().StringSliceVar(&f.resources, "resource", nil, "run only these resources (repeatable)")
	c.Flags().StringVar(&f.summaryJSON, "summary-json", "", "also write the run summary as JSON to this file")
	c.Flags().StringVar(&f.tokenStore, "token-store", "", "where OAuth2 tokens are kept between runs (default: pipeline.token_store, else .restload/tokens beside the pipeline file)")
	c.Flags().StringVar(&f.progress, "progress", "auto", "progress display on stderr: auto (bars on a terminal, plain lines otherwise), bar, plain or none")
	c.Flags().DurationVar(&f.lockTimeout, "lock-timeout", destination.DefaultLockTimeout, "longest wait for a lock another session holds on the dataset (a load committing, a table lock, a files dataset's lock file)")
	c.Flags().IntVar(&f.limit, "limit", 0, "load at most N records per resource, then stop it quietly (0: all; like dlt's add_limit; an incremental cursor is not saved)")
	c.Flags().IntVar(&f.maxPages, "max-pages", 0, "read at most N pages per resource, then stop it quietly (0: all)")
	c.Flags().StringVar(&f.memory, "memory", "", "memory budget for the whole process, e.g. 512MB or 2GiB (Go's heap and DuckDB's memory_limit get shares; overrides limits.memory)")
	c.Flags().StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	c.Flags().StringVar(&f.memProfile, "memprofile", "", "write a heap profile (after the run) to this file")
	_ = c.Flags().MarkHidden("cpuprofile")
	_ = c.Flags().MarkHidden("memprofile")
}

func runCmd(g *globals) *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "run PIPELINE",
		Short: "Extract every resource of a pipeline file and load it into the destination",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if f.limit < 0 || f.maxPages < 0 {
				return usageError{errors.New("--limit and --max-pages take a positive number (0: no limit)")}
			}
			memory, err := parseMemory(f.memory)
			if err != nil {
				return err
			}
			stopProfiles, err := startProfiles(f.cpuProfile, f.memProfile)
			if err != nil {
				return err
			}
			defer func() {
				if perr := stopProfiles(); perr != nil && err == nil {
					err = perr
				}
			}()
			p, err := g.loadPipeline(cmd.Context(), args[0], config.LoadOptions{SecretsFile: f.secrets})
			if err != nil {
				return err
			}
			if err := checkResourceNames(p, f.resources); err != nil {
				return err
			}
			sum, err := g.runWithProgress(cmd.Context(), p, f.progress, pipeline.Options{
				Destination: f.dest, WorkDir: f.workDir, Workers: f.workers, Resources: f.resources, LockTimeout: f.lockTimeout,
				Limit: extract.Limit{Records: f.limit, Pages: f.maxPages}, Memory: memory,
				TokenStore: &auth.Store{Dir: auth.StoreDir(p.File, p.Pipeline.TokenStore, f.tokenStore), Pipeline: p.Pipeline.Name, Origin: p.SecretOrigin},
			})
			if werr := writeSummaryJSON(f.summaryJSON, sum); werr != nil && err == nil {
				err = werr
			}
			return err
		},
	}
	f.register(c)
	return c
}

// parseMemory reads run --memory ("": no budget from the command line).
func parseMemory(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	b, err := config.ParseByteSize(s)
	if err == nil && b < config.MinMemory {
		err = fmt.Errorf("want at least %s", config.MinMemory)
	}
	if err != nil {
		return 0, usageError{fmt.Errorf("--memory: %w", err)}
	}
	return int64(b), nil
}

// runWithProgress runs p with a progress display in mode and a logger
// that writes around it, then prints the run summary on stdout. opts'
// Logger and Observer are set here.
func (g *globals) runWithProgress(ctx context.Context, p *config.Pipeline, mode string, opts pipeline.Options) (*pipeline.Summary, error) {
	prog, err := newProgress(mode, g.stderr, resourceNames(p, opts.Resources))
	if err != nil {
		return nil, err
	}
	defer prog.Stop()
	// One redactor for the run's errors, logs and summary: it learns the
	// credentials sent at run time (OAuth2 access tokens).
	red := httpclient.NewRedactor(p.SecretValues()...)
	log, err := g.loggerTo(prog.Writer(), red)
	if err != nil {
		return nil, err
	}
	opts.Logger, opts.Observer, opts.Redactor = log, prog, red
	if opts.TokenStore != nil {
		opts.TokenStore.Logger = log
	}
	sum, err := pipeline.Run(ctx, p, opts)
	sanitizeSummary(sum, red)
	prog.Stop()
	printSummary(g.stdout, sum)
	return sum, err
}

// sanitizeSummary masks secrets in, and escapes, the summary's texts that
// may quote an API (errors, warnings naming its JSON keys, schema changes).
func sanitizeSummary(s *pipeline.Summary, red *httpclient.Redactor) {
	if s == nil {
		return
	}
	for i := range s.Changes {
		s.Changes[i] = red.String(s.Changes[i])
	}
	for i := range s.Resources {
		r := &s.Resources[i]
		r.Error = red.String(r.Error)
		for j := range r.Warnings {
			r.Warnings[j] = red.String(r.Warnings[j])
		}
	}
}

// resourceNames lists the resources a run will extract (for progress).
func resourceNames(p *config.Pipeline, only []string) []string {
	if len(only) > 0 {
		return only
	}
	var out []string
	for _, r := range p.Source.Resources {
		if r.Selected == nil || *r.Selected {
			out = append(out, r.Name)
		}
	}
	return out
}

// printSummary prints the run's table: one line per resource and table.
func printSummary(w io.Writer, s *pipeline.Summary) {
	if s == nil || (len(s.Resources) == 0 && len(s.Pending) == 0) {
		return
	}
	for _, id := range s.Pending {
		fmt.Fprintf(w, "loaded package %s left by an earlier run\n", id)
	}
	if len(s.Resources) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tSTATUS\tRECORDS\tPAGES\tRETRIES\tSECONDS\tTABLE ROWS")
	var total int64
	for _, r := range s.Resources {
		tables := make([]string, 0, len(r.Rows))
		for t := range r.Rows {
			tables = append(tables, t)
		}
		sort.Strings(tables)
		rows := ""
		for i, t := range tables {
			if i > 0 {
				rows += ", "
			}
			rows += fmt.Sprintf("%s=%d", t, r.Rows[t])
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.2f\t%s\n", r.Name, r.Status, r.Records, r.Pages, r.Retries, r.Seconds, rows)
		total += r.Records
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d records in %.2fs into %s (dataset %s, load %s, schema version %d)\n",
		total, s.Seconds, s.Destination, s.Dataset, s.LoadID, s.SchemaVersion)
	if ph := s.Phases; ph != (pipeline.Phases{}) {
		fmt.Fprintf(w, "  time: extract %.2fs, then load %.2fs and commit %.2fs\n", ph.Extract, ph.Load, ph.Commit)
	}
	for _, c := range s.Changes {
		fmt.Fprintf(w, "  schema: %s\n", c)
	}
	printRotations(w, s.TokenRotations)
	for _, r := range s.Resources {
		if r.Status == load.Loaded && r.Records == 0 {
			fmt.Fprintf(w, "  %s: no records: %d %s read and none held records (check data_selector and params)\n", r.Name, r.Pages, plural(r.Pages, "page was", "pages were"))
		}
		if r.VariantValues > 0 {
			fmt.Fprintf(w, "  %s: %d value(s) went to variant columns (their type did not fit their column)\n", r.Name, r.VariantValues)
		}
		if r.DiscardedRows > 0 || r.DiscardedValues > 0 {
			fmt.Fprintf(w, "  %s: the schema contract discarded %d row(s) and %d value(s)\n", r.Name, r.DiscardedRows, r.DiscardedValues)
		}
	}
}

// printRotations says where rotated OAuth2 refresh tokens were saved.
func printRotations(w io.Writer, rots []auth.Rotation) {
	for _, r := range rots {
		fmt.Fprintf(w, "  oauth2: the refresh token was rotated (%d time(s)); the new one was saved to %s\n", r.Count, r.SavedTo)
	}
}

// startProfiles starts a CPU profile into cpuFile and arranges for a heap
// profile into memFile; the returned function stops and writes them.
func startProfiles(cpuFile, memFile string) (stop func() error, err error) {
	var cpu *os.File
	if cpuFile != "" {
		if cpu, err = os.Create(cpuFile); err != nil {
			return nil, usageError{fmt.Errorf("--cpuprofile: %w", err)}
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	return func() error {
		var errs []error
		if cpu != nil {
			pprof.StopCPUProfile()
			errs = append(errs, cpu.Close())
		}
		if memFile != "" {
			runtime.GC()
			f, err := os.Create(memFile)
			if err != nil {
				return fmt.Errorf("--memprofile: %w", err)
			}
			errs = append(errs, pprof.WriteHeapProfile(f), f.Close())
		}
		return errors.Join(errs...)
	}, nil
}

func writeSummaryJSON(path string, s *pipeline.Summary) error {
	if path == "" || s == nil {
		return nil
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--summary-json: %w", err)
	}
	return nil
}
