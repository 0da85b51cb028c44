package iceberg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	iceberg "github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// pending is what a load will do to one table at Commit.
type pending struct {
	def     *schema.Table // columns after this load's Apply; nil when unchanged
	create  bool          // the table is new in this load
	replace bool          // remove the table's committed rows first
	// deleteCol and deleteIDs remove the committed rows whose deleteCol
	// is one of deleteIDs (a merge's replaced rows).
	deleteCol string
	deleteIDs map[string]bool
	recs      []segment // rows to add, spilled to files
	staged    []segment // rows staged for a merge, spilled to files
}

// release removes the pending rows' files.
func (p *pending) release() {
	removeSegments(p.recs)
	removeSegments(p.staged)
	p.recs, p.staged = nil, nil
}

type tx struct {
	d      *Iceberg
	mu     sync.Mutex // guards tables
	tables map[string]*pending
	loadID string // from the loads table's row; tags the snapshots
	dir    string // the spill folder, made on first Write; guarded by mu
	done   bool
}

var (
	_ destination.Tx             = (*tx)(nil)
	_ destination.ParallelWriter = (*tx)(nil)
)

// ParallelWrites says Write may run for different tables at once (see
// destination.ParallelWriter): each spills its own files.
func (t *tx) ParallelWrites() bool { return true }

var errDone = errors.New("iceberg: transaction already finished")

// Begin starts a load: nothing is written to the catalog before Commit.
func (d *Iceberg) Begin(context.Context) (destination.Tx, error) {
	return &tx{d: d, tables: map[string]*pending{}}, nil
}

func (t *tx) pending(name string) *pending {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.tables[name]
	if p == nil {
		p = &pending{}
		t.tables[name] = p
	}
	return p
}

// Apply records new tables and columns; Commit creates and evolves the
// Iceberg tables.
func (t *tx) Apply(_ context.Context, changes []schema.Change) error {
	if t.done {
		return errDone
	}
	for _, c := range changes {
		if c.Table == nil {
			return t.d.errorf("", "apply", fmt.Errorf("%s change without a table", c.Kind))
		}
		if err := checkName(c.Table.Name); err != nil {
			return t.d.errorf("", "apply", err)
		}
		if _, err := icebergSchema(c.Table); err != nil {
			return t.d.errorf(c.Table.Name, "apply", err)
		}
		p := t.pending(c.Table.Name)
		switch c.Kind {
		case schema.AddTable:
			p.create = true
		case schema.AddColumn:
		default:
			return t.d.errorf(c.Table.Name, "apply", fmt.Errorf("unknown change kind %q", c.Kind))
		}
		p.def = c.Table.Clone()
	}
	return nil
}

// loadsTable and loadIDColumn name the loader's loads table and its id
// column (package load): the id written there tags the load's snapshots.
const (
	loadsTable   = "_dlt_loads"
	loadIDColumn = "load_id"
)

// Write converts rows to Arrow records of batchRows rows and spills them,
// one at a time, to a file in the load's spill folder, read back at Commit
// (ModeAppend, ModeReplace) or Merge (ModeStage).
func (t *tx) Write(ctx context.Context, tb *schema.Table, mode destination.Mode, rows destination.RowSource) (int64, error) {
	if t.done {
		return 0, errDone
	}
	if err := checkName(tb.Name); err != nil {
		return 0, t.d.errorf("", "write", err)
	}
	p := t.pending(tb.Name)
	if p.def == nil {
		if _, err := t.d.load(ctx, tb.Name); err != nil {
			return 0, t.d.errorf(tb.Name, "write", err)
		}
	}
	switch mode {
	case destination.ModeAppend, destination.ModeStage:
	case destination.ModeReplace:
		t.mu.Lock()
		p.release()
		p.replace, p.deleteCol, p.deleteIDs = true, "", nil
		t.mu.Unlock()
	default:
		return 0, t.d.errorf(tb.Name, "write", fmt.Errorf("unknown write mode %d", mode))
	}
	seg, ok, n, err := t.records(ctx, tb, rows)
	if err != nil {
		return n, t.d.errorf(tb.Name, "write", err)
	}
	if !ok {
		return n, nil
	}
	t.mu.Lock()
	if mode == destination.ModeStage {
		p.staged = append(p.staged, seg)
	} else {
		p.recs = append(p.recs, seg)
	}
	t.mu.Unlock()
	return n, nil
}

// records converts rows for tb into Arrow records spilled to a segment.
func (t *tx) records(ctx context.Context, tb *schema.Table, rows destination.RowSource) (segment, bool, int64, error) {
	conv, err := destination.NewRowConverter(tb.Columns, nil)
	if err != nil {
		return segment{}, false, 0, err
	}
	sc, err := arrowSchema(tb.Columns)
	if err != nil {
		return segment{}, false, 0, err
	}
	var see func(arrow.RecordBatch)
	if tb.Name == loadsTable {
		see = t.noteLoadID
	}
	row := make([]any, len(tb.Columns))
	seg, ok, err := t.spill(sc, see, func(bt *batcher) error {
		for rows.Next() {
			if conv.Rows()%10_000 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := conv.Convert(rows.Values(), row); err != nil {
				return err
			}
			if err := bt.add(row); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading rows: %w", err)
		}
		return nil
	})
	return seg, ok, conv.Rows(), err
}

// noteLoadID keeps the load id of the loads table's row.
func (t *tx) noteLoadID(rec arrow.RecordBatch) {
	idx := rec.Schema().FieldIndices(loadIDColumn)
	if len(idx) == 0 || rec.NumRows() == 0 {
		return
	}
	if v, err := value(rec.Column(idx[0]), 0); err == nil {
		if s, ok := v.(string); ok {
			t.mu.Lock()
			t.loadID = s
			t.mu.Unlock()
		}
	}
}

// snapshotLoadID is the snapshot summary property naming the load that
// wrote a snapshot.
const snapshotLoadID = "restload.load-id"

// Commit commits each changed table in its own Iceberg transaction (one
// snapshot per table), tables in name order with the bookkeeping tables
// (dlt's, names starting with "_dlt_") last and the loads table the very
// last: a load whose loads row is committed is committed whole. Tables that
// already hold a snapshot of this load (a retry after a crash mid-commit)
// are skipped.
func (t *tx) Commit(ctx context.Context) error {
	if t.done {
		return errDone
	}
	t.done = true
	defer t.discard()
	names := make([]string, 0, len(t.tables))
	for n := range t.tables {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return commitOrder(names[i]) < commitOrder(names[j]) })
	if len(names) > 0 {
		if err := t.d.ensureNamespace(ctx); err != nil {
			return t.d.errorf("", "commit", err)
		}
	}
	// The dataset's own tables commit at once (each writes its Parquet
	// files); the bookkeeping tables follow, in order, once all succeeded.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(commitWorkers)
	i := 0
	for ; i < len(names) && commitOrder(names[i])[0] == '0'; i++ {
		n := names[i]
		g.Go(func() error {
			if err := t.commitTable(gctx, n, t.tables[n]); err != nil {
				return t.d.errorf(n, "commit", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, n := range names[i:] {
		if err := t.commitTable(ctx, n, t.tables[n]); err != nil {
			return t.d.errorf(n, "commit", err)
		}
	}
	return nil
}

// commitWorkers is how many tables commit at once.
const commitWorkers = 4

// commitOrder sorts user tables first, the bookkeeping tables after them
// and the loads table last.
func commitOrder(name string) string {
	switch {
	case name == loadsTable:
		return "2" + name
	case strings.HasPrefix(name, "_dlt_") || strings.HasPrefix(name, "_restload_"):
		return "1" + name
	}
	return "0" + name
}

func (d *Iceberg) ensureNamespace(ctx context.Context) error {
	ok, err := d.cat.CheckNamespaceExists(ctx, d.ns)
	if err != nil || ok {
		return err
	}
	err = retrySerializable(ctx, func() error { return d.cat.CreateNamespace(ctx, d.ns, nil) })
	if errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		return nil
	}
	return err
}

// commitTable creates or evolves one table and commits its rows.
func (t *tx) commitTable(ctx context.Context, name string, p *pending) error {
	tbl, err := t.d.load(ctx, name)
	if errors.Is(err, destination.ErrNoTable) && p.create {
		tbl, err = t.d.create(ctx, name, p.def)
	}
	if err != nil {
		return err
	}
	txn := tbl.NewTransaction()
	if p.def != nil {
		if err := evolve(txn, tbl.Schema(), p.def); err != nil {
			return fmt.Errorf("schema update: %w", err)
		}
	}
	if t.loadID != "" && hasLoad(tbl, t.loadID) {
		// A retry after a crash mid-commit: the rows are in already.
		_, err := txn.Commit(ctx)
		return err
	}
	props := iceberg.Properties{}
	if t.loadID != "" {
		props[snapshotLoadID] = t.loadID
	}
	staged, err := txn.StagedTable()
	if err != nil {
		return err
	}
	target, err := table.SchemaToArrowSchema(staged.Schema(), nil, false, false)
	if err != nil {
		return err
	}
	// iceberg-go pulls the spilled rows one small record at a time and
	// writes its data files as they come.
	rdr := newSegmentReader(ctx, p.recs, target)
	defer rdr.Release()
	var rows int64
	for _, s := range p.recs {
		rows += s.rows
	}
	empty := tbl.CurrentSnapshot() == nil
	switch {
	case p.replace && rows == 0:
		if !empty {
			err = txn.Delete(ctx, iceberg.AlwaysTrue{}, props)
		}
	case p.replace && !empty:
		err = txn.Overwrite(ctx, rdr, props)
	case len(p.deleteIDs) > 0 && !empty:
		err = txn.Overwrite(ctx, rdr, props, table.WithOverwriteFilter(inFilter(p.deleteCol, p.deleteIDs)))
	case rows > 0:
		err = txn.Append(ctx, rdr, props)
	}
	if err != nil {
		return err
	}
	_, err = txn.Commit(ctx)
	return err
}

// create creates table name with def's columns; a table another load
// created meanwhile is loaded instead.
func (d *Iceberg) create(ctx context.Context, name string, def *schema.Table) (*table.Table, error) {
	sc, err := icebergSchema(def)
	if err != nil {
		return nil, err
	}
	var opts []catalog.CreateTableOpt
	if d.warehouse != "" {
		opts = append(opts, catalog.WithLocation(d.warehouse+"/"+d.ns[0]+"/"+name))
	}
	var tbl *table.Table
	err = retrySerializable(ctx, func() (err error) {
		tbl, err = d.cat.CreateTable(ctx, d.ident(name), sc, opts...)
		return err
	})
	if errors.Is(err, catalog.ErrTableAlreadyExists) {
		return d.cat.LoadTable(ctx, d.ident(name))
	}
	return tbl, err
}

// serializableAttempts bounds how often retrySerializable runs a catalog
// write.
const serializableAttempts = 8

// retrySerializable runs fn, a catalog write, again while it fails with a
// serialization failure, up to serializableAttempts times in all, waiting
// longer each time. iceberg-go's SQL catalog writes in SERIALIZABLE
// transactions and tries three times within ~30 ms; loads writing to
// catalogs of one database at once (a fleet's shares, several pipelines)
// can conflict for longer than that. A serialization failure changed
// nothing, so running the write again is safe.
func retrySerializable(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !serializationFailure(err) || attempt >= serializableAttempts {
			return err
		}
		t := time.NewTimer(time.Duration(attempt) * 50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// serializationFailure reports whether err is PostgreSQL's serialization
// failure (SQLSTATE 40001), which a SERIALIZABLE transaction that lost a
// conflict gets and which its retry may not.
func serializationFailure(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001"
	}
	return strings.Contains(err.Error(), "(SQLSTATE 40001)")
}

// evolve adds to txn's schema the columns of def it lacks.
func evolve(txn *table.Transaction, cur *iceberg.Schema, def *schema.Table) error {
	var add []*schema.Column
	for _, c := range def.Columns {
		if _, ok := cur.FindFieldByName(c.Name); !ok {
			add = append(add, c)
		}
	}
	if len(add) == 0 {
		return nil
	}
	u := txn.UpdateSchema(true, false)
	for _, c := range add {
		typ, err := icebergType(c)
		if err != nil {
			return err
		}
		u = u.AddColumn([]string{c.Name}, typ, docPrefix+string(c.Type), false, nil)
	}
	return u.Commit()
}

// hasLoad reports whether a snapshot of tbl was written by load id.
func hasLoad(tbl *table.Table, id string) bool {
	for _, s := range tbl.Metadata().Snapshots() {
		if s.Summary != nil && s.Summary.Properties[snapshotLoadID] == id {
			return true
		}
	}
	return false
}

// inFilter matches rows whose text column col is one of ids.
func inFilter(col string, ids map[string]bool) iceberg.BooleanExpression {
	vals := make([]string, 0, len(ids))
	for id := range ids {
		vals = append(vals, id)
	}
	sort.Strings(vals)
	return iceberg.IsIn(iceberg.Reference(col), vals...)
}

// project returns r with target's fields in target's order: a column r
// lacks (added after it was written) is null.
func project(r arrow.RecordBatch, target *arrow.Schema) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, target.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, f := range target.Fields() {
		idx := r.Schema().FieldIndices(f.Name)
		if len(idx) == 0 {
			cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, int(r.NumRows()))
			continue
		}
		c := r.Column(idx[0])
		if !arrow.TypeEqual(c.DataType(), f.Type) {
			return nil, fmt.Errorf("column %q: rows are %s, the table has %s", f.Name, c.DataType(), f.Type)
		}
		c.Retain()
		cols[i] = c
	}
	return array.NewRecordBatch(target, cols, r.NumRows()), nil
}

// discard removes the load's spill files and folder.
func (t *tx) discard() {
	for _, p := range t.tables {
		p.release()
	}
	if t.dir != "" {
		os.RemoveAll(t.dir)
		t.dir = ""
	}
}

// Rollback drops the load's spilled rows; nothing reached the catalog. After
// Commit it does nothing.
func (t *tx) Rollback(context.Context) error {
	if t.done {
		return nil
	}
	t.done = true
	t.discard()
	return nil
}
