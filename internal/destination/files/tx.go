package files

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// pending is what a load will do to one table at Commit.
type pending struct {
	table   *schema.Table // new _table.json, nil when unchanged
	replace bool          // remove the table's committed files first
	temps   []string      // temporary data files to rename into place
	// names holds the final name of a temporary file that is not a data
	// file's (dlt's bookkeeping files: see bookkeepingFile).
	names map[string]string
}

type tx struct {
	pendingTables
	f *Files
}

// pendingTables is what a load will do, table by table: the part of a
// transaction the local and the object storage destinations share.
type pendingTables struct {
	mu     sync.Mutex // guards tables: Write runs for several tables at once
	tables map[string]*pending
	done   bool
}

// ParallelWrites says Write may run for different tables at once (see
// destination.ParallelWriter): each writes its own file.
func (t *tx) ParallelWrites() bool { return true }

var _ destination.Tx = (*tx)(nil)

// pending returns table's entry, creating it; the caller holds mu.
func (t *pendingTables) pending(table string) *pending {
	p := t.tables[table]
	if p == nil {
		p = &pending{}
		t.tables[table] = p
	}
	return p
}

var errDone = errors.New("files: transaction already finished")

// Apply records the tables' new column lists; Commit writes them.
func (t *tx) Apply(_ context.Context, changes []schema.Change) error {
	if t.done {
		return errDone
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return applyChanges(changes, t.pending, t.f.errorf)
}

// applyChanges records changes' tables in the pending entry pending gives.
func applyChanges(changes []schema.Change, pending func(table string) *pending, errorf func(table, op string, err error) error) error {
	for _, c := range changes {
		if c.Table == nil {
			return errorf("", "apply", fmt.Errorf("%s change without a table", c.Kind))
		}
		if err := checkName(c.Table.Name); err != nil {
			return errorf("", "apply", err)
		}
		switch c.Kind {
		case schema.AddTable, schema.AddColumn:
			for _, col := range c.Table.Columns {
				if _, err := destination.ConverterFor(col); err != nil {
					return errorf(c.Table.Name, "apply", err)
				}
			}
			pending(c.Table.Name).table = c.Table.Clone()
		default:
			return errorf(c.Table.Name, "apply", fmt.Errorf("unknown change kind %q", c.Kind))
		}
	}
	return nil
}

// startWrite checks a Write of tb in mode and returns tb's row converter.
// The table must exist: created by this load, or committed (exists says).
// A replace drops the files this load already wrote for tb (through drop).
func (t *pendingTables) startWrite(tb *schema.Table, mode destination.Mode, exists func() error, drop func([]string), errorf func(table, op string, err error) error) (*destination.RowConverter, error) {
	if t.done {
		return nil, errDone
	}
	if err := checkName(tb.Name); err != nil {
		return nil, errorf("", "write", err)
	}
	t.mu.Lock()
	p := t.tables[tb.Name]
	t.mu.Unlock()
	if p == nil || p.table == nil {
		if err := exists(); err != nil {
			return nil, errorf(tb.Name, "write", err)
		}
	}
	switch mode {
	case destination.ModeAppend:
	case destination.ModeReplace:
		t.mu.Lock()
		p = t.pending(tb.Name)
		p.replace = true
		old := p.temps
		p.temps = nil
		t.mu.Unlock()
		drop(old)
	case destination.ModeStage:
		return nil, errorf(tb.Name, "stage", fmt.Errorf("staging for merge: %w", destination.ErrUnsupported))
	default:
		return nil, errorf(tb.Name, "write", fmt.Errorf("unknown write mode %d", mode))
	}
	conv, err := destination.NewRowConverter(tb.Columns, nil)
	if err != nil {
		return nil, errorf(tb.Name, "write", err)
	}
	return conv, nil
}

// Write writes rows to a new temporary file of the table. ModeStage is not
// supported.
func (t *tx) Write(ctx context.Context, tb *schema.Table, mode destination.Mode, rows destination.RowSource) (int64, error) {
	conv, err := t.startWrite(tb, mode, func() error { _, _, err := t.f.loadTable(tb.Name); return err }, removeAll, t.f.errorf)
	if err != nil {
		return 0, err
	}
	dir := filepath.Join(t.f.dir, tb.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, t.f.errorf(tb.Name, "write", err)
	}
	if isBookkeeping(tb.Name) {
		return t.writeBookkeeping(ctx, tb, dir, conv, rows)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*."+string(t.f.format))
	if err != nil {
		return 0, t.f.errorf(tb.Name, "write", err)
	}
	t.mu.Lock()
	p := t.pending(tb.Name)
	p.temps = append(p.temps, tmp.Name())
	t.mu.Unlock()
	src := &normalizing{ctx: ctx, rows: rows, conv: conv, row: make([]any, len(tb.Columns))}
	n, err := t.f.codec.write(tmp, tb.Columns, src)
	if err == nil {
		// Synced before Commit names it in the manifest.
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, t.f.errorf(tb.Name, "write", err)
	}
	if n == 0 {
		// An empty load adds no file.
		os.Remove(tmp.Name())
		t.mu.Lock()
		p.temps = slices.DeleteFunc(p.temps, func(f string) bool { return f == tmp.Name() })
		t.mu.Unlock()
	}
	return n, nil
}

// writeBookkeeping writes each row of dlt's bookkeeping table tb to a
// temporary file that Commit names as dlt does (see bookkeepingFile).
func (t *tx) writeBookkeeping(ctx context.Context, tb *schema.Table, dir string, conv *destination.RowConverter, rows destination.RowSource) (int64, error) {
	names, bodies, err := bookkeepingRows(&normalizing{ctx: ctx, rows: rows, conv: conv, row: make([]any, len(tb.Columns))}, tb)
	if err != nil {
		return 0, t.f.errorf(tb.Name, "write", err)
	}
	for i, body := range bodies {
		tmp, err := os.CreateTemp(dir, ".tmp-*.jsonl")
		if err != nil {
			return 0, t.f.errorf(tb.Name, "write", err)
		}
		t.mu.Lock()
		p := t.pending(tb.Name)
		p.temps = append(p.temps, tmp.Name())
		if p.names == nil {
			p.names = map[string]string{}
		}
		p.names[tmp.Name()] = names[i]
		t.mu.Unlock()
		_, err = tmp.Write(body)
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return 0, t.f.errorf(tb.Name, "write", err)
		}
	}
	return int64(len(bodies)), nil
}

// normalizing checks each row against the table and yields canonical
// values (see destination.ConverterFor).
type normalizing struct {
	ctx  context.Context
	rows destination.RowSource
	conv *destination.RowConverter
	row  []any
}

// next returns the next canonical row, nil at the end. The row is reused.
func (s *normalizing) next() ([]any, error) {
	if !s.rows.Next() {
		if err := s.rows.Err(); err != nil {
			return nil, fmt.Errorf("reading rows: %w", err)
		}
		return nil, nil
	}
	if s.conv.Rows()%10_000 == 0 {
		if err := s.ctx.Err(); err != nil {
			return nil, err
		}
	}
	if err := s.conv.Convert(s.rows.Values(), s.row); err != nil {
		return nil, err
	}
	return s.row, nil
}

// Merge is not supported by file destinations.
func (t *tx) Merge(_ context.Context, root *schema.Table, _ []*schema.Table) error {
	return t.f.errorf(root.Name, "merge", fmt.Errorf("merge is not supported for file destinations; use append or replace: %w", destination.ErrUnsupported))
}

// Commit renames this load's files to their final names, then writes the
// new manifest in one rename: that is the moment the load becomes visible.
// After it, replaced tables' old files and any leftovers of crashed loads
// are removed, and changed _table.json files are rewritten.
func (t *tx) Commit(ctx context.Context) error {
	if t.done {
		return errDone
	}
	t.done = true
	unlock, err := t.f.lock(ctx)
	if err != nil {
		t.discard()
		return t.f.errorf("", "commit", err)
	}
	defer unlock()
	old, err := t.f.readManifest()
	if err != nil {
		t.discard()
		return t.f.errorf("", "commit", err)
	}
	m := old.clone()
	now := time.Now()
	names := make([]string, 0, len(t.tables))
	for name := range t.tables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := t.tables[name]
		e, err := m.entry(name, p)
		if err != nil {
			t.discard()
			return t.f.errorf(name, "commit", err)
		}
		for i, tmp := range p.temps {
			base := fileName(now, i, t.f.format)
			if n, ok := p.names[tmp]; ok {
				base = n
			}
			if err := os.Rename(tmp, filepath.Join(filepath.Dir(tmp), base)); err != nil {
				t.discard()
				return t.f.errorf(name, "commit", err)
			}
			p.temps[i] = ""
			e.Files = append(e.Files, base)
		}
		p.temps = nil
		dir := filepath.Join(t.f.dir, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.discard()
			return t.f.errorf(name, "commit", err)
		}
		if err := syncDir(dir); err != nil {
			t.discard()
			return t.f.errorf(name, "commit", err)
		}
	}
	m.Commit++
	m.CommittedAt = now.UTC()
	if err := t.f.writeManifest(m); err != nil {
		// The renamed files are not in any manifest: invisible, and removed
		// by the next commit.
		return t.f.errorf("", "commit", err)
	}
	// Committed. What follows tidies up; Read no longer depends on it.
	for _, name := range names {
		if p := t.tables[name]; p.table != nil {
			_ = writeTable(filepath.Join(t.f.dir, name), p.table)
		}
	}
	t.f.collectGarbage(m)
	return nil
}

func writeTable(dir string, tb *schema.Table) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(tb, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(dir, tableFile, append(b, '\n'))
}

// discard removes the load's temporary files.
func (t *tx) discard() {
	for _, p := range t.tables {
		removeAll(p.temps)
		p.temps = nil
	}
}

func removeAll(paths []string) {
	for _, p := range paths {
		if p != "" {
			os.Remove(p)
		}
	}
}

// Rollback removes the load's temporary files; after Commit it does nothing.
func (t *tx) Rollback(context.Context) error {
	if t.done {
		return nil
	}
	t.done = true
	t.discard()
	return nil
}
