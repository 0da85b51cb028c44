package files

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"gocloud.dev/blob"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// objectsTx is a load into object storage. pending.temps hold the keys
// (relative to the dataset's folder) of the data files it uploaded.
type objectsTx struct {
	pendingTables
	o      *Objects
	at     time.Time // the load's start: {load_id} and the time placeholders
	loadID string
	id     string // written into the commit record: see manifest.Tx
}

var _ destination.Tx = (*objectsTx)(nil)

// Begin starts a load; nothing is visible until Commit. Its load id is the
// time it began, in dlt's form (seconds.microseconds since the epoch).
func (o *Objects) Begin(context.Context) (destination.Tx, error) {
	now := time.Now().UTC()
	id := strconv.FormatInt(now.Unix(), 10) + "." + fmt.Sprintf("%06d", now.Nanosecond()/1000)
	return &objectsTx{o: o, at: now, loadID: id, id: id + "-" + randomHex(), pendingTables: pendingTables{tables: map[string]*pending{}}}, nil
}

// ParallelWrites says Write may run for different tables at once: each
// uploads its own file.
func (t *objectsTx) ParallelWrites() bool { return true }

// Apply records the tables' new column lists; Commit writes them.
func (t *objectsTx) Apply(_ context.Context, changes []schema.Change) error {
	if t.done {
		return errDone
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return applyChanges(changes, t.pending, t.o.errorf)
}

// Write uploads rows as a new data file of the table, in parts (see
// PartSize). The file has its final key but is invisible to readers of the
// dataset until Commit names it. ModeStage is not supported.
func (t *objectsTx) Write(ctx context.Context, tb *schema.Table, mode destination.Mode, rows destination.RowSource) (int64, error) {
	conv, err := t.startWrite(tb, mode, func() error { _, _, err := t.o.loadTable(ctx, tb.Name); return err }, func(keys []string) { t.o.remove(ctx, keys) }, t.o.errorf)
	if err != nil {
		return 0, err
	}
	if isBookkeeping(tb.Name) {
		return t.writeBookkeeping(ctx, tb, conv, rows)
	}
	rel := t.o.layout.render(&layoutVars{schema: t.o.dataset, table: tb.Name, loadID: t.loadID, fileID: randomHex(), ext: string(t.o.format), at: t.at})
	src := &normalizing{ctx: ctx, rows: rows, conv: conv, row: make([]any, len(tb.Columns))}
	n, err := t.o.upload(ctx, t.o.prefix+rel, func(w io.Writer) (int64, error) {
		return t.o.codec.write(w, tb.Columns, src)
	})
	if err != nil {
		return n, t.o.errorf(tb.Name, "write "+rel, err)
	}
	if n > 0 {
		t.mu.Lock()
		p := t.pending(tb.Name)
		p.temps = append(p.temps, rel)
		t.mu.Unlock()
	}
	return n, nil
}

// writeBookkeeping uploads each row of dlt's bookkeeping table tb to the
// object dlt's filesystem destination names (see bookkeepingFile), under
// the table's folder.
func (t *objectsTx) writeBookkeeping(ctx context.Context, tb *schema.Table, conv *destination.RowConverter, rows destination.RowSource) (int64, error) {
	names, bodies, err := bookkeepingRows(&normalizing{ctx: ctx, rows: rows, conv: conv, row: make([]any, len(tb.Columns))}, tb)
	if err != nil {
		return 0, t.o.errorf(tb.Name, "write", err)
	}
	for i, body := range bodies {
		rel := tb.Name + "/" + names[i]
		w, err := t.o.bucket.NewWriter(ctx, t.o.prefix+rel, &blob.WriterOptions{ContentType: "application/jsonl"})
		if err != nil {
			return 0, t.o.errorf(tb.Name, "write "+rel, err)
		}
		_, err = w.Write(body)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return 0, t.o.errorf(tb.Name, "write "+rel, err)
		}
		t.mu.Lock()
		p := t.pending(tb.Name)
		p.temps = append(p.temps, rel)
		t.mu.Unlock()
	}
	return int64(len(bodies)), nil
}

// upload streams what write writes to key. When write fails or writes no
// rows the upload is abandoned: no object is created.
func (o *Objects) upload(ctx context.Context, key string, write func(io.Writer) (int64, error)) (int64, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ct := "application/vnd.apache.parquet"
	if o.format == JSONL {
		ct = "application/jsonl"
	}
	w, err := o.bucket.NewWriter(wctx, key, &blob.WriterOptions{ContentType: ct, BufferSize: PartSize, MaxConcurrency: 1})
	if err != nil {
		return 0, err
	}
	n, err := write(w)
	if err != nil || n == 0 {
		// Canceling before Close aborts the upload.
		cancel()
		_ = w.Close()
		return n, err
	}
	return n, w.Close()
}

// remove deletes keys relative to the dataset's folder; failures leave
// garbage that the sweep of a later commit removes.
func (o *Objects) remove(ctx context.Context, keys []string) {
	for _, k := range keys {
		_ = o.bucket.Delete(ctx, o.prefix+k)
	}
}

// Merge is not supported by file destinations.
func (t *objectsTx) Merge(_ context.Context, root *schema.Table, _ []*schema.Table) error {
	return t.o.errorf(root.Name, "merge", fmt.Errorf("merge is not supported for file destinations; use append or replace: %w", destination.ErrUnsupported))
}

// recordAge is how old a commit record must be (beyond the newest
// keepCommits) before a commit removes it. A commit reads the newest
// record n and writes n+1 within recordAge/2, else it reads again: so the
// number n+1 cannot have been freed by a removal in between, and a
// record's number is never reused.
const recordAge = time.Hour

// maxCommitAttempts bounds how often Commit retries after losing a race
// for a commit record to another load.
const maxCommitAttempts = 50

// Commit writes the next commit record: the newest manifest with this
// load's tables and files. That write, conditional on the record not
// existing, is the moment the load becomes visible. Losing the race to
// another load's commit, it reads that one and tries again on top of it.
// After the commit, replaced tables' files, old commit records and stale
// files of loads that never committed are removed.
//
// When writing the record fails otherwise (a network error), the load may
// or may not be committed; its files are left in place (a committed record
// may name them) and a later commit's sweep removes them if it does not.
func (t *objectsTx) Commit(ctx context.Context) error {
	if t.done {
		return errDone
	}
	t.done = true
	var m, old *manifest
	for attempt := 1; ; attempt++ {
		var err error
		read := time.Now()
		old, err = t.o.readManifest(ctx)
		if err != nil {
			t.discard(ctx)
			return t.o.errorf("", "commit", err)
		}
		m, err = t.next(old)
		if err != nil {
			t.discard(ctx)
			return err
		}
		if time.Since(read) > recordAge/2 {
			// Too slow between reading record n and writing n+1: old
			// records may have been removed since, so n+1 might be free
			// again though newer ones exist. Read again.
			continue
		}
		err = t.o.writeCommit(ctx, m)
		if isPrecondition(err) && t.wrote(ctx, m.Commit) {
			// A retried request found the record its first try wrote.
			err = nil
		}
		if err == nil {
			break
		}
		if !isPrecondition(err) {
			return t.o.errorf("", "commit", fmt.Errorf("write commit record %d: %w", m.Commit, err))
		}
		if attempt == maxCommitAttempts {
			t.discard(ctx)
			return t.o.errorf("", "commit", fmt.Errorf("gave up after %d commits of other loads won the race for the commit record", attempt))
		}
		// Another load committed first: wait a little, then build on it.
		select {
		case <-ctx.Done():
			t.discard(ctx)
			return t.o.errorf("", "commit", ctx.Err())
		case <-time.After(time.Duration(rand.IntN(20*attempt)+5) * time.Millisecond):
		}
	}
	// Committed. What follows tidies up; Read no longer depends on it.
	t.o.collectGarbage(ctx, old, m)
	return nil
}

// next is old with this load's tables and files.
func (t *objectsTx) next(old *manifest) (*manifest, error) {
	m := old.clone()
	for name, p := range t.tables {
		e, err := m.entry(name, p)
		if err != nil {
			return nil, t.o.errorf(name, "commit", err)
		}
		e.Files = append(e.Files, p.temps...)
	}
	m.Commit = old.Commit + 1
	m.Tx = t.id
	m.CommittedAt = time.Now().UTC()
	return m, nil
}

// wrote reports whether commit record n is this load's.
func (t *objectsTx) wrote(ctx context.Context, n int) bool {
	m, err := t.o.readCommit(ctx, n)
	return err == nil && m.Tx == t.id
}

// collectGarbage removes, after commit m replaced old: the files of
// replaced tables, commit records older than the newest keepCommits and
// than recordAge, and
// data files no manifest names that are older than staleAfter (a crashed
// load's; younger ones may belong to a load still running elsewhere).
// Failures are ignored: leftovers are invisible to Read.
func (o *Objects) collectGarbage(ctx context.Context, old, m *manifest) {
	keep := map[string]bool{}
	for _, e := range m.Tables {
		for _, f := range e.Files {
			keep[f] = true
		}
	}
	for _, e := range old.Tables {
		for _, f := range e.Files {
			if !keep[f] {
				_ = o.bucket.Delete(ctx, o.prefix+f)
			}
		}
	}
	if ns, err := o.commits(ctx); err == nil && len(ns) > keepCommits {
		for _, c := range ns[:len(ns)-keepCommits] {
			if time.Since(c.at) > recordAge {
				_ = o.bucket.Delete(ctx, o.prefix+commitKey(c.n))
			}
		}
	}
	it := o.bucket.List(&blob.ListOptions{Prefix: o.prefix})
	for {
		obj, err := it.Next(ctx)
		if err != nil {
			return
		}
		rel := strings.TrimPrefix(obj.Key, o.prefix)
		if obj.IsDir || keep[rel] || strings.HasPrefix(rel, ".restload/") || !strings.HasSuffix(rel, "."+string(o.format)) {
			continue
		}
		if time.Since(obj.ModTime) > staleAfter {
			_ = o.bucket.Delete(ctx, obj.Key)
		}
	}
}

// discard removes the load's uploaded files.
func (t *objectsTx) discard(ctx context.Context) {
	for _, p := range t.tables {
		t.o.remove(ctx, p.temps)
		p.temps = nil
	}
}

// Rollback removes the load's uploaded files; after Commit it does nothing.
func (t *objectsTx) Rollback(ctx context.Context) error {
	if t.done {
		return nil
	}
	t.done = true
	t.discard(ctx)
	return nil
}
