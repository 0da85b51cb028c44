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
	"github.com/restload/restload/internal/normalize"
	"github.com/restload/restload/internal/paginate"
	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/spool"
	"github.com/restload/restload/internal/steps"
)

// childWorkers bounds how many parent records of one page have their
// children fetched at once by a parallelized child resource.
const childWorkers = 4

type resourceDeps struct {
	base    *http.Client
	apiHost string
	// credHeaders names the headers set from secrets: they, like auth,
	// go only to apiHost (see httpclient.CredentialGuard).
	credHeaders []string
	policy      httpclient.Policy
	limits      httpclient.HostLimits
	redactor    *httpclient.Redactor
	log         *slog.Logger
	obs         Observer
	shared      *httpclient.Client
	tokens      *auth.Store
	// body bounds each attempt of a data request.
	body bodyLimits
}

// bodyLimits are client.timeout, client.idle_read_timeout and
// limits.max_response_bytes.
type bodyLimits struct {
	timeout, idle time.Duration
	maxBytes      int64
}

// client builds an HTTP client that authenticates with a.
func (d *resourceDeps) client(a *config.Auth) (*httpclient.Client, error) {
	rt := http.RoundTripper(http.DefaultTransport)
	if d.base.Transport != nil {
		rt = d.base.Transport
	}
	origin, err := httpclient.ParseOrigin(d.apiHost)
	if err != nil {
		return nil, fmt.Errorf("client.base_url: %w", err)
	}
	rt = &httpclient.CredentialGuard{Base: rt, Origin: origin, Headers: d.credHeaders, Redactor: d.redactor}
	// Token requests go through a client of their own that registers the
	// tokens obtained, so they are masked like the file's secrets.
	tokens := &http.Client{Transport: &httpclient.TokenRecorder{Base: d.base.Transport, Redactor: d.redactor},
		Timeout: d.base.Timeout, CheckRedirect: d.base.CheckRedirect}
	rt, err = auth.New(a, rt, d.apiHost, auth.Options{TokenClient: tokens, Retry: d.policy, Redactor: d.redactor, Store: d.tokens, Logger: d.log})
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &httpclient.Client{
		// The attempt's deadline is the Client's Timeout, which covers the body.
		HTTP:     &http.Client{Transport: rt, CheckRedirect: httpclient.RedirectPolicy(d.base.CheckRedirect)},
		Policy:   d.policy,
		Limits:   d.limits,
		Logger:   d.log,
		Redactor: d.redactor,

		Timeout:         d.body.timeout,
		IdleReadTimeout: d.body.idle,
		MaxBodyBytes:    d.body.maxBytes,
	}, nil
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
	deps   *resourceDeps
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
	// part, when set, is called (with the node's lock held) each time an
	// append or merge resource cut a part (see partEvery): its table writers
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

// node is one resource of a parent/child tree. A tree runs as one unit: the
// root's pages stream, and each page's records drive the children before
// the next page is fetched, so a parent is never held in memory whole.
// Memory is bounded by one page per level of the tree (times childWorkers
// for parallelized children), plus, for an incremental child, one small
// state entry per parent record.
type node struct {
	r        *config.Resource
	parent   *node
	children []*node
	// load is false for a resource run only to drive its children.
	load bool
	// keepState says whether the incremental state is stored (a resource
	// with selected: false keeps its cursor; one left out by --resource does
	// not, as its table was not loaded).
	keepState bool
	refs      []extract.ParentRef
	steps     steps.Steps
	inc       *incremental.Spec
	client    *httpclient.Client
	paginator *config.Paginator
	endpoint  *config.Endpoint
	pkg       *spool.Package
	retries   atomic.Int64
	// part is env.part for a resource loaded in parts, else nil.
	part func(r *config.Resource, own *schema.Schema, upto map[string]int)

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
	err       error
	was       *incremental.Stored // stored state
	next      *incremental.Stored // state after this run
	start     time.Time           // when its tree started extracting (see setTimes)
	end       time.Time
}

func (n *node) failed() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.err
}

// fail records n's first error, and fails its descendants (their data is
// incomplete without the parent's).
func (n *node) fail(err error) {
	n.mu.Lock()
	if n.err == nil {
		n.err = err
	}
	n.mu.Unlock()
	for _, c := range n.children {
		c.fail(fmt.Errorf("resource %s: parent %s failed", c.r.Name, n.r.Name))
	}
}

// subtreeFailed reports whether n or a descendant failed.
func (n *node) subtreeFailed() bool {
	if n.failed() != nil {
		return true
	}
	for _, c := range n.children {
		if c.subtreeFailed() {
			return true
		}
	}
	return false
}

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
		rs.Seconds = n.end.Sub(n.start).Seconds()
		if n.norm != nil {
			noteNormalize(&rs, n.norm, env.deps.log)
		}
		if n.err != nil {
			// Redacted and escaped: it may quote the API's answer.
			err := env.deps.redactor.Error(n.err)
			rs.Status = "failed"
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
		if n.inc == nil || n.next == nil || !n.keepState || n.subtreeFailed() {
			continue
		}
		b, err := json.Marshal(n.next)
		if err != nil {
			return nil, fmt.Errorf("resource %s: encode incremental state: %w", n.r.Name, err)
		}
		out.state[incremental.Key(n.r.Name)] = b
	}
	return out, nil
}

// newNode prepares r's run: client, schema, normalizer, steps and state.
func newNode(env *runEnv, r *config.Resource, load bool) (*node, error) {
	d := env.deps
	n := &node{r: r, load: load, start: time.Now(), refs: extract.ParentRefs(r), steps: env.steps[r.Name],
		inc: incremental.FromResource(r), client: d.shared, paginator: r.Endpoint.Paginator,
		endpoint: r.Endpoint, pkg: env.pkg, writers: map[string]*spool.TableWriter{}}
	n.keepState = load || (r.Selected != nil && !*r.Selected)
	n.rs = ResourceSummary{Name: r.Name, Status: "ok", Rows: map[string]int64{}}
	if r.Endpoint.Auth != nil {
		c, err := d.client(r.Endpoint.Auth)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", r.Name, err)
		}
		n.client = c
	}
	if singleEntity(r.Endpoint.Path) {
		// dlt: a path ending in a placeholder names one entity: the whole
		// response is the record, and there is one page unless the file
		// names a paginator for this resource.
		if !writtenPaginator(env.p, r) {
			n.paginator = &config.Paginator{Config: paginate.Config{Type: "single_page"}}
		}
		if r.Endpoint.DataSelector == "" {
			ep := *r.Endpoint
			ep.DataSelector = "$"
			n.endpoint = &ep
		}
	}
	if n.inc != nil && !n.inc.Backfill() {
		st, err := incremental.Decode(env.state[incremental.Key(r.Name)])
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", r.Name, err)
		}
		n.was = st
	}
	if !load {
		return n, nil
	}
	// Each group of resources writing the same tables normalizes into its
	// own copy of them (see tableGroup); groups share no schema state.
	n.group = env.tables.groups[r.Name]
	n.files = env.tables.files[r.Name]
	n.own = n.group.own
	norm, err := n.group.layout.New(specFor(r), env.loadID)
	if err != nil {
		return nil, fmt.Errorf("resource %s: %w", r.Name, err)
	}
	n.norm = norm
	if disposition(r) != schema.Replace {
		// A replace empties its tables: it is loaded only once complete.
		n.part, n.partAt = env.part, time.Now()
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
	if err := runNode(ctx, env, root, nil, nil); err != nil {
		root.fail(err)
	}
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

// runNode fetches every page of n, for one parent record when n is a child
// (parent and bindings set). Its own failures are returned; its children's
// are recorded on them.
func runNode(ctx context.Context, env *runEnv, n *node, parent map[string]any, parentB extract.Bindings) error {
	r := n.r
	d := env.deps
	ctx = httpclient.WithOnRetry(ctx, func() {
		n.retries.Add(1)
		if d.obs != nil {
			d.obs.Retry(r.Name)
		}
	})
	b := extract.Bindings{}
	for k, v := range parentB {
		b[k] = v
	}
	var cur *incremental.Cursor
	var parentKey string
	if n.inc != nil {
		var st *incremental.State
		if n.was != nil {
			if n.parent == nil {
				st = &n.was.State
			} else {
				parentKey = incremental.ParentKey(parentB)
				st = n.was.Parents[parentKey]
			}
		}
		var err error
		if cur, err = n.inc.Begin(st); err != nil {
			return fmt.Errorf("resource %s: %w", r.Name, err)
		}
		for name, get := range map[string]func() (any, error){extract.StartValue: cur.StartValue, extract.EndValue: cur.EndValue} {
			v, err := get()
			if err != nil {
				return fmt.Errorf("resource %s: %w", r.Name, err)
			}
			if v != nil {
				b[name] = fmt.Sprint(v)
			}
		}
	}
	include := map[string]any{}
	if parent != nil {
		for _, f := range r.IncludeFromParent {
			v, ok := parent[f]
			if !ok {
				return fmt.Errorf("resource %s: include_from_parent: parent %s record has no field %q", r.Name, n.parent.r.Name, f)
			}
			include["_"+n.parent.r.Name+"_"+f] = v
		}
	}

	x := &extract.Extractor{Client: n.client, Redactor: d.redactor, Logger: d.log.With("resource", r.Name),
		Prefetch: env.p.Limits.PrefetchPages(), MaxPages: env.p.Limits.Pages()}
	st, err := x.Run(ctx, extract.Resource{
		Name: r.Name, BaseURL: env.p.Source.Client.BaseURL, Endpoint: n.endpoint,
		Paginator: n.paginator, Headers: env.p.Source.Client.Headers, Bindings: b,
	}, func(ctx context.Context, page extract.Page) error {
		kept := page.Records[:0]
		for i, rec := range page.Records {
			for k, v := range include {
				rec[k] = v
			}
			rec, err := n.steps.Apply(rec)
			if err != nil {
				return fmt.Errorf("resource %s: page %d: record %d: processing_steps: %w", r.Name, page.Number, i+1, err)
			}
			if rec == nil {
				continue
			}
			if cur != nil {
				ok, err := cur.Keep(rec)
				if err != nil {
					return fmt.Errorf("resource %s: page %d: record %d: %w", r.Name, page.Number, i+1, err)
				}
				if !ok {
					continue
				}
			}
			kept = append(kept, rec)
		}
		if err := n.write(page.Number, kept); err != nil {
			return err
		}
		if d.obs != nil {
			d.obs.Page(r.Name, page.Number, len(kept))
		}
		for _, c := range n.children {
			runChildren(ctx, env, n, c, kept)
		}
		return nil
	})
	n.mu.Lock()
	n.rs.Pages += st.Pages
	n.mu.Unlock()
	if err != nil {
		return err
	}
	if cur != nil {
		if next := cur.State(); next != nil {
			n.mu.Lock()
			if n.next == nil {
				n.next = &incremental.Stored{}
				if n.was != nil && n.parent != nil {
					n.next.Parents = make(map[string]*incremental.State, len(n.was.Parents))
					for k, v := range n.was.Parents {
						n.next.Parents[k] = v
					}
				}
			}
			if n.parent == nil {
				n.next.State = *next
			} else {
				if n.next.Parents == nil {
					n.next.Parents = map[string]*incremental.State{}
				}
				n.next.Parents[parentKey] = next
			}
			n.mu.Unlock()
		}
	}
	return nil
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
	if n.part != nil && n.sincePart >= partMinRows && time.Since(n.partAt) >= partEvery && machineIdle.enough() {
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

// runChildren runs child c once for each of recs, the parent's records of
// one page: one after another, or childWorkers at once when c is
// parallelized. A failure is recorded on c (and stops its further runs);
// the parent goes on.
func runChildren(ctx context.Context, env *runEnv, parent, c *node, recs []map[string]any) {
	one := func(rec map[string]any) {
		if c.failed() != nil || ctx.Err() != nil {
			return
		}
		b, err := extract.ParentBindings(parent.r.Name, c.refs, rec)
		if err != nil {
			c.fail(fmt.Errorf("resource %s: %w", c.r.Name, err))
			return
		}
		if err := runNode(ctx, env, c, rec, b); err != nil {
			c.fail(err)
		}
	}
	if c.r.Parallelized == nil || !*c.r.Parallelized || len(recs) < 2 {
		for _, rec := range recs {
			one(rec)
		}
		return
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, childWorkers)
	for _, rec := range recs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			one(rec)
		})
	}
	wg.Wait()
}

// newTransport is http.DefaultTransport with room for perHost idle
// connections to each host. DefaultTransport keeps two: with more requests
// in flight than that, each finished request beyond two closed its
// connection and the next one dialed anew (and, against a real API,
// handshook TLS anew), once per page.
func newTransport(perHost int) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = perHost
	tr.MaxIdleConns = max(tr.MaxIdleConns, perHost)
	return tr
}

// idleConnsPerHost is how many requests a run may have in flight to one
// host: every worker's resource fetching its pages ahead, each with its
// parallelized children, unless limits.concurrency bounds them lower.
func idleConnsPerHost(workers int, l *config.Limits) int {
	n := workers * l.PrefetchPages() * childWorkers
	if l != nil && l.Concurrency > 0 {
		n = min(n, l.Concurrency)
	}
	return n
}
