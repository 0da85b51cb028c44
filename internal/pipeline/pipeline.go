// Package pipeline runs a loaded pipeline file end to end: it finishes
// packages an earlier run left behind, extracts every selected resource
// (in parallel, bounded by Workers) into a new load package, and loads that
// package into the destination in one transaction.
//
// Loading overlaps extraction: the transaction begins before the first
// request. Into a database (DuckDB, PostgreSQL) an append or merge
// resource is loaded in parts while it extracts (see partEvery), the rest
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
	// Redactor, when set, is the run's redactor (shared with the caller's
	// logger); tokens obtained during the run are added to it.
	Redactor *httpclient.Redactor
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
	Name    string           `json:"name"`
	Status  string           `json:"status"` // loaded, failed
	Error   string           `json:"error,omitempty"`
	Records int64            `json:"records"`
	Pages   int64            `json:"pages"`
	Retries int64            `json:"retries"`
	Seconds float64          `json:"seconds"`
	Rows    map[string]int64 `json:"rows"` // by table
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
// other error means nothing of this run was loaded.
func Run(ctx context.Context, p *config.Pipeline, opts Options) (*Summary, error) {
	start := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	redactor := opts.Redactor
	if redactor == nil {
		redactor = httpclient.NewRedactor()
	}
	redactor.Add(p.SecretValues()...)
	// The name becomes the work dir and the default DuckDB file, the
	// dataset a parquet/jsonl directory: never paths outside them (Load
	// refuses such names; a Pipeline built in code is checked here).
	if err := config.SafeName(p.Pipeline.Name); err != nil {
		return &Summary{Pipeline: p.Pipeline.Name}, fmt.Errorf("pipeline.name: %w", err)
	}
	if err := config.SafeName(p.Pipeline.Dataset); err != nil {
		return &Summary{Pipeline: p.Pipeline.Name}, fmt.Errorf("pipeline.dataset: %w", err)
	}
	destURL := p.DestinationURL(opts.Destination)
	sum := &Summary{Pipeline: p.Pipeline.Name, Dataset: p.Pipeline.Dataset, Destination: destination.Redact(destURL), Started: start.UTC()}
	defer func() { sum.TokenRotations = opts.TokenStore.Rotations() }()
	// processing_steps expressions fail here, at file:line, before any I/O.
	compiled, err := steps.CompileAll(p)
	if err != nil {
		return sum, err
	}

	workDir := opts.WorkDir
	if workDir == "" {
		workDir = filepath.Join(filepath.Dir(p.File), ".restload", p.Pipeline.Name)
	}
	pkgRoot := filepath.Join(workDir, "packages")
	unlock, err := lockWorkDir(workDir, p.Pipeline.Name)
	if err != nil {
		return sum, err
	}
	defer unlock()

	dest, err := destination.Open(ctx, destURL, p.Pipeline.Dataset)
	if err != nil {
		return sum, fmt.Errorf("open destination: %w", err)
	}
	defer dest.Close()
	destination.SetLockWait(dest, destination.LockWait{Timeout: opts.LockTimeout, Log: log})
	if err := checkCapabilities(p, dest, destURL, opts.Resources); err != nil {
		return sum, err
	}

	// Finish what an earlier run left for this destination.
	target := spool.Target{Pipeline: p.Pipeline.Name, Destination: destination.Identity(destURL), Dataset: p.Pipeline.Dataset}
	sealed, unsealed, err := spool.Pending(pkgRoot)
	if err != nil {
		return sum, err
	}
	sealed, unsealed = pendingFor(log, target, sealed, unsealed, opts.Resources)
	nul := load.NULCounts{}
	defer func() { warnNUL(log, nul) }()
	for _, u := range unsealed {
		log.Warn("discarding incomplete package of an earlier run (it died while extracting; extraction starts again)", "load_id", filepath.Base(u.Dir))
		if err := u.Remove(); err != nil {
			return sum, err
		}
	}
	for _, s := range sealed {
		log.Info("loading package left by an earlier run", "load_id", s.Manifest.LoadID)
		loading(opts.Observer, s.Manifest.LoadID)
		res, err := load.Package(ctx, dest, s)
		if err != nil {
			return sum, fmt.Errorf("pending package %s (%s): %w", s.Manifest.LoadID, s.Dir, err)
		}
		sum.Pending = append(sum.Pending, res.LoadID)
		nul.Add(res.NUL)
	}

	stored, err := load.StoredSchema(ctx, dest)
	if err != nil {
		return sum, err
	}
	// Incremental cursors, as loaded with the rows (after pending packages).
	state, err := load.State(ctx, dest, p.Pipeline.Name)
	if err != nil {
		return sum, err
	}

	workers := opts.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	hc := opts.HTTPClient
	if hc == nil {
		tr := newTransport(idleConnsPerHost(workers, p.Limits))
		defer tr.CloseIdleConnections()
		hc = &http.Client{Transport: tr, Timeout: time.Duration(p.Source.Client.Timeout)}
		if hc.Timeout == 0 {
			hc.Timeout = 60 * time.Second
		}
	}
	apiHost, err := auth.HostOf(p.Source.Client.BaseURL)
	if err != nil {
		return sum, fmt.Errorf("client.base_url: %w", err)
	}
	deps := &resourceDeps{base: hc, apiHost: apiHost, credHeaders: p.CredentialHeaders(), policy: p.Retry.Policy(), limits: limits(p.Limits), redactor: redactor, log: log, obs: opts.Observer, tokens: opts.TokenStore}
	deps.body = bodyLimits{timeout: time.Duration(p.Source.Client.Timeout), idle: time.Duration(p.Source.Client.IdleReadTimeout),
		maxBytes: p.Limits.ResponseBytes()}
	// One client, and so one token cache and one set of per-host limits,
	// for every resource that uses the client's auth.
	if deps.shared, err = deps.client(p.Source.Client.Auth); err != nil {
		return sum, err
	}

	loadID := spool.NewLoadID(start)
	sum.LoadID = loadID
	pkg, err := spool.Create(pkgRoot, spool.Manifest{LoadID: loadID, Pipeline: p.Pipeline.Name, Dataset: p.Pipeline.Dataset, Destination: target.Destination})
	if err != nil {
		return sum, err
	}

	for _, name := range opts.Resources {
		if p.Resource(name) == nil {
			_ = pkg.Abort()
			return sum, fmt.Errorf("no resource named %q in %s", name, p.File)
		}
	}
	resources := selectResources(p, opts.Resources)
	if len(resources) == 0 {
		_ = pkg.Abort()
		return sum, fmt.Errorf("no resources selected to run in %s", p.File)
	}
	// The load's transaction is open while resources extract; see the
	// package doc.
	ld, err := load.Begin(ctx, dest, loadID)
	if err != nil {
		_ = pkg.Abort()
		return sum, err
	}
	defer ld.Rollback(ctx)
	ectx, cancel := context.WithCancel(ctx)
	defer cancel()
	tables := groupTables(p, stored, resources)
	loader := newLoader(ectx, ld, pkg, tables, 2*len(resources), cancel)
	env := &runEnv{p: p, tables: tables, pkg: pkg, loadID: loadID, deps: deps, state: state, steps: compiled, finished: loader.add}
	if ld.CanPart() {
		env.part = loader.part
	}
	// Parent/child trees run as units; see runResources (resource.go).
	extractStart := time.Now()
	run, err := runResources(ectx, env, resources, workers)
	if err == nil && len(run.failures) < len(resources) {
		loading(opts.Observer, loadID)
	}
	loadStart := time.Now()
	sum.Phases.Extract = loadStart.Sub(extractStart).Seconds()
	lerr := loader.wait()
	switch {
	case ctx.Err() != nil:
		err = ctx.Err() // interrupted: a load cut short is no cause
	case lerr != nil:
		// A load error cancelled the extraction: it is the cause.
		err = lerr
	}
	if err != nil {
		_ = pkg.Abort()
		return sum, err
	}
	results, schemas, failures := run.summaries, run.schemas, run.failures
	// A resource that failed after parts of it were loaded left them in the
	// transaction: load the resources that succeeded again, from the
	// package, in a new one.
	for i, r := range resources {
		if results[i].Status != "ok" && ld.Parted(r.Name) {
			log.Info("loading again without the failed resource, whose first rows were loaded while it extracted", "resource", r.Name)
			ld.Rollback(ctx)
			if ld, err = reload(ctx, dest, pkg, loadID, tables, resources, results, schemas); err != nil {
				_ = pkg.Abort()
				return sum, err
			}
			defer ld.Rollback(ctx)
			break
		}
	}

	// The package's schema: what was stored plus what each resource added.
	pkgSchema := stored.Clone()
	if pkgSchema == nil {
		pkgSchema = &schema.Schema{Name: p.Pipeline.Dataset}
	}
	m := pkg.Manifest
	for i, r := range resources {
		if results[i].Status != "ok" {
			continue
		}
		for _, t := range ownTables(r, schemas[i]).Tables {
			if old := pkgSchema.Table(t.Name); old != nil {
				*old = *t
			} else {
				pkgSchema.Tables = append(pkgSchema.Tables, t)
			}
		}
		rs := tables.summary(r)
		rs.Records, rs.Pages, rs.Retries = results[i].Records, results[i].Pages, results[i].Retries
		rs.Seconds, rs.Rows = results[i].Seconds, results[i].Rows
		m.Resources = append(m.Resources, rs)
	}
	if len(m.Resources) == 0 {
		// Every resource failed: there is nothing to load.
		_ = pkg.Abort()
		sum.Resources = results
		sum.Seconds = time.Since(start).Seconds()
		return sum, &Error{Failed: failures}
	}
	m.State = run.state
	if err := pkg.Seal(m, pkgSchema); err != nil {
		return sum, err
	}
	if opts.AfterExtract != nil {
		opts.AfterExtract(pkg.Dir)
	}
	commitStart := time.Now()
	sum.Phases.Load = commitStart.Sub(loadStart).Seconds()
	res, err := ld.Commit(ctx, pkg)
	if err != nil {
		return sum, err
	}
	sum.Phases.Commit = time.Since(commitStart).Seconds()
	nul.Add(res.NUL)
	sum.SchemaVersion = res.SchemaVersion
	sum.SchemaChanges = res.Changes
	for _, c := range res.Changes {
		if c.Kind == schema.AddTable {
			sum.Changes = append(sum.Changes, "new table "+c.Table.Name)
		} else {
			sum.Changes = append(sum.Changes, fmt.Sprintf("new column %s.%s %s", c.Table.Name, c.Column.Name, c.Column.Type))
		}
	}
	for i := range results {
		if results[i].Status == "ok" {
			results[i].Status = "loaded"
		}
	}
	sum.Resources = results
	sum.Seconds = time.Since(start).Seconds()
	if len(failures) > 0 {
		sort.Slice(failures, func(i, j int) bool { return failures[i].Error() < failures[j].Error() })
		return sum, &Error{Failed: failures}
	}
	return sum, nil
}

// reload begins a new load of pkg and loads into it, from the package, the
// resources whose status is ok. On error nothing stays open.
func reload(ctx context.Context, dest destination.Destination, pkg *spool.Package, loadID string, tables *runTables, resources []*config.Resource, results []ResourceSummary, schemas []*schema.Schema) (*load.Load, error) {
	ld, err := load.Begin(ctx, dest, loadID)
	if err != nil {
		return nil, err
	}
	for i, r := range resources {
		if results[i].Status != "ok" {
			continue
		}
		if err := ld.Resource(ctx, pkg, tables.summary(r), ownTables(r, schemas[i])); err != nil {
			ld.Rollback(ctx)
			return nil, err
		}
	}
	return ld, nil
}

// loader loads resources into the run's open transaction, on its own
// goroutine, in the order they were handed over: parts of resources that
// still extract (see partEvery and node.write) and the rest of
// each resource whose tree finished. Its first error cancels the
// extraction; nothing more is loaded after it.
type loader struct {
	queue  chan loadItem
	done   chan error
	tables *runTables
}

// loadItem is a resource to load: the parts up to upto of its tables, or,
// with upto nil, the rest of it (the resource finished).
type loadItem struct {
	rs     spool.ResourceSummary
	tables *schema.Schema
	upto   map[string]int
}

// A resource's rows are loaded as a part, while it goes on extracting,
// once it wrote partMinRows rows (over all its tables) in at least
// partEvery since the last part, and the machine has idle CPU (see
// partIdle). Small parts overlap loading with extraction sooner, but each
// costs statements and CPU.
var (
	partMinRows int64 = 4 << 10
	partEvery         = 500 * time.Millisecond
)

// newLoader starts the loader of ld. capacity is the queue's length: a
// hand-over waits while the queue is full (the loader always drains it).
func newLoader(ctx context.Context, ld *load.Load, pkg *spool.Package, tables *runTables, capacity int, cancel context.CancelFunc) *loader {
	l := &loader{queue: make(chan loadItem, capacity), done: make(chan error, 1), tables: tables}
	go func() {
		var err error
		for it := range l.queue {
			if err != nil {
				continue
			}
			if it.upto != nil {
				err = ld.Part(ctx, pkg, it.rs, it.tables, it.upto)
			} else {
				err = ld.Resource(ctx, pkg, it.rs, it.tables)
			}
			if err != nil {
				cancel()
			}
		}
		l.done <- err
	}()
	return l
}

// add queues resource r, whose extraction succeeded, for loading; own is
// its schema as extracted. Safe for concurrent use until wait.
func (l *loader) add(r *config.Resource, own *schema.Schema) error {
	l.queue <- loadItem{rs: l.tables.summary(r), tables: ownTables(r, own)}
	return nil
}

// part queues the parts up to upto of r's tables; own is r's schema as of
// them, which the caller no longer changes.
func (l *loader) part(r *config.Resource, own *schema.Schema, upto map[string]int) {
	l.queue <- loadItem{rs: l.tables.summary(r), tables: ownTables(r, own), upto: upto}
}

// wait waits until every queued resource is loaded (or the first load
// failed) and returns the first error. No add may follow it.
func (l *loader) wait() error {
	close(l.queue)
	return <-l.done
}

// checkCapabilities refuses, before any API call, resources the destination
// cannot load (merge into files).
func checkCapabilities(p *config.Pipeline, dest destination.Destination, url string, only []string) error {
	if destination.CanMerge(dest) {
		return nil
	}
	var names []string
	for _, r := range selectResources(p, only) {
		if disposition(r) == schema.Merge {
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
	return fmt.Errorf("%s write_disposition merge, which destination %s does not support (files cannot update rows in place): set write_disposition to append or replace, or load into duckdb or postgres", what, destination.Redact(url))
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
