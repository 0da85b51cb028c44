package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/sqlgen"
	"github.com/restload/restload/internal/schema"
)

// tx is one load: a BEGIN TRANSACTION on a dedicated connection. Rows are
// inserted on that same connection, so they are part of the transaction
// and vanish on rollback.
type tx struct {
	d       *DuckDB
	conn    *sql.Conn
	staging *sqlgen.Staging // staging tables made in this transaction
	done    bool
	// failed is set when a statement failed midway; Commit then refuses.
	failed error
	// memLimit is memory_limit as set (its text), memBase its bytes,
	// memRaised what raiseMemory raised it to (0: not raised), memHeld
	// what the raising chunks hold until the transaction ends.
	memLimit                    string
	memBase, memRaised, memHeld int64
}

var _ destination.Tx = (*tx)(nil)

// run runs stmts in order, stopping at the first that fails.
func (t *tx) run(ctx context.Context, stmts []sqlgen.Stmt) error {
	for _, s := range stmts {
		if _, err := t.conn.ExecContext(ctx, s.SQL); err != nil {
			return t.fail(t.d.sql.Errorf(s.Table, s.Op, outOfMemory(err)))
		}
	}
	return nil
}

// outOfMemory adds to a DuckDB out-of-memory error how to give a load more
// memory: DuckDB's own advice does not say where restload sets the limit.
func outOfMemory(err error) error {
	msg := err.Error()
	if !strings.Contains(msg, "Out of Memory Error") && !strings.Contains(msg, "failed to pin block") && !strings.Contains(msg, "could not allocate block") {
		return err
	}
	return fmt.Errorf("%w\n(restload: a database file's memory_limit defaults to %s; raise it in the destination URL, e.g. duckdb:PATH?memory_limit=2GB, or give the run a larger budget, run --memory or limits.memory)", err, fileSetting("memory_limit"))
}

func fileSetting(name string) string {
	for _, s := range FileSettings {
		if s.Name == name {
			return s.Value
		}
	}
	return ""
}

func (t *tx) fail(err error) error {
	if t.failed == nil {
		t.failed = err
	}
	return err
}

func (t *tx) check() error {
	if t.done {
		return errors.New("duckdb: transaction already finished")
	}
	return nil
}

// Apply creates the dataset's schema, then each table or column in changes.
// It is idempotent: existing tables and columns are left alone.
func (t *tx) Apply(ctx context.Context, changes []schema.Change) error {
	if err := t.check(); err != nil {
		return err
	}
	stmts, err := t.d.sql.Apply(changes)
	if err != nil {
		return err
	}
	// The tables that do not exist yet: this transaction creates them
	// (one writer holds the database file), so a merge into one needs
	// only its staged keys (sqlgen.Staging.Created).
	var created []string
	for _, c := range changes {
		if c.Kind != schema.AddTable || c.Table == nil {
			continue
		}
		var n int
		if err := t.conn.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
			WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?`, t.d.dataset, c.Table.Name).Scan(&n); err != nil {
			return t.fail(t.d.sql.Errorf(c.Table.Name, "create", err))
		}
		if n == 0 {
			created = append(created, c.Table.Name)
		}
	}
	if err := t.run(ctx, stmts); err != nil {
		return err
	}
	for _, name := range created {
		t.staging.Created(name)
	}
	return nil
}

// Write appends rows to the table (ModeAppend), replaces its rows
// (ModeReplace: DELETE then append, invisible to readers until Commit), or
// stages them for Merge (ModeStage). Staged rows go straight into the
// table too; only a root table's primary key and _dlt_id are copied to a
// narrow staging table, from which Merge removes the rows that lost (see
// sqlgen.Staging.MergeDirect). Writing every row once, not into a staging
// table and then again into the target, halves the work of a merge.
func (t *tx) Write(ctx context.Context, tb *schema.Table, mode destination.Mode, rows destination.RowSource) (int64, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	stmts, keys, err := t.staging.PrepareWrite(tb, mode)
	if err != nil {
		return 0, err
	}
	if err := t.run(ctx, stmts); err != nil {
		return 0, err
	}
	n, err := t.appendRows(ctx, tb, t.staging.Into(tb, mode), rows, keys)
	if err != nil {
		return n, t.fail(t.d.sql.Errorf(tb.Name, "write", outOfMemory(err)))
	}
	return n, nil
}

// appendRows writes rows into tb's columns of table into (which may hold
// more columns, left NULL, or hold them in another order) a chunk at a
// time (see rowChunk and chunkBytes). With keys, each row's key values
// also go to the key staging table.
//
// Encoding and inserting overlap: while DuckDB reads one chunk on the
// load's connection (on its own goroutine), this goroutine encodes the
// next chunk. At most two chunks exist at a time.
func (t *tx) appendRows(ctx context.Context, tb *schema.Table, into string, rows destination.RowSource, keys *sqlgen.Keys) (int64, error) {
	conv, err := destination.NewRowConverter(tb.Columns, converterFor)
	if err != nil {
		return 0, err
	}
	var (
		n        int64 // rows read
		data, kf rowChunk
		kvals    []any
	)
	if keys != nil {
		kvals = make([]any, len(keys.Columns))
	}
	ins := t.startInserter(ctx, into, keys)
	defer func() {
		if data != nil {
			data.remove()
		}
		if kf != nil {
			kf.remove()
		}
		ins.stop()
	}()
	// flush hands the current chunks to the inserter, which removes them
	// once read (or when it is stopped).
	flush := func() error {
		if data == nil {
			return nil
		}
		c := chunk{data: data, keys: kf}
		data, kf = nil, nil
		return ins.add(c)
	}
	out := make([]any, len(tb.Columns))
	for rows.Next() {
		if err := conv.Convert(rows.Values(), out); err != nil {
			return n, err
		}
		n++
		if data == nil {
			if data, err = t.d.newChunk(tb.Columns); err != nil {
				return n, err
			}
			if keys != nil {
				if kf, err = t.d.newChunk(keys.Columns); err != nil {
					return n, err
				}
			}
		}
		if err := data.Add(out); err != nil {
			return n, fmt.Errorf("row %d: %w", n, err)
		}
		if kf != nil {
			keys.Values(out, kvals)
			if err := kf.Add(kvals); err != nil {
				return n, fmt.Errorf("row %d: key: %w", n, err)
			}
		}
		if n%(64<<10) == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		if st := data.stats(); st.Bytes >= chunkBytes || st.Rows >= chunkRows {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("reading rows: %w", err)
	}
	if err := flush(); err != nil {
		return n, err
	}
	return n, ins.wait()
}

// A table's rows reach DuckDB a chunk of up to chunkBytes (as text) or
// chunkRows at a time: Write builds a chunk and has DuckDB insert it while
// it builds the next. Chunks add up in the transaction's copy of the table
// as one INSERT would; they are small so that building (Go) and inserting
// (DuckDB) overlap.
var (
	chunkBytes int64 = 8 << 20
	chunkRows  int64 = 1 << 20
)

// rowChunk is a chunk of rows on their way into one DuckDB table: a CSV
// file that read_csv reads (csv.go, chunk_csv.go), or, in a build with the
// duckdb_arrow tag, Arrow record batches that DuckDB scans (chunk_arrow.go).
// Add rows, Finish, insert it, then remove it.
type rowChunk interface {
	// Add appends one row, a value (as converterFor makes it) for each of
	// the chunk's columns.
	Add(vals []any) error
	// Finish readies the chunk for DuckDB; no row is added after it.
	Finish() error
	// stats counts what was added.
	stats() chunkStats
	// insert has DuckDB insert the finished chunk into table on t's
	// connection and returns how many rows it inserted.
	insert(ctx context.Context, t *tx, table string) (int64, error)
	// remove frees what the chunk holds (a file, memory).
	remove()
}

// chunkStats is what a chunk holds: rows, bytes (as text) and the longest
// row's bytes, for the chunk size limits and the memory an insert needs.
type chunkStats struct {
	Columns              int
	Rows, Bytes, Longest int64
}

// chunk is one chunk's finished rows for the table and, when merging,
// their keys for the key staging table.
type chunk struct{ data, keys rowChunk }

func (c chunk) remove() {
	c.data.remove()
	if c.keys != nil {
		c.keys.remove()
	}
}

// inserter inserts chunks into one table on the transaction's connection,
// in order, on its own goroutine. After its first error it only removes
// the chunks it is given.
type inserter struct {
	chunks chan chunk
	closed bool
	done   chan struct{}
	err    error // set before failed (or done) is closed
	failed chan struct{}
}

func (t *tx) startInserter(ctx context.Context, table string, keys *sqlgen.Keys) *inserter {
	in := &inserter{chunks: make(chan chunk), done: make(chan struct{}), failed: make(chan struct{})}
	var staging string
	if keys != nil {
		staging = t.d.sql.StagingTable(keys.Table)
	}
	chunks := in.chunks
	go func() {
		defer close(in.done)
		for c := range chunks {
			if in.err == nil {
				if err := t.insert(ctx, c.data, table); err != nil {
					in.err = err
				} else if c.keys != nil {
					if err := t.insert(ctx, c.keys, staging); err != nil {
						in.err = fmt.Errorf("keys: %w", err)
					}
				}
				if in.err != nil {
					close(in.failed)
				}
			}
			c.remove()
		}
	}()
	return in
}

// add finishes c's chunks and queues them; it waits while the chunk
// before is still being read, and fails once an insert failed.
func (in *inserter) add(c chunk) error {
	err := c.data.Finish()
	if err == nil && c.keys != nil {
		err = c.keys.Finish()
	}
	if err != nil {
		c.remove()
		return err
	}
	select {
	case in.chunks <- c:
		return nil
	case <-in.failed:
		// in.err was set before failed was closed.
		c.remove()
		return in.err
	}
}

// wait waits until every queued chunk is inserted and returns the first
// error.
func (in *inserter) wait() error {
	in.stop()
	return in.err
}

// stop ends the inserter after the chunks queued; it may be called again.
func (in *inserter) stop() {
	if !in.closed {
		close(in.chunks)
		in.closed = true
	}
	<-in.done
}

// insert has DuckDB read the finished chunk c into table.
func (t *tx) insert(ctx context.Context, c rowChunk, table string) error {
	st := c.stats()
	if err := t.raiseMemory(ctx, st); err != nil {
		return err
	}
	got, err := c.insert(ctx, t, table)
	if err != nil {
		return err
	}
	if got != st.Rows {
		return fmt.Errorf("DuckDB read %d of the %d rows written for it", got, st.Rows)
	}
	return nil
}

// Merge removes, for each primary key staged for root, every row but the
// one with the greatest _dlt_id, with its children, and drops root's key
// staging table; see destination.Tx and sqlgen.Staging.MergeDirect.
func (t *tx) Merge(ctx context.Context, root *schema.Table, children []*schema.Table) error {
	if err := t.check(); err != nil {
		return err
	}
	stmts, err := t.staging.Merge(root, children)
	if err != nil {
		return err
	}
	return t.run(ctx, stmts)
}

// Commit drops unmerged staging tables and commits. It fails, rolling back,
// when an earlier statement of the transaction failed.
func (t *tx) Commit(ctx context.Context) error {
	if err := t.check(); err != nil {
		return err
	}
	if t.failed != nil {
		t.Rollback(ctx)
		return t.d.sql.Errorf("", "commit", fmt.Errorf("transaction rolled back after an earlier error: %w", t.failed))
	}
	if err := t.run(ctx, t.staging.DropAll()); err != nil {
		t.Rollback(ctx)
		return err
	}
	_, err := t.conn.ExecContext(ctx, "COMMIT")
	t.done = true
	if err != nil {
		// A failed COMMIT leaves DuckDB's transaction aborted; make sure the
		// pooled connection goes back clean.
		t.conn.ExecContext(context.Background(), "ROLLBACK")
		t.restoreMemory()
		t.conn.Close()
		return t.d.sql.Errorf("", "commit", err)
	}
	t.restoreMemory()
	return t.d.closeConn(t.conn)
}

// Rollback abandons the transaction; after Commit or Rollback it does nothing.
func (t *tx) Rollback(ctx context.Context) error {
	if t.done {
		return nil
	}
	t.done = true
	_, err := t.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	t.restoreMemory()
	cerr := t.d.closeConn(t.conn)
	if err != nil {
		return t.d.sql.Errorf("", "rollback", err)
	}
	return cerr
}

func (d *DuckDB) closeConn(c *sql.Conn) error {
	if err := c.Close(); err != nil {
		return d.sql.Errorf("", "release connection", err)
	}
	return nil
}
