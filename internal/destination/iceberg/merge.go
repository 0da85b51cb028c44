package iceberg

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// Merge folds the rows staged for root and its children into the rows the
// load commits. For each primary key of root the staged row with the
// greatest _dlt_id wins; the committed root rows with a staged key are
// removed at Commit by an overwrite whose filter names their _dlt_id, and
// their children by their _dlt_root_id (copy-on-write: only data files
// holding such rows are rewritten). Children staged under a losing root row
// are dropped. Merging again in one load folds the earlier result in.
// The staged rows are read from their spill files twice (to find the
// winners, then to copy them to a new spill file); the staged keys and the
// committed root's keys and _dlt_id are held in memory, not the rows.
func (t *tx) Merge(ctx context.Context, root *schema.Table, children []*schema.Table) error {
	if t.done {
		return errDone
	}
	// Only delete-insert, without merge hints: the pipeline refuses the
	// rest before a run starts, and a caller that did not is told here
	// rather than given a merge that ignored what it asked for.
	var asked string
	switch m := root.Merge; {
	case schema.StrategyOf(root) != schema.DeleteInsert:
		asked = "merge strategy " + schema.StrategyOf(root)
	case m != nil && m.HardDelete != "":
		asked = "the hard_delete hint (column " + m.HardDelete + ")"
	case m != nil && m.DedupSort != "":
		asked = "the dedup_sort hint (column " + m.DedupSort + ")"
	}
	if asked != "" {
		return t.d.errorf(root.Name, "merge", fmt.Errorf("%s: %w (Iceberg merges by delete-insert only)", asked, destination.ErrUnsupported))
	}
	var keys []string
	for _, c := range root.Columns {
		if c.PrimaryKey {
			keys = append(keys, c.Name)
		}
	}
	if len(keys) == 0 {
		return t.d.errorf(root.Name, "merge", errors.New("the table has no primary key"))
	}
	if root.Column(schema.ColID) == nil {
		return t.d.errorf(root.Name, "merge", fmt.Errorf("the table has no %s column", schema.ColID))
	}
	p := t.pending(root.Name)
	t.mu.Lock()
	in := append(p.recs, p.staged...)
	p.recs, p.staged = nil, nil
	t.mu.Unlock()
	defer removeSegments(in)

	// The winning staged row of each key, found by reading the spilled
	// rows once; only keys and _dlt_ids stay in memory.
	type pick struct {
		id       string
		seg, row int
	}
	win := map[string]pick{}
	err := eachKey(ctx, in, keys, func(k, id string, s, n int, _ arrow.RecordBatch, _ int) error {
		if old, seen := win[k]; !seen || id > old.id {
			win[k] = pick{id: id, seg: s, row: n}
		}
		return nil
	})
	if err != nil {
		return t.d.errorf(root.Name, "merge", err)
	}
	winners := make(map[string]bool, len(win))
	for _, w := range win {
		winners[w.id] = true
	}

	// The committed rows those keys replace.
	replaced := map[string]bool{}
	if !p.create || p.def == nil {
		tbl, err := t.d.load(ctx, root.Name)
		if err != nil && !errors.Is(err, destination.ErrNoTable) {
			return t.d.errorf(root.Name, "merge", err)
		}
		if err == nil {
			rows, err := scanRows(ctx, tbl, append([]string{schema.ColID}, keys...))
			if err != nil {
				return t.d.errorf(root.Name, "merge: read keys", err)
			}
			for _, r := range rows {
				k, err := keyText(r, keys)
				if err != nil {
					return t.d.errorf(root.Name, "merge", err)
				}
				if _, ok := win[k]; ok {
					id, _ := r[schema.ColID].(string)
					replaced[id] = true
				}
			}
		}
	}

	// The root's new rows: the winners, read again and spilled anew.
	sc, err := arrowSchema(root.Columns)
	if err != nil {
		return t.d.errorf(root.Name, "merge", err)
	}
	row := make([]any, len(root.Columns))
	seg, ok, err := t.spill(sc, nil, func(bt *batcher) error {
		return eachKey(ctx, in, keys, func(k, _ string, s, n int, rec arrow.RecordBatch, i int) error {
			if w := win[k]; w.seg != s || w.row != n {
				return nil
			}
			if err := copyRow(rec, i, root.Columns, row); err != nil {
				return err
			}
			return bt.add(row)
		})
	})
	if err != nil {
		return t.d.errorf(root.Name, "merge", err)
	}
	t.mu.Lock()
	if ok {
		p.recs = []segment{seg}
	}
	p.deleteCol, p.deleteIDs = schema.ColID, union(p.deleteIDs, replaced)
	t.mu.Unlock()

	for _, c := range children {
		if err := t.mergeChild(ctx, c, winners); err != nil {
			return t.d.errorf(c.Name, "merge", err)
		}
		cp := t.pending(c.Name)
		t.mu.Lock()
		cp.deleteCol, cp.deleteIDs = schema.ColRootID, union(cp.deleteIDs, replaced)
		t.mu.Unlock()
	}
	return nil
}

// mergeChild keeps the staged rows of child c under a winning root row.
func (t *tx) mergeChild(ctx context.Context, c *schema.Table, winners map[string]bool) error {
	if c.Column(schema.ColRootID) == nil {
		return fmt.Errorf("the child table has no %s column", schema.ColRootID)
	}
	p := t.pending(c.Name)
	t.mu.Lock()
	in := append(p.recs, p.staged...)
	p.recs, p.staged = nil, nil
	t.mu.Unlock()
	defer removeSegments(in)
	sc, err := arrowSchema(c.Columns)
	if err != nil {
		return err
	}
	row := make([]any, len(c.Columns))
	seg, ok, err := t.spill(sc, nil, func(bt *batcher) error {
		return eachRecord(ctx, in, func(_ int, rec arrow.RecordBatch) error {
			idx := rec.Schema().FieldIndices(schema.ColRootID)
			if len(idx) == 0 {
				return fmt.Errorf("staged rows lack %s", schema.ColRootID)
			}
			for i := 0; i < int(rec.NumRows()); i++ {
				v, err := value(rec.Column(idx[0]), i)
				if err != nil {
					return err
				}
				if s, _ := v.(string); !winners[s] {
					continue
				}
				if err := copyRow(rec, i, c.Columns, row); err != nil {
					return err
				}
				if err := bt.add(row); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	if ok {
		t.mu.Lock()
		p.recs = []segment{seg}
		t.mu.Unlock()
	}
	return nil
}

// eachKey calls fn for each row of segs with its key and _dlt_id, its
// segment s, its number n in the segment, its record and its row i there.
func eachKey(ctx context.Context, segs []segment, keys []string, fn func(k, id string, s, n int, rec arrow.RecordBatch, i int) error) error {
	rowsIn := make([]int, len(segs))
	return eachRecord(ctx, segs, func(s int, rec arrow.RecordBatch) error {
		kc, idc, err := columns(rec, keys)
		if err != nil {
			return err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			k, id, err := keyOf(kc, idc, i)
			if err != nil {
				return err
			}
			if err := fn(k, id, s, rowsIn[s]+i, rec, i); err != nil {
				return err
			}
		}
		rowsIn[s] += int(rec.NumRows())
		return nil
	})
}

func union(a, b map[string]bool) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// columns returns rec's key columns and its _dlt_id column.
func columns(rec arrow.RecordBatch, keys []string) ([]arrow.Array, arrow.Array, error) {
	kc := make([]arrow.Array, len(keys))
	for i, k := range keys {
		idx := rec.Schema().FieldIndices(k)
		if len(idx) == 0 {
			return nil, nil, fmt.Errorf("staged rows lack the key column %q", k)
		}
		kc[i] = rec.Column(idx[0])
	}
	idx := rec.Schema().FieldIndices(schema.ColID)
	if len(idx) == 0 {
		return nil, nil, fmt.Errorf("staged rows lack %s", schema.ColID)
	}
	return kc, rec.Column(idx[0]), nil
}

func keyOf(kc []arrow.Array, idc arrow.Array, i int) (key, id string, err error) {
	r := make(map[string]any, len(kc))
	names := make([]string, len(kc))
	for j, a := range kc {
		v, err := value(a, i)
		if err != nil {
			return "", "", err
		}
		names[j] = fmt.Sprint(j)
		r[names[j]] = v
	}
	key, err = keyText(r, names)
	if err != nil {
		return "", "", err
	}
	v, err := value(idc, i)
	if err != nil {
		return "", "", err
	}
	id, _ = v.(string)
	return key, id, nil
}

// keyText is a primary key's values as one comparable string: each value
// tagged with its kind, so 1 and "1" differ, and instants in UTC.
func keyText(row map[string]any, keys []string) (string, error) {
	var b strings.Builder
	for _, k := range keys {
		switch v := row[k].(type) {
		case nil:
			b.WriteString("n")
		case string:
			fmt.Fprintf(&b, "s%d:%s", len(v), v)
		case int64:
			fmt.Fprintf(&b, "i%d", v)
		case float64:
			fmt.Fprintf(&b, "f%v", v)
		case bool:
			fmt.Fprintf(&b, "b%t", v)
		case time.Time:
			fmt.Fprintf(&b, "t%d", v.UnixMicro())
		default:
			return "", fmt.Errorf("key column %q: cannot compare %T", k, v)
		}
		b.WriteByte(0)
	}
	return b.String(), nil
}

// copyRow reads row i of rec into out, one value per column of cols (nil
// for a column rec lacks).
func copyRow(rec arrow.RecordBatch, i int, cols []*schema.Column, out []any) error {
	for j, c := range cols {
		out[j] = nil
		idx := rec.Schema().FieldIndices(c.Name)
		if len(idx) == 0 {
			continue
		}
		v, err := value(rec.Column(idx[0]), i)
		if err != nil {
			return fmt.Errorf("column %q: %w", c.Name, err)
		}
		out[j] = v
	}
	return nil
}
