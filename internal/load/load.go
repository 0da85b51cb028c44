// Package load applies load packages to a destination and keeps the
// pipeline's bookkeeping there: the loads table, schema versions and state
// (bookkeeping.go declares each bookkeeping table once, with its typed row).
// It also owns when and in what order a run's resources are loaded while
// others still extract: the PartPolicy that cuts a resource into parts,
// and the Scheduler that loads them on a goroutine of its own.
//
// One package is loaded in one destination transaction: schema changes, the
// rows of every table, merges, state and the load record all commit
// together, so readers never see half a run and a failed load changes
// nothing. Because the load record commits with the rows, a package that was
// loaded but not yet removed from disk (the process died in between) is
// recognised and not loaded twice.
package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/dltstate"
	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/spool"
)

// Status is what became of a resource, or of a load, in a run.
type Status string

// Statuses: a resource that was loaded with its run, or failed (and was
// not loaded); a load in the loads table is always Loaded.
const (
	Loaded Status = "loaded"
	Failed Status = "failed"
)

// StatusLoaded is the status of every row of the loads table.
const StatusLoaded = Loaded

// Result is what loading one package did.
type Result struct {
	LoadID string
	// AlreadyLoaded is set when the package had been committed before (the
	// process died before removing it); nothing was written again.
	AlreadyLoaded bool
	Rows          map[string]int64
	SchemaVersion int
	Changes       []schema.Change
	// NUL counts the values NUL characters were removed from (NULRule).
	NUL NULCounts
}

// Package loads pkg, a sealed package, into d in one transaction, then
// removes pkg from disk.
//
// Before anything is written it checks the loads table: a package whose load
// id is recorded there was committed by a process that died before removing
// it, so Package only removes it (Result.AlreadyLoaded). Otherwise the
// schema changes, every resource's rows (appended, replaced or merged as the
// resource says), the state, a new schema version when the schema changed,
// and the package's row in the loads table are written in one transaction.
// On error nothing of pkg is visible and pkg stays on disk for a retry.
//
// Package is Begin, Resource for each of the manifest's resources, and
// Commit; a run that loads resources while others still extract calls those
// itself.
func Package(ctx context.Context, d destination.Destination, pkg *spool.Package) (*Result, error) {
	killPoint(KillBeforeLoad)
	m := pkg.Manifest
	if err := migrate(ctx, d); err != nil {
		return nil, err
	}
	loads, err := loadRows(ctx, d)
	if err != nil {
		return nil, err
	}
	for _, l := range loads {
		if l.LoadID == m.LoadID && l.Status == 0 {
			versions, err := versionNumbers(ctx, d)
			if err != nil {
				return nil, err
			}
			res := &Result{LoadID: m.LoadID, AlreadyLoaded: true, SchemaVersion: versions[l.SchemaVersionHash]}
			return res, pkg.Remove()
		}
	}
	pkgSchema, err := pkg.Schema()
	if err != nil {
		return nil, err
	}
	l, err := Begin(ctx, d, m.LoadID)
	if err != nil {
		return nil, err
	}
	defer l.Rollback(ctx)
	// Every table's changes first, in the package schema's order.
	if err := l.evolve(ctx, pkgSchema); err != nil {
		return nil, fmt.Errorf("load %s: %w", m.LoadID, err)
	}
	for i, r := range m.Resources {
		if err := l.Resource(ctx, pkg, r.ResourceTarget, pkgSchema); err != nil {
			return nil, err
		}
		if i == 0 {
			killPoint(KillMidLoad)
		}
	}
	return l.Commit(ctx, pkg)
}

// Load is one package being loaded: an open destination transaction into
// which resources are loaded one at a time (Resource), then committed with
// the package's bookkeeping (Commit). A run begins it before extracting and
// loads each resource as soon as its extraction finished, so loading
// overlaps extraction; nothing is visible to readers before Commit.
//
// A Load is not safe for concurrent use: the destination has one
// transaction, and its calls must come one after another.
type Load struct {
	d      destination.Destination
	tx     destination.Tx
	loadID string
	// stored is the newest stored schema (nil before the first load) and
	// version its number; latest is it as stored (dlt's JSON and hash).
	stored  *schema.Schema
	version int
	latest  *Version
	// versions is how many schema versions were stored at Begin.
	versions int64
	// target is stored plus every change applied in this transaction.
	target *schema.Schema
	// sys says whether the bookkeeping tables exist or were created.
	sys  bool
	rows map[string]int64
	// loaded counts the parts of each table's rows loaded so far (see
	// Part); parted names the resources Part loaded into.
	loaded map[string]int
	parted map[string]bool
	// nul counts the values NULRule changed.
	nul NULCounts
	// replaced names the tables a replace emptied in this load: a second
	// resource replacing the same table (the same table_name) appends.
	replaced map[string]bool
}

// Begin reads d's stored schema and starts the transaction that loads the
// package loadID. Call Rollback (safe after Commit) when done.
func Begin(ctx context.Context, d destination.Destination, loadID string) (*Load, error) {
	if err := migrate(ctx, d); err != nil {
		return nil, err
	}
	latest, versions, err := latestAfter(ctx, d, 0)
	if err != nil {
		return nil, err
	}
	l := &Load{d: d, loadID: loadID, rows: map[string]int64{}, versions: versions,
		loaded: map[string]int{}, parted: map[string]bool{}, nul: NULCounts{}, replaced: map[string]bool{}}
	if latest != nil {
		l.stored, l.version, l.latest = latest.Schema, latest.Version, latest
	}
	l.target = orEmpty(l.stored).Clone()
	l.sys = l.stored != nil
	if !l.sys {
		// A first load: on a server, loads starting together into a new
		// dataset would each create it in their own transaction and all
		// but one fail; create it (and the bookkeeping tables, which every
		// load writes) first, at once (see destination.Preparer).
		if pr, ok := d.(destination.Preparer); ok {
			if err := pr.Prepare(ctx, systemTables()); err != nil {
				return nil, fmt.Errorf("load %s: %w", loadID, err)
			}
		}
	}
	if l.tx, err = d.Begin(ctx); err != nil {
		return nil, fmt.Errorf("load %s: %w", loadID, err)
	}
	return l, nil
}

// Stored returns the newest stored schema as Begin read it (nil before the
// first load). The caller must not change it.
func (l *Load) Stored() *schema.Schema { return l.stored }

// evolve applies what s's tables add to the target schema (and, on a first
// load, creates the bookkeeping tables).
func (l *Load) evolve(ctx context.Context, s *schema.Schema) error {
	next := union(l.target, s)
	changes := schema.Diff(l.target, next)
	if !l.sys {
		sys := make([]schema.Change, 0, 3+len(changes))
		for _, t := range systemTables() {
			sys = append(sys, schema.Change{Kind: schema.AddTable, Table: t})
		}
		changes = append(sys, changes...)
	}
	if len(changes) == 0 {
		return nil
	}
	if err := l.tx.Apply(ctx, changes); err != nil {
		return fmt.Errorf("apply schema changes: %w", err)
	}
	l.sys = true
	l.target = next
	return nil
}

// Resource loads resource r's rows from pkg: it applies the schema changes
// of r's tables in s (the tables as extracted; rows in pkg follow their
// column order), then appends, replaces or stages and merges r's root table
// and its child tables, as r's write disposition says. pkg need not be
// sealed, but r's table writers must be closed. On error the transaction
// is unusable: Rollback it.
func (l *Load) Resource(ctx context.Context, pkg *spool.Package, r spool.ResourceTarget, s *schema.Schema) error {
	return l.resource(ctx, pkg, r, s, nil)
}

// Part loads, while r still extracts, the parts of r's rows that are
// complete and not loaded yet: upto[t] parts of each table t, whose
// writers are closed. s is r's schema as of those parts. r's write
// disposition must be append or merge (a replace empties its tables when
// it finishes); Resource loads the rest and merges. If r then fails, its
// parts are in the transaction: Parted says so, and the load must be
// rolled back (and made again without r).
func (l *Load) Part(ctx context.Context, pkg *spool.Package, r spool.ResourceTarget, s *schema.Schema, upto map[string]int) error {
	if r.WriteDisposition == schema.Replace {
		return fmt.Errorf("load %s: resource %s: a replace cannot be loaded in parts", l.loadID, r.Name)
	}
	l.parted[r.Name] = true
	return l.resource(ctx, pkg, r, s, upto)
}

// resource applies the schema changes of s, then loads r's rows in pkg
// not loaded yet (l.loaded[t] parts of table t were): up to upto[t] parts
// of each table, or, when upto is nil, every part, and then it merges.
func (l *Load) resource(ctx context.Context, pkg *spool.Package, r spool.ResourceTarget, s *schema.Schema, upto map[string]int) error {
	if err := l.evolve(ctx, s); err != nil {
		return fmt.Errorf("load %s: resource %s: %w", l.loadID, r.Name, err)
	}
	if err := l.write(ctx, pkg, s, r, upto); err != nil {
		return fmt.Errorf("load %s: resource %s: %w", l.loadID, r.Name, err)
	}
	return nil
}

// CanPart reports whether resources can be loaded in parts (Part): not
// into a destination that writes a table's rows as one file each load.
func (l *Load) CanPart() bool {
	pw, ok := l.tx.(destination.ParallelWriter)
	return !ok || !pw.ParallelWrites()
}

// Parted reports whether Part loaded any of resource's rows.
func (l *Load) Parted(resource string) bool { return l.parted[resource] }

// Commit writes the bookkeeping of pkg, which must be sealed and whose
// resources were loaded with Resource: the schema changes the sealed schema
// still adds (normally none), the state, a new schema version when the
// schema changed, and pkg's row in the loads table; then it commits and
// removes pkg from disk. On error nothing is visible and pkg stays on disk.
func (l *Load) Commit(ctx context.Context, pkg *spool.Package) (*Result, error) {
	// A run that loaded while extracting reaches both points here: the
	// package is sealed, its rows are in the open transaction, and nothing
	// is committed. (Package stops at them earlier.)
	killPoint(KillBeforeLoad)
	killPoint(KillMidLoad)
	m := pkg.Manifest
	pkgSchema, err := pkg.Schema()
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", m.LoadID, err)
	}
	if err := l.evolve(ctx, pkgSchema); err != nil {
		return nil, fmt.Errorf("load %s: %w", m.LoadID, err)
	}
	// Loads of one dataset from several machines (each running a share of
	// the resources) queue here, on destinations that can make them, and
	// then build on the latest schema version: another load may have
	// committed since Begin, and its version must be neither numbered
	// twice nor lost from the next one. The state is read below, after this.
	if s, ok := l.tx.(destination.Serializer); ok {
		if err := s.Serialize(ctx); err != nil {
			return nil, fmt.Errorf("load %s: %w", m.LoadID, err)
		}
	}
	// Counting is cheap where reading the versions is not; only a version
	// newer than Begin's is decoded.
	if n, err := destination.Count(ctx, l.d, VersionsTable); err != nil && !errors.Is(err, destination.ErrNoTable) {
		return nil, fmt.Errorf("load %s: count schema versions: %w", m.LoadID, err)
	} else if n > l.versions {
		latest, _, err := latestAfter(ctx, l.d, l.version)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", m.LoadID, err)
		}
		if latest != nil {
			l.stored, l.version, l.latest = latest.Schema, latest.Version, latest
		}
	}
	res, err := l.bookkeeping(ctx, m, pkgSchema)
	if err != nil {
		return nil, err
	}
	if err := l.tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("load %s: commit: %w", m.LoadID, err)
	}
	killPoint(KillAfterCommit)
	if err := pkg.Remove(); err != nil {
		return res, fmt.Errorf("load %s: committed, but removing the package failed: %w", m.LoadID, err)
	}
	return res, nil
}

// bookkeeping writes load m's bookkeeping in the transaction, as dlt
// would: a _dlt_version row when the schema changed (the stored dlt
// schema with what this load adds, version bumped and hashed as dlt
// does), the pipeline's new state in _dlt_pipeline_state, and m's row in
// _dlt_loads with status 0.
func (l *Load) bookkeeping(ctx context.Context, m spool.Manifest, pkgSchema *schema.Schema) (*Result, error) {
	// The version stored is the package's schema over the stored one, as
	// Package would compute it, whatever order resources were loaded in.
	target := union(l.stored, pkgSchema)
	// A new schema is named after the source, as dlt names it (the
	// source's name, rest_api unless the config names it).
	name := cmp.Or(m.Source, m.Pipeline)
	var doc *dltstate.Object
	if l.latest != nil {
		doc, name = l.latest.doc.Clone(), l.latest.doc.Str("name")
	} else {
		var err error
		if doc, err = newSchemaDoc(name, target); err != nil {
			return nil, fmt.Errorf("load %s: schema version: %w", m.LoadID, err)
		}
	}
	target.Name = name
	changes := schema.Diff(orEmpty(l.stored), target)
	dltstate.AddTables(doc, target)
	version, hash, err := dltstate.BumpSchemaVersion(doc)
	if err != nil {
		return nil, fmt.Errorf("load %s: schema version: %w", m.LoadID, err)
	}
	target.Version = int(version)
	res := &Result{LoadID: m.LoadID, Rows: l.rows, SchemaVersion: int(version), Changes: changes, NUL: l.nul}
	now := time.Now().UTC()
	ids := &idGen{prefix: m.LoadID}
	if l.latest == nil || hash != l.latest.Hash {
		b, err := dltstate.Marshal(doc, false)
		if err != nil {
			return nil, fmt.Errorf("load %s: schema version: %w", m.LoadID, err)
		}
		v := versionRow{Version: int(version), EngineVersion: int(doc.Int("engine_version")), InsertedAt: now,
			SchemaName: name, VersionHash: hash, Schema: string(b)}
		if err := versionsTable.write(ctx, l.tx, destination.ModeAppend, []versionRow{v}); err != nil {
			return nil, fmt.Errorf("load %s: write schema version: %w", m.LoadID, err)
		}
	}
	// The state is read here, after Serialize: another load of the same
	// pipeline may have committed since Begin.
	stored, err := latestState(ctx, l.d, m.Pipeline)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", m.LoadID, err)
	}
	st, changed, err := nextState(stored, m, name, cmp.Or(m.Source, name))
	if err != nil {
		return nil, fmt.Errorf("load %s: state: %w", m.LoadID, err)
	}
	if changed { // as dlt, a state row only when the state changed
		sr, err := stateRowOf(st, m.LoadID, now, ids.next())
		if err != nil {
			return nil, fmt.Errorf("load %s: state: %w", m.LoadID, err)
		}
		if err := stateTable.write(ctx, l.tx, destination.ModeAppend, []stateRow{sr}); err != nil {
			return nil, fmt.Errorf("load %s: write state: %w", m.LoadID, err)
		}
	}
	lr := loadRow{LoadID: m.LoadID, SchemaName: name, Status: 0, InsertedAt: now, SchemaVersionHash: hash}
	if err := loadsTable.write(ctx, l.tx, destination.ModeAppend, []loadRow{lr}); err != nil {
		return nil, fmt.Errorf("load %s: write load record: %w", m.LoadID, err)
	}
	return res, nil
}

// Rollback abandons the transaction; after Commit it does nothing.
func (l *Load) Rollback(ctx context.Context) {
	_ = l.tx.Rollback(context.WithoutCancel(ctx))
}

// write writes r's rows in pkg (see resource), whose tables are in
// pkgSchema, into its tables in the transaction, and counts them.
func (l *Load) write(ctx context.Context, pkg *spool.Package, pkgSchema *schema.Schema, r spool.ResourceTarget, upto map[string]int) error {
	tx, target, counts, loaded := l.tx, l.target, l.rows, l.loaded
	root := target.Table(r.Table)
	if root == nil {
		// The resource produced no rows and never had a table.
		return nil
	}
	tables := append([]*schema.Table{root}, target.Children(root.Name)...)
	if r.WriteDisposition == schema.Merge && r.Merge != nil {
		// The destination merges as the run's config says (see
		// schema.MergeSpec); the stored tables are left alone.
		for i, t := range tables {
			tables[i] = t.Clone()
			tables[i].Merge = r.Merge
		}
		root = tables[0]
	}
	mode := destination.ModeAppend
	switch r.WriteDisposition {
	case schema.Replace:
		mode = destination.ModeReplace
	case schema.Merge:
		// A destination without merge (files) appends, as dlt's
		// filesystem destination does; the pipeline warns once.
		if destination.CanMerge(l.d) {
			mode = destination.ModeStage
		}
	}
	// writeTable writes one table's rows of the package.
	var mu sync.Mutex // guards counts
	writeTable := func(ctx context.Context, t *schema.Table) error {
		pt := pkgSchema.Table(t.Name)
		file := spool.FileName(t.Name, r.Files)
		mode := mode
		mu.Lock()
		from := loaded[file]
		if mode == destination.ModeReplace {
			if l.replaced[t.Name] {
				mode = destination.ModeAppend
			}
			l.replaced[t.Name] = true
		}
		mu.Unlock()
		to := pkg.Parts(file)
		if upto != nil {
			to = upto[t.Name]
		}
		if pt == nil || to <= from {
			if mode != destination.ModeReplace || upto != nil {
				return nil
			}
			// Replace empties tables this load has no rows for.
			if _, err := tx.Write(ctx, t, mode, &sliceRows{}); err != nil {
				return fmt.Errorf("table %s: %w", t.Name, err)
			}
			return nil
		}
		src, err := pkg.PartRows(file, from, to, len(pt.Columns))
		if err != nil {
			return err
		}
		nul := NULCounts{} // added to l.nul below, under mu: tables may be written at once
		rows := newPrefetcher(newStripNUL(newRemap(src, pt, t), t, nul), len(t.Columns))
		n, err := tx.Write(ctx, t, mode, rows)
		rows.Close()
		src.Close()
		if err != nil {
			return fmt.Errorf("table %s: %w", t.Name, err)
		}
		mu.Lock()
		counts[t.Name] += n
		loaded[file] = to
		l.nul.Add(nul)
		mu.Unlock()
		return nil
	}
	if pw, ok := tx.(destination.ParallelWriter); ok && pw.ParallelWrites() && len(tables) > 1 {
		// Each table is its own file: write them at once, on every core.
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(runtime.GOMAXPROCS(0))
		for _, t := range tables {
			g.Go(func() error { return writeTable(gctx, t) })
		}
		if err := g.Wait(); err != nil {
			return err
		}
	} else {
		for _, t := range tables {
			if err := writeTable(ctx, t); err != nil {
				return err
			}
		}
	}
	if mode == destination.ModeStage && upto == nil {
		if err := tx.Merge(ctx, root, tables[1:]); err != nil {
			return fmt.Errorf("merge %s: %w", root.Name, err)
		}
	}
	return nil
}

func orEmpty(s *schema.Schema) *schema.Schema {
	if s == nil {
		return &schema.Schema{}
	}
	return s
}

// union returns stored with the tables and columns of pkg added (see
// schema.Union): another machine may have added columns since pkg was
// extracted, and neither side loses any. Bookkeeping tables are not part
// of the data schema.
func union(stored, pkg *schema.Schema) *schema.Schema {
	data := &schema.Schema{}
	for _, t := range pkg.Tables {
		if !isSystem(t.Name) {
			data.Tables = append(data.Tables, t)
		}
	}
	return schema.Union(stored, data)
}

// remap reorders rows written against the package's table to the target
// table's column order.
type remap struct {
	src destination.RowSource
	idx []int
	out []any
}

func newRemap(src destination.RowSource, from, to *schema.Table) destination.RowSource {
	same := len(from.Columns) == len(to.Columns)
	idx := make([]int, len(to.Columns))
	for i, c := range to.Columns {
		idx[i] = -1
		for j, fc := range from.Columns {
			if fc.Name == c.Name {
				idx[i] = j
				break
			}
		}
		if idx[i] != i {
			same = false
		}
	}
	if same {
		return src
	}
	return &remap{src: src, idx: idx, out: make([]any, len(to.Columns))}
}

func (r *remap) Next() bool { return r.src.Next() }
func (r *remap) Err() error { return r.src.Err() }
func (r *remap) Values() []any {
	v := r.src.Values()
	for i, j := range r.idx {
		if j >= 0 && j < len(v) {
			r.out[i] = v[j]
		} else {
			r.out[i] = nil
		}
	}
	return r.out
}

// sliceRows is a RowSource over rows held in memory (bookkeeping rows only).
type sliceRows struct {
	rows [][]any
	i    int
}

func (s *sliceRows) Next() bool    { s.i++; return s.i <= len(s.rows) }
func (s *sliceRows) Values() []any { return s.rows[s.i-1] }
func (s *sliceRows) Err() error    { return nil }

type idGen struct {
	prefix string
	n      int
}

func (g *idGen) next() string {
	g.n++
	return fmt.Sprintf("%s.%06d", g.prefix, g.n)
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case float64:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

// newSchemaDoc is a new stored schema named name, at the point where dlt
// stores its first version: dlt hashes a new schema once when it is made
// (version 1), once more when extraction adds the tables the resources
// declare (their names, dispositions and key columns, before any data),
// and bumps it when normalizing adds the columns inferred. The version
// stored is then 2 with those two hashes in previous_hashes, newest first;
// the caller adds target's tables and bumps it.
func newSchemaDoc(name string, target *schema.Schema) (*dltstate.Object, error) {
	doc := dltstate.NewSchema(name)
	_, h0, err := dltstate.BumpSchemaVersion(doc)
	if err != nil {
		return nil, err
	}
	hints := &schema.Schema{Name: name}
	for _, t := range target.Tables {
		if t.Parent != "" || isSystem(t.Name) {
			continue
		}
		ht := &schema.Table{Name: t.Name, Resource: t.Resource, WriteDisposition: t.WriteDisposition}
		for _, c := range t.Columns {
			if c.PrimaryKey || c.MergeKey {
				ht.Columns = append(ht.Columns, &schema.Column{Name: c.Name, PrimaryKey: c.PrimaryKey, MergeKey: c.MergeKey})
			}
		}
		hints.Tables = append(hints.Tables, ht)
	}
	hinted := doc.Clone()
	dltstate.AddTables(hinted, hints)
	for _, t := range hints.Tables {
		hinted.Obj("tables").Obj(t.Name).Delete("x-normalizer") // no data seen yet
	}
	h1, err := dltstate.SchemaVersionHash(hinted)
	if err != nil {
		return nil, err
	}
	if h1 != h0 {
		doc.Set("version_hash", h1)
		doc.Set("previous_hashes", []any{h0})
	}
	return doc, nil
}
