// Package pipeline runs a loaded pipeline file end to end: it finishes
// packages an earlier run left behind, extracts every selected resource
// (in parallel, bounded by Workers) into a new load package, and loads that
// package into the destination in one transaction.
//
// It owns the composition, not the steps: which resources run and in what
// trees (the walk itself is extract.Walk), the table groups of resources
// writing the same tables, the hand-over of each resource's records to
// normalize and spool, and the order of open, extract, load and finish.
// The API client is httpclient.New's, incremental state an
// incremental.Tracker's, when to load parts load.PartPolicy's and the
// loading goroutine a load.Scheduler.
//
// Loading overlaps extraction: the transaction begins before the first
// request. Into a database (DuckDB, PostgreSQL) an append or merge
// resource is loaded in parts while it extracts (see load.PartPolicy), the rest
// and its merge when its parent/child tree finished; a replace resource,
// and any resource of a file destination, when its tree finished. One
// thing loads at a time. State, the schema version and the loads row are
// written, and the transaction commits, only after every tree finished and
// the package is sealed on disk. So a run that dies before the seal has
// committed nothing (the next run extracts again), and one that dies after
// it leaves a sealed package the next run loads first. A resource that
// fails after parts of it were loaded makes the run roll back and load the
// others again, from the package, in a new transaction.
package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/restload/restload/internal/auth"
	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/extract"
	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/spool"
	"github.com/restload/restload/internal/steps"
)

// DefaultWorkers is how many resource trees are extracted at once by
// default: enough that an API with a handful of slow endpoints (the seed's
// eight) is read in parallel; per-host limits in the pipeline file bound
// the requests themselves.
const DefaultWorkers = 8

// Options tune a run. The zero value works.
type Options struct {
	// Destination overrides the pipeline file's destination URL.
	Destination string
	// WorkDir holds load packages; default .restload/<pipeline> beside the
	// pipeline file.
	WorkDir string
	// Workers bounds how many resource trees are extracted at once
	// (default DefaultWorkers).
	Workers int
	// Resources, when set, limits the run to these resources.
	Resources []string
	Logger    *slog.Logger
	// HTTPClient is the base client (default: a fresh one with the
	// pipeline's timeout).
	HTTPClient *http.Client
	// Observer is told about progress (pages and records per resource).
	Observer Observer
	// LockTimeout bounds each wait for a lock another session holds on
	// the dataset (default destination.DefaultLockTimeout).
	LockTimeout time.Duration
	// TokenStore keeps OAuth2 tokens between runs and reports rotated
	// refresh tokens in the Summary (nil: tokens live for the run only).
	TokenStore *auth.Store
	// Now is the clock OAuth2 token lifetimes are measured with (nil:
	// time.Now).
	Now func() time.Time
	// Redactor, when set, is the run's redactor (shared with the caller's
	// logger); tokens obtained during the run are added to it.
	Redactor *httpclient.Redactor
	// OpenDestination opens the destination the run loads into (nil:
	// destination.Open, by URL scheme); the run closes what it returns.
	OpenDestination func(ctx context.Context, url, dataset string) (destination.Destination, error)
	// Parts says when an append or merge resource loading into a database
	// has the rows it wrote so far loaded while it still extracts (nil:
	// load.DefaultPartPolicy).
	Parts *load.PartPolicy
	// Limit caps the records and pages each resource extracts (run
	// --limit, --max-pages); the zero value caps nothing.
	Limit extract.Limit
	// Memory is the run's memory budget in bytes (run --memory; 0: the
	// file's limits.memory; neither: the defaults). See applyMemory.
	Memory int64
	// AfterExtract, when set, is called after the package is sealed and
	// before its load commits (tests use it to simulate a crash).
	AfterExtract func(pkgDir string)
}

// Observer receives progress events. Methods may be called concurrently
// and must not block: they run on the extraction's goroutines.
type Observer interface {
	// Page is called after each page of resource was normalized and
	// spooled; page counts from 1 and records is the page's record count.
	Page(resource string, page int, records int)
	// Retry is called before each retry of one of resource's requests.
	Retry(resource string)
}

// LoadObserver is an optional interface of an Observer: when the Observer
// implements it, Run calls Loading before a load package of an earlier run
// goes into the destination, and when every resource of this run finished
// extracting (what is left is loading the last resources and committing).
type LoadObserver interface {
	Loading(loadID string)
}

// TotalObserver is an optional interface of an Observer: when the
// Observer implements it, Run calls Total when the API says how many
// records a (root) resource has in all, so progress can show a percentage.
type TotalObserver interface {
	Total(resource string, total int64)
}

// loading tells obs, if it wants to know, that loadID starts loading.
func loading(obs Observer, loadID string) {
	if lo, ok := obs.(LoadObserver); ok {
		lo.Loading(loadID)
	}
}

// Summary is what a run did.
type Summary struct {
	Pipeline    string            `json:"pipeline"`
	Dataset     string            `json:"dataset"`
	Destination string            `json:"destination"`
	LoadID      string            `json:"load_id"`
	Started     time.Time         `json:"started_at"`
	Seconds     float64           `json:"seconds"`
	Resources   []ResourceSummary `json:"resources"`
	// Pending lists packages of earlier runs loaded first.
	Pending []string `json:"pending_loaded,omitempty"`
	// Phases splits Seconds: see Phases.
	Phases        Phases          `json:"phases"`
	SchemaVersion int             `json:"schema_version"`
	SchemaChanges []schema.Change `json:"-"`
	Changes       []string        `json:"schema_changes,omitempty"`
	// TokenRotations says where OAuth2 refresh tokens rotated during the
	// run were saved (paths, never tokens).
	TokenRotations []auth.Rotation `json:"refresh_token_rotations,omitempty"`
}

// Phases is where a run's time went, in seconds: Extract until the last
// resource finished extracting (parts of resources may load meanwhile),
// Load writing the rows left after that (and merging them), Commit the
// destination's commit. Loading pending packages of earlier runs comes
// before Extract and is in none of them.
type Phases struct {
	Extract float64 `json:"extract_seconds"`
	Load    float64 `json:"load_seconds"`
	Commit  float64 `json:"commit_seconds"`
}

// ResourceSummary is one resource's part of a run.
type ResourceSummary struct {
	Name   string      `json:"name"`
	Status load.Status `json:"status"` // loaded (with the run), failed
	Error  string      `json:"error,omitempty"`
	spool.Counts
	// Variants counts variant columns created for values whose type
	// conflicted with their column, VariantValues the values stored in
	// variant columns; DiscardedRows and DiscardedValues count what a
	// discard_row or discard_value schema contract dropped.
	Variants        int64 `json:"variants,omitempty"`
	VariantValues   int64 `json:"variant_values,omitempty"`
	DiscardedRows   int64 `json:"discarded_rows,omitempty"`
	DiscardedValues int64 `json:"discarded_values,omitempty"`
	// Warnings are normalization notices that did not stop the resource,
	// such as columns renamed because two fields collided.
	Warnings []string `json:"warnings,omitempty"`
}

// Error reports the resources that failed in a run whose other resources
// were loaded.
type Error struct {
	Failed []error
}

func (e *Error) Error() string {
	if len(e.Failed) == 1 {
		return e.Failed[0].Error()
	}
	s := fmt.Sprintf("%d resources failed:", len(e.Failed))
	for _, err := range e.Failed {
		s += "\n  " + err.Error()
	}
	return s
}

func (e *Error) Unwrap() []error { return e.Failed }

// Run runs p. A returned *Error means the other resources were loaded; any
// other error means nothing of this run was loaded. It reads as its four
// steps: open (the work dir, the destination, packages an earlier run
// left, the load's transaction, the API clients, a new package), extract
// (every resource tree, loading as it goes), load (the rest, sealed) and
// finish (commit and summary).
func Run(ctx context.Context, p *config.Pipeline, opts Options) (*Summary, error) {
	r := &run{p: p, opts: opts, start: time.Now(), sum: &Summary{Pipeline: p.Pipeline.Name}}
	defer r.close()
	if err := r.open(ctx); err != nil {
		return r.sum, err
	}
	if err := r.extract(ctx); err != nil {
		return r.sum, err
	}
	if err := r.load(ctx); err != nil {
		return r.sum, err
	}
	return r.sum, r.finish(ctx)
}

// run is one Run in progress.
type run struct {
	p     *config.Pipeline
	opts  Options
	start time.Time
	sum   *Summary
	log   *slog.Logger
	// cleanup is undone by close, last first.
	cleanup []func()

	dest      destination.Destination
	resources []*config.Resource
	ld        *load.Load
	pkg       *spool.Package
	env       *runEnv
	nul       load.NULCounts
	// results is what extracting gave; loadStart when it ended.
	results   *runResults
	loadStart time.Time
}

func (r *run) onClose(f func()) { r.cleanup = append(r.cleanup, f) }

func (r *run) close() {
	for i := len(r.cleanup) - 1; i >= 0; i-- {
		r.cleanup[i]()
	}
}

// logging sets the run's logger and returns its redactor, which knows
// the pipeline's secrets.
func (r *run) logging() *httpclient.Redactor {
	r.log = r.opts.Logger
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	redactor := r.opts.Redactor
	if redactor == nil {
		redactor = httpclient.NewRedactor()
	}
	redactor.Add(r.p.SecretValues()...)
	return redactor
}

// open checks p, locks the work dir, opens the destination, loads the
// packages an earlier run left for it, begins this run's load (reading
// the stored schema and state), builds the API clients and creates the
// run's package.
func (r *run) open(ctx context.Context) error {
	p, opts := r.p, r.opts
	redactor := r.logging()
	// The name becomes the work dir and the default DuckDB file, the
	// dataset a parquet/jsonl directory: never paths outside them (Load
	// refuses such names; a Pipeline built in code is checked here).
	if err := config.SafeName(p.Pipeline.Name); err != nil {
		return fmt.Errorf("pipeline.name: %w", err)
	}
	if err := config.SafeName(p.Pipeline.Dataset); err != nil {
		return fmt.Errorf("pipeline.dataset: %w", err)
	}
	destURL := p.DestinationURL(opts.Destination)
	r.sum = &Summary{Pipeline: p.Pipeline.Name, Dataset: p.Pipeline.Dataset, Destination: destination.Redact(destURL), Started: r.start.UTC()}
	r.onClose(func() { r.sum.TokenRotations = opts.TokenStore.Rotations() })
	// processing_steps expressions fail here, at file:line, before any I/O.
	compiled, err := steps.CompileAll(p)
	if err != nil {
		return err
	}

	workDir := opts.WorkDir
	if workDir == "" {
		workDir = filepath.Join(filepath.Dir(p.File), ".restload", p.Pipeline.Name)
	}
	pkgRoot := filepath.Join(workDir, "packages")
	unlock, err := lockWorkDir(workDir, p.Pipeline.Name)
	if err != nil {
		return err
	}
	r.onClose(unlock)

	open := opts.OpenDestination
	if open == nil {
		open = destination.Open
	}
	if r.dest, err = open(ctx, destURL, p.Pipeline.Dataset); err != nil {
		return fmt.Errorf("open destination: %w", err)
	}
	r.onClose(func() { r.dest.Close() })
	destination.SetLockWait(r.dest, destination.LockWait{Timeout: opts.LockTimeout, Log: r.log})
	if err := r.applyMemory(ctx); err != nil {
		return err
	}
	if err := checkCapabilities(p, r.dest, destURL, opts.Resources, r.log); err != nil {
		return err
	}
	target := spool.Target{Pipeline: p.Pipeline.Name, Destination: destination.Identity(destURL), Dataset: p.Pipeline.Dataset}
	r.nul = load.NULCounts{}
	r.onClose(func() { warnNUL(r.log, r.nul) })
	if err := r.loadPending(ctx, pkgRoot, target); err != nil {
		return err
	}

	for _, name := range opts.Resources {
		if p.Resource(name) == nil {
			return fmt.Errorf("no resource named %q in %s", name, p.File)
		}
	}
	r.resources = selectResources(p, opts.Resources)
	if len(r.resources) == 0 {
		return fmt.Errorf("no resources selected to run in %s", p.File)
	}
	loadID := spool.NewLoadID(r.start)
	r.sum.LoadID = loadID
	// The load's transaction is open while resources extract; see the
	// package doc. Begin reads the stored schema.
	if r.ld, err = load.Begin(ctx, r.dest, loadID); err != nil {
		return err
	}
	r.onClose(func() { r.ld.Rollback(ctx) })
	// Incremental cursors, as loaded with the rows (after pending packages).
	state, err := load.State(ctx, r.dest, p.Pipeline.Name)
	if err != nil {
		return err
	}
	deps, err := r.clients(redactor)
	if err != nil {
		return err
	}
	if r.pkg, err = spool.Create(pkgRoot, spool.Manifest{LoadID: loadID, Pipeline: p.Pipeline.Name, Source: cmp.Or(p.Pipeline.SourceName, config.DefaultSourceName), Dataset: p.Pipeline.Dataset, Destination: target.Destination}); err != nil {
		return err
	}
	r.env = &runEnv{p: p, tables: groupTables(p, r.ld.Stored(), r.resources), pkg: r.pkg, loadID: loadID, boundary: r.start, deps: deps, state: state, steps: compiled}
	if r.opts.Now != nil {
		r.env.boundary = r.opts.Now()
	}
	return nil
}

// loadPending finishes what an earlier run left for this destination:
// unsealed packages are discarded, sealed ones loaded.
func (r *run) loadPending(ctx context.Context, pkgRoot string, target spool.Target) error {
	sealed, unsealed, err := spool.Pending(pkgRoot)
	if err != nil {
		return err
	}
	sealed, unsealed = pendingFor(r.log, target, sealed, unsealed, r.opts.Resources)
	for _, u := range unsealed {
		r.log.Warn("discarding incomplete package of an earlier run (it died while extracting; extraction starts again)", "load_id", filepath.Base(u.Dir))
		if err := u.Remove(); err != nil {
			return err
		}
	}
	for _, s := range sealed {
		r.log.Info("loading package left by an earlier run", "load_id", s.Manifest.LoadID)
		loading(r.opts.Observer, s.Manifest.LoadID)
		res, err := load.Package(ctx, r.dest, s)
		if err != nil {
			return fmt.Errorf("pending package %s (%s): %w", s.Manifest.LoadID, s.Dir, err)
		}
		r.sum.Pending = append(r.sum.Pending, res.LoadID)
		r.nul.Add(res.NUL)
	}
	return nil
}

// clients builds what the run's API requests go through (see
// httpclient.New): one shared client, and so one token cache and one set
// of per-host limits, for every resource that uses the client's auth.
func (r *run) clients(redactor *httpclient.Redactor) (*resourceDeps, error) {
	p, opts := r.p, r.opts
	hc := opts.HTTPClient
	if hc == nil {
		tr := httpclient.NewTransport(idleConnsPerHost(r.workers(), p.Limits))
		r.onClose(tr.CloseIdleConnections)
		hc = &http.Client{Transport: tr, Timeout: time.Duration(p.Source.Client.Timeout)}
		if hc.Timeout == 0 {
			hc.Timeout = 60 * time.Second
		}
	}
	apiHost, err := auth.HostOf(p.Source.Client.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("client.base_url: %w", err)
	}
	deps := &resourceDeps{redactor: redactor, log: r.log, obs: opts.Observer, tokens: opts.TokenStore, now: opts.Now, limit: opts.Limit,
		http: httpclient.Options{Base: hc, Origin: apiHost, CredentialHeaders: p.CredentialHeaders(),
			Policy: p.Retry.Policy(), Hosts: httpclient.NewHosts(limits(p.Limits)), Redactor: redactor, Logger: r.log,
			Timeout: time.Duration(p.Source.Client.Timeout), IdleReadTimeout: time.Duration(p.Source.Client.IdleReadTimeout),
			MaxBodyBytes: p.Limits.ResponseBytes()}}
	if deps.shared, err = deps.client(p.Source.Client.Auth); err != nil {
		return nil, err
	}
	return deps, nil
}

func (r *run) workers() int {
	if r.opts.Workers > 0 {
		return r.opts.Workers
	}
	return DefaultWorkers
}

// extract runs every resource tree, Workers at once, into the package; a
// load.Scheduler loads each resource (and, into a database, parts of it)
// into the open transaction as it goes. A load error cancels the
// extraction and is the run's error.
func (r *run) extract(ctx context.Context) error {
	ectx, cancel := context.WithCancel(ctx)
	r.onClose(cancel)
	env, tables := r.env, r.env.tables
	sched := r.ld.Schedule(ectx, r.pkg, 2*len(r.resources), cancel)
	env.finished = func(res *config.Resource, own *schema.Schema) error {
		sched.Resource(tables.target(res), ownTables(res, own))
		return nil
	}
	if r.ld.CanPart() {
		env.parts = load.DefaultPartPolicy
		if r.opts.Parts != nil {
			env.parts = *r.opts.Parts
		}
		env.part = func(res *config.Resource, own *schema.Schema, upto map[string]int) {
			sched.Part(tables.target(res), ownTables(res, own), upto)
		}
	}
	// Parent/child trees run as units; see runResources (resource.go).
	extractStart := time.Now()
	results, err := runResources(ectx, env, r.resources, r.workers())
	if err == nil && len(results.failures) < len(r.resources) {
		loading(r.opts.Observer, env.loadID)
	}
	r.loadStart = time.Now()
	r.sum.Phases.Extract = r.loadStart.Sub(extractStart).Seconds()
	lerr := sched.Wait()
	switch {
	case ctx.Err() != nil:
		err = ctx.Err() // interrupted: a load cut short is no cause
	case lerr != nil:
		// A load error cancelled the extraction: it is the cause.
		err = lerr
	}
	if err != nil {
		_ = r.pkg.Abort()
		return err
	}
	r.results = results
	return nil
}

// load makes sure the open transaction holds every resource that
// succeeded and nothing of those that failed, and seals the package with
// its schema and state. When every resource failed it returns an *Error.
func (r *run) load(ctx context.Context) error {
	results, schemas, tables := r.results.summaries, r.results.schemas, r.env.tables
	// A resource that failed after parts of it were loaded left them in the
	// transaction: load the resources that succeeded again, from the
	// package, in a new one.
	for i, res := range r.resources {
		if results[i].Status != load.Loaded && r.ld.Parted(res.Name) {
			r.log.Info("loading again without the failed resource, whose first rows were loaded while it extracted", "resource", res.Name)
			r.ld.Rollback(ctx)
			ld, err := reload(ctx, r.dest, r.pkg, r.env.loadID, tables, r.resources, results, schemas)
			if err != nil {
				_ = r.pkg.Abort()
				return err
			}
			r.ld = ld
			break
		}
	}

	// The package's schema: each resource's tables as it extracted them
	// (the stored ones it writes, grown), then the other stored tables.
	pkgSchema := &schema.Schema{Name: r.p.Pipeline.Dataset}
	m := r.pkg.Manifest
	for i, res := range r.resources {
		if results[i].Status != load.Loaded {
			continue
		}
		pkgSchema = schema.Union(pkgSchema, ownTables(res, schemas[i]))
		m.Resources = append(m.Resources, spool.ResourceSummary{ResourceTarget: tables.target(res), Counts: results[i].Counts})
	}
	pkgSchema = schema.Union(pkgSchema, r.ld.Stored())
	if len(m.Resources) == 0 {
		// Every resource failed: there is nothing to load.
		_ = r.pkg.Abort()
		r.sum.Resources = results
		r.sum.Seconds = time.Since(r.start).Seconds()
		return &Error{Failed: r.results.failures}
	}
	m.State = r.results.state
	if err := r.pkg.Seal(m, pkgSchema); err != nil {
		return err
	}
	if r.opts.AfterExtract != nil {
		r.opts.AfterExtract(r.pkg.Dir)
	}
	return nil
}

// finish commits the load with its bookkeeping and completes the summary.
func (r *run) finish(ctx context.Context) error {
	sum := r.sum
	commitStart := time.Now()
	sum.Phases.Load = commitStart.Sub(r.loadStart).Seconds()
	res, err := r.ld.Commit(ctx, r.pkg)
	if err != nil {
		return err
	}
	sum.Phases.Commit = time.Since(commitStart).Seconds()
	r.nul.Add(res.NUL)
	sum.SchemaVersion = res.SchemaVersion
	sum.SchemaChanges = res.Changes
	for _, c := range res.Changes {
		if c.Kind == schema.AddTable {
			sum.Changes = append(sum.Changes, "new table "+c.Table.Name)
		} else {
			sum.Changes = append(sum.Changes, fmt.Sprintf("new column %s.%s %s", c.Table.Name, c.Column.Name, c.Column.Type))
		}
	}
	sum.Resources = r.results.summaries
	sum.Seconds = time.Since(r.start).Seconds()
	if failures := r.results.failures; len(failures) > 0 {
		sort.Slice(failures, func(i, j int) bool { return failures[i].Error() < failures[j].Error() })
		return &Error{Failed: failures}
	}
	return nil
}

// reload begins a new load of pkg and loads into it, from the package, the
// resources whose status is load.Loaded. On error nothing stays open.
func reload(ctx context.Context, dest destination.Destination, pkg *spool.Package, loadID string, tables *runTables, resources []*config.Resource, results []ResourceSummary, schemas []*schema.Schema) (*load.Load, error) {
	ld, err := load.Begin(ctx, dest, loadID)
	if err != nil {
		return nil, err
	}
	for i, r := range resources {
		if results[i].Status != load.Loaded {
			continue
		}
		if err := ld.Resource(ctx, pkg, tables.target(r), ownTables(r, schemas[i])); err != nil {
			ld.Rollback(ctx)
			return nil, err
		}
	}
	return ld, nil
}

// checkCapabilities warns, once and before any API call, of resources the
// destination cannot merge (files): they are appended, as dlt's filesystem
// destination does. A merge strategy or hint the destination cannot do
// (see destination.MergeStrategist) is an error.
func checkCapabilities(p *config.Pipeline, dest destination.Destination, url string, only []string, log *slog.Logger) error {
	if err := checkStrategies(p, dest, url, only); err != nil {
		return err
	}
	if destination.CanMerge(dest) {
		return nil
	}
	var names []string
	for _, r := range selectResources(p, only) {
		if targetOf(r).WriteDisposition == schema.Merge {
			names = append(names, r.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	what := "resource " + names[0] + " uses"
	if len(names) > 1 {
		what = "resources " + strings.Join(names, ", ") + " use"
	}
	log.Warn(fmt.Sprintf("%s write_disposition merge, which destination %s cannot do (files cannot update rows in place): their records are appended, as dlt's filesystem destination does; rows loaded again appear again", what, destination.Redact(url)))
	return nil
}

func selectResources(p *config.Pipeline, only []string) []*config.Resource {
	var out []*config.Resource
	for i := range p.Source.Resources {
		r := &p.Source.Resources[i]
		if r.Selected != nil && !*r.Selected {
			continue
		}
		if len(only) > 0 && !contains(only, r.Name) {
			continue
		}
		out = append(out, r)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
