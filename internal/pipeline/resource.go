package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/restload/restload/internal/auth"
	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/extract"
	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/incremental"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/normalize"
	"github.com/restload/restload/internal/paginate"
	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/spool"
	"github.com/restload/restload/internal/steps"
)

type resourceDeps struct {
	// http is how the run's API clients are built; Auth is set per client.
	http     httpclient.Options
	redactor *httpclient.Redactor
	log      *slog.Logger
	obs      Observer
	shared   *httpclient.Client
	tokens   *auth.Store
	// now is the clock OAuth2 token lifetimes are measured with.
	now func() time.Time
	// limit caps each resource (Options.Limit).
	limit extract.Limit
}

// client builds an HTTP client that authenticates with a.
func (d *resourceDeps) client(a *config.Auth) (*httpclient.Client, error) {
	o := d.http
	o.Auth = func(rt http.RoundTripper, tokens *http.Client) (http.RoundTripper, error) {
		return auth.New(a, rt, o.Origin, auth.Options{TokenClient: tokens, Retry: o.Policy, Redactor: d.redactor, Store: d.tokens, Logger: d.log, Now: d.now})
	}
	return httpclient.New(o)
}

func limits(l *config.Limits) httpclient.HostLimits {
	if l == nil {
		return httpclient.HostLimits{}
	}
	return httpclient.HostLimits{Concurrency: l.Concurrency, RequestsPerSecond: l.RequestsPerSecond}
}

// runEnv is what every resource of one run shares.
type runEnv struct {
	p *config.Pipeline
	// tables groups the loaded resources by the tables they write.
	tables *runTables
	pkg    *spool.Package
	loadID string
	// boundary is the scd2 boundary timestamp when the config sets none:
	// Options.Now at the start of the run, else the run's start.
	boundary time.Time
	deps     *resourceDeps
	// state is the stored pipeline state, read at the start of the run.
	state map[string]json.RawMessage
	// steps are the compiled processing steps, by resource.
	steps map[string]steps.Steps
	// finished, when set, is called on the tree's goroutine when a tree
	// finished extracting, once for each of its loaded resources that
	// succeeded, with the resource's schema (its tables as extracted). The
	// resource's table writers are closed by then, so its rows can be read.
	// It must not block for long: the tree's worker waits.
	finished func(r *config.Resource, own *schema.Schema) error
	// parts says when a resource is cut into parts (with part set).
	parts load.PartPolicy
	// part, when set, is called (with the node's lock held) each time an
	// append or merge resource cut a part (see parts): its table writers
	// are closed by then, and upto says how many parts of each table are
	// complete; own is a copy of its tables. It may block while the loader
	// catches up.
	part func(r *config.Resource, own *schema.Schema, upto map[string]int)
}

// runResults is what running the resources gave, index by index with the
// resources asked for.
type runResults struct {
	summaries []ResourceSummary
	schemas   []*schema.Schema // nil for a failed resource
	failures  []error
	// state is the state to store with this load: the incremental cursors
	// of the resources that succeeded.
	state map[string]json.RawMessage
}

// node is one resource of a run: extract.Walk runs its x (within its
// parent/child tree), and n normalizes and spools the records x hands over.
type node struct {
	r        *config.Resource
	x        *extract.Node
	parent   *node
	children []*node
	// load is false for a resource run only to drive its children.
	load bool
	// keepState says whether the incremental state is stored (a resource
	// with selected: false keeps its cursor; one left out by --resource does
	// not, as its table was not loaded).
	keepState bool
	pkg       *spool.Package
	retries   atomic.Int64
	// part is env.part for a resource loaded in parts, else nil; parts is
	// env.parts.
	part  func(r *config.Resource, own *schema.Schema, upto map[string]int)
	parts load.PartPolicy

	// group owns the layout of n's tables, shared with the resources
	// writing the same tables; its lock is taken after mu, around
	// normalizing and copying own. files tags n's spool files (see
	// runTables).
	group *tableGroup
	files string

	mu      sync.Mutex // guards everything below
	norm    *normalize.Normalizer
	own     *schema.Schema // group.own
	writers map[string]*spool.TableWriter
	// sincePart counts the rows written since the last part, begun at
	// partAt.
	sincePart int64
	partAt    time.Time
	rs        ResourceSummary
	start     time.Time // when its tree started extracting (see setTimes)
	end       time.Time
}

func (n *node) failed() error { return n.x.Err() }

// fail records n's first error, and fails its descendants.
func (n *node) fail(err error) { n.x.Fail(err) }

// runResources runs resources (and the parents they need, which are
// fetched but not loaded), each parent/child tree as one unit, at most
// workers trees at once.
func runResources(ctx context.Context, env *runEnv, resources []*config.Resource, workers int) (*runResults, error) {
	p := env.p
	wanted := map[string]bool{}
	for _, r := range resources {
		wanted[r.Name] = true
	}
	nodes := map[string]*node{}
	var get func(r *config.Resource) (*node, error)
	get = func(r *config.Resource) (*node, error) {
		if n := nodes[r.Name]; n != nil {
			return n, nil
		}
		n, err := newNode(env, r, wanted[r.Name])
		if err != nil {
			return nil, err
		}
		nodes[r.Name] = n
		if pn := r.Parent(); pn != "" {
			pr := p.Resource(pn)
			if pr == nil {
				return nil, fmt.Errorf("resource %s: unknown parent %s", r.Name, pn)
			}
			parent, err := get(pr)
			if err != nil {
				return nil, err
			}
			n.parent = parent
			parent.children = append(parent.children, n)
			parent.x.AddChild(n.x)
		}
		return n, nil
	}
	for _, r := range resources {
		if _, err := get(r); err != nil {
			return nil, err
		}
	}
	var roots []*node
	for i := range p.Source.Resources { // file order
		if n := nodes[p.Source.Resources[i].Name]; n != nil && n.parent == nil {
			roots = append(roots, n)
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, root := range roots {
		g.Go(func() error {
			runTree(gctx, env, root)
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	out := &runResults{state: map[string]json.RawMessage{}}
	for _, r := range resources {
		n := nodes[r.Name]
		rs := n.rs
		rs.Retries = n.retries.Load()
		rs.Pages = n.x.Pages()
		rs.Seconds = n.end.Sub(n.start).Seconds()
		if n.norm != nil {
			noteNormalize(&rs, n.norm, env.deps.log)
		}
		if err := n.failed(); err != nil {
			// Redacted and escaped: it may quote the API's answer.
			err := env.deps.redactor.Error(err)
			rs.Status = load.Failed
			rs.Error = err.Error()
			out.failures = append(out.failures, err)
			out.schemas = append(out.schemas, nil)
		} else {
			out.schemas = append(out.schemas, n.own)
		}
		out.summaries = append(out.summaries, rs)
	}
	for _, n := range nodes {
		// A parent's cursor moves only when its whole tree succeeded:
		// otherwise the next run would not fetch the children that failed.
		if n.x.Tracker == nil || !n.keepState || n.x.SubtreeFailed() {
			continue
		}
		b, ok, err := n.x.Tracker.Encode()
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", n.r.Name, err)
		}
		if ok {
			out.state[incremental.Key(n.r.Name)] = b
		}
	}
	return out, nil
}

// newNode prepares r's run: client, schema, normalizer, steps and state.
func newNode(env *runEnv, r *config.Resource, loaded bool) (*node, error) {
	d := env.deps
	n := &node{r: r, load: loaded, start: time.Now(), pkg: env.pkg, writers: map[string]*spool.TableWriter{}}
	client, paginator, endpoint := d.shared, r.Endpoint.Paginator, r.Endpoint
	n.keepState = loaded || (r.Selected != nil && !*r.Selected)
	n.rs = ResourceSummary{Name: r.Name, Status: load.Loaded, Counts: spool.Counts{Rows: map[string]int64{}}}
	if r.Endpoint.Auth != nil {
		c, err := d.client(r.Endpoint.Auth)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", r.Name, err)
		}
		client = c
	}
	if singleEntity(r.Endpoint.Path) {
		// dlt: a path ending in a placeholder names one entity: the whole
		// response is the record, and there is one page unless the file
		// names a paginator for this resource.
		if !writtenPaginator(env.p, r) {
			paginator = &config.Paginator{Config: paginate.Config{Type: "single_page"}}
		}
		if r.Endpoint.DataSelector == "" {
			ep := *r.Endpoint
			ep.DataSelector = "$"
			endpoint = &ep
		}
	}
	st := env.steps[r.Name]
	n.x = &extract.Node{
		Resource: extract.Resource{Name: r.Name, BaseURL: env.p.Source.Client.BaseURL, Endpoint: endpoint,
			Paginator: paginator, Headers: env.p.Source.Client.Headers},
		Extractor: &extract.Extractor{Client: client, Redactor: d.redactor, Logger: d.log,
			Prefetch: env.p.Limits.PrefetchPages(), AheadBytes: aheadBytes, Speculative: env.p.Limits.SpeculativePrefetch(), MaxPages: env.p.Limits.Pages(), OnPage: totalTo(d.obs, r)},
		Refs:              extract.ParentRefs(r),
		IncludeFromParent: r.IncludeFromParent,
		Limit:             d.limit,
		Parallel:          r.Parallelized != nil && *r.Parallelized,
		Record: func(page, index int, rec map[string]any) (map[string]any, error) {
			rec, err := st.Apply(rec)
			if err != nil {
				return nil, fmt.Errorf("resource %s: page %d: record %d: processing_steps: %w", r.Name, page, index, err)
			}
			return rec, nil
		},
		Page: func(ctx context.Context, page int, recs []map[string]any) error {
			if err := n.write(page, recs); err != nil {
				return err
			}
			if d.obs != nil {
				d.obs.Page(r.Name, page, len(recs))
			}
			return nil
		},
		OnRetry: func() {
			n.retries.Add(1)
			if d.obs != nil {
				d.obs.Retry(r.Name)
			}
		},
	}
	if spec := incremental.FromResource(r); spec != nil {
		tr, err := incremental.NewTracker(spec, r.Parent() != "", env.state[incremental.Key(r.Name)])
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", r.Name, err)
		}
		n.x.Tracker = tr
	}
	if !loaded {
		return n, nil
	}
	// Each group of resources writing the same tables normalizes into its
	// own copy of them (see tableGroup); groups share no schema state.
	n.group = env.tables.groups[r.Name]
	n.files = env.tables.files[r.Name]
	n.own = n.group.own
	spec := specFor(r, env.boundary)
	spec.MaxColumns, spec.MaxTables = env.p.Limits.Columns(), env.p.Limits.Tables()
	norm, err := n.group.layout.New(spec, env.loadID)
	if err != nil {
		return nil, fmt.Errorf("resource %s: %w", r.Name, err)
	}
	n.norm = norm
	if targetOf(r).WriteDisposition != schema.Replace {
		// A replace empties its tables: it is loaded only once complete.
		n.part, n.parts, n.partAt = env.part, env.parts, time.Now()
	}
	return n, nil
}

var singleEntityRe = regexp.MustCompile(`\{[A-Za-z_][^{}\s]*\}/?$`)

func singleEntity(path string) bool {
	return singleEntityRe.MatchString(path)
}

// writtenPaginator reports whether r's file (or resource_defaults) names a
// paginator for it, rather than inheriting the client's.
func writtenPaginator(p *config.Pipeline, r *config.Resource) bool {
	for i := range p.Source.Resources {
		if &p.Source.Resources[i] == r {
			if _, ok := p.Position(p.SourcePath(fmt.Sprintf("resources[%d].endpoint.paginator", i))); ok {
				return true
			}
		}
	}
	_, ok := p.Position(p.SourcePath("resource_defaults.endpoint.paginator"))
	return ok
}

// runTree runs a root resource and, through it, its descendants.
func runTree(ctx context.Context, env *runEnv, root *node) {
	start := time.Now()
	extract.Walk(ctx, root.x)
	root.setTimes(start, time.Now())
	if env.finished != nil && ctx.Err() == nil {
		root.finish(env)
	}
}

// finish hands n and its descendants that succeeded and are loaded to
// env.finished, after closing their table writers. A failed resource is
// not handed over: its partial rows stay in the package, unloaded.
func (n *node) finish(env *runEnv) {
	if n.load && n.failed() == nil {
		err := n.closeWriters()
		if err == nil {
			// Others of its group may still grow the schema: hand over a
			// copy.
			n.group.mu.Lock()
			own := n.group.layout.Snapshot()
			n.group.mu.Unlock()
			err = env.finished(n.r, own)
		}
		if err != nil {
			n.fail(err)
		}
	}
	for _, c := range n.children {
		c.finish(env)
	}
}

// closeWriters closes n's table writers.
func (n *node) closeWriters() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, w := range n.writers {
		if err := w.Close(); err != nil {
			return fmt.Errorf("resource %s: %w", n.r.Name, err)
		}
	}
	return nil
}

// setTimes records when n's tree started and finished extracting: a child
// runs inside its parent's walk, so the tree's times are its times.
func (n *node) setTimes(start, end time.Time) {
	n.start, n.end = start, end
	for _, c := range n.children {
		c.setTimes(start, end)
	}
}

// write normalizes kept records into n's tables (when n is loaded) and
// counts them.
func (n *node) write(page int, recs []map[string]any) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.rs.Records += int64(len(recs))
	if !n.load {
		return nil
	}
	emit := func(t *schema.Table, row []any) error {
		w := n.writers[t.Name]
		if w == nil {
			var err error
			if w, err = n.pkg.Writer(spool.FileName(t.Name, n.files)); err != nil {
				return err
			}
			n.writers[t.Name] = w
		}
		n.rs.Rows[t.Name]++
		n.sincePart++
		return w.Write(row)
	}
	n.group.mu.Lock()
	for i, rec := range recs {
		if err := n.norm.Normalize(rec, emit); err != nil {
			n.group.mu.Unlock()
			return recordError(n.r.Name, page, i+1, err)
		}
	}
	n.group.mu.Unlock()
	if n.part != nil && n.parts.Due(n.sincePart, n.partAt) {
		// Hand what was written so far to the loader: close the writers
		// (the next rows begin new parts) and copy the schema, which the
		// normalizer goes on changing.
		upto := make(map[string]int, len(n.writers))
		for name, w := range n.writers {
			if err := w.Close(); err != nil {
				return fmt.Errorf("resource %s: %w", n.r.Name, err)
			}
			upto[name] = n.pkg.Parts(spool.FileName(name, n.files))
		}
		clear(n.writers)
		n.sincePart, n.partAt = 0, time.Now()
		n.group.mu.Lock()
		own := n.group.layout.Snapshot()
		n.group.mu.Unlock()
		n.part(n.r, own, upto)
	}
	return nil
}

// idleConnsPerHost is how many requests a run may have in flight to one
// host: every worker's resource fetching its pages ahead, each with its
// parallelized children, unless limits.concurrency bounds them lower.
func idleConnsPerHost(workers int, l *config.Limits) int {
	n := workers * l.PrefetchPages() * extract.ChildWorkers
	if l != nil && l.Concurrency > 0 {
		n = min(n, l.Concurrency)
	}
	return n
}

// totalTo returns an Extractor.OnPage that passes the record total the API
// gives for a root resource to obs, when obs wants it (TotalObserver); nil
// otherwise. A child's total is per parent record, so it is not passed.
func totalTo(obs Observer, r *config.Resource) func(extract.Page) {
	to, ok := obs.(TotalObserver)
	if !ok || len(extract.ParentRefs(r)) > 0 {
		return nil
	}
	return func(p extract.Page) {
		if p.Total > 0 {
			to.Total(r.Name, p.Total)
		}
	}
}

// aheadBytes bounds the response bodies each resource holds fetched ahead
// (extract.Extractor.AheadBytes): pages up to 2 MiB are fetched
// limits.prefetch at a time, larger ones fewer at once (at least one), so
// that an API's page size (up to the 256 MiB a body may have) is not
// multiplied by the prefetch in memory.
const aheadBytes = 16 << 20
