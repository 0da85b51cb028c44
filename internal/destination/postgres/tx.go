package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/sqlgen"
	"github.com/restload/restload/internal/schema"
)

// tx is one load: a pgx transaction on one pooled connection. After a
// failed statement PostgreSQL refuses every other, and the commit.
type tx struct {
	p       *Postgres
	tx      pgx.Tx
	staging *sqlgen.Staging // staging tables made in this transaction
	done    bool
}

var (
	_ destination.Tx         = (*tx)(nil)
	_ destination.Serializer = (*tx)(nil)
)

// run runs stmts in order, stopping at the first that fails.
func (t *tx) run(ctx context.Context, stmts []sqlgen.Stmt) error {
	for _, s := range stmts {
		if _, err := t.tx.Exec(ctx, s.SQL); err != nil {
			return t.p.sql.Errorf(s.Table, s.Op, err)
		}
	}
	return nil
}

// Apply creates the dataset's schema, then each table or column in changes.
// It is idempotent: existing tables and columns are left alone.
func (t *tx) Apply(ctx context.Context, changes []schema.Change) error {
	if t.done {
		return errDone
	}
	for _, c := range changes {
		if c.Table == nil {
			break // sqlgen.Dataset.Apply reports it
		}
		if err := checkTable(c.Table); err != nil {
			return t.p.sql.Errorf("", "apply", err)
		}
		if c.Column != nil {
			if err := checkIdent("column", c.Column.Name); err != nil {
				return t.p.sql.Errorf(c.Table.Name, "apply", err)
			}
		}
	}
	stmts, err := t.p.sql.Apply(changes)
	if err != nil {
		return err
	}
	return t.run(ctx, stmts)
}

// Write copies rows into the table (ModeAppend), replaces its rows
// (ModeReplace: DELETE, not TRUNCATE, so readers keep seeing the old rows
// until Commit), or stages them for Merge (ModeStage). Staged rows are
// copied straight into the table too; a root table's primary key and
// _dlt_id also go to a narrow staging table, through a temporary file
// (one connection runs one COPY at a time), and Merge removes the rows
// that lost (sqlgen.Staging.MergeDirect). Every row is written once.
func (t *tx) Write(ctx context.Context, tb *schema.Table, mode destination.Mode, rows destination.RowSource) (int64, error) {
	if t.done {
		return 0, errDone
	}
	if err := checkTable(tb); err != nil {
		return 0, t.p.sql.Errorf("", "write", err)
	}
	stmts, staged, err := t.staging.PrepareWrite(tb, mode)
	if err != nil {
		return 0, err
	}
	if err := t.run(ctx, stmts); err != nil {
		return 0, err
	}
	var keys *keyFile
	if staged != nil {
		if keys, err = newKeyFile(staged); err != nil {
			return 0, t.p.sql.Errorf(tb.Name, "stage", err)
		}
		defer keys.remove()
	}
	conv, err := destination.NewRowConverter(tb.Columns, converterFor)
	if err != nil {
		return 0, t.p.sql.Errorf(tb.Name, "write", err)
	}
	var srcErr error
	out := make([]any, len(tb.Columns)) // pgx encodes a row before asking for the next
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				srcErr = fmt.Errorf("reading rows: %w", err)
				return nil, srcErr
			}
			return nil, nil
		}
		if err := conv.Convert(rows.Values(), out); err != nil {
			srcErr = err
			return nil, srcErr
		}
		if keys != nil {
			if err := keys.add(out); err != nil {
				srcErr = err
				return nil, srcErr
			}
		}
		return out, nil
	})
	copied, err := t.tx.CopyFrom(ctx, pgx.Identifier{t.p.dataset, tb.Name}, conv.Names(), src)
	if err != nil {
		if srcErr != nil {
			err = srcErr
		}
		return copied, t.p.sql.Errorf(tb.Name, "write", err)
	}
	if keys != nil {
		if err := keys.copy(ctx, t.tx.Conn().PgConn()); err != nil {
			return copied, t.p.sql.Errorf(tb.Name, "stage keys", err)
		}
	}
	return copied, nil
}

// Merge removes, for each primary key staged for root, every row but the
// one with the greatest _dlt_id, with its children, and drops root's key
// staging table; see destination.Tx and sqlgen.Staging.MergeDirect.
// _dlt_id values compare byte-wise (COLLATE "C"), as in every other
// destination.
func (t *tx) Merge(ctx context.Context, root *schema.Table, children []*schema.Table) error {
	if t.done {
		return errDone
	}
	stmts, err := t.staging.MergeDirect(root, children)
	if err != nil {
		return err
	}
	return t.run(ctx, stmts)
}

// Serialize takes a transaction-level advisory lock named after the
// dataset (see destination.Serializer); COMMIT or ROLLBACK releases it.
func (t *tx) Serialize(ctx context.Context) error {
	if t.done {
		return errDone
	}
	h := fnv.New64a()
	h.Write([]byte("restload dataset " + t.p.dataset))
	if _, err := t.tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(h.Sum64())); err != nil {
		return t.p.sql.Errorf("", "lock dataset", err)
	}
	return nil
}

// Commit commits; staging tables go with it (ON COMMIT DROP). After a
// failed statement PostgreSQL refuses the commit and the load rolls back.
func (t *tx) Commit(ctx context.Context) error {
	if t.done {
		return errDone
	}
	t.done = true
	if err := t.tx.Commit(ctx); err != nil {
		return t.p.sql.Errorf("", "commit", err)
	}
	return nil
}

// Rollback abandons the transaction; after Commit or Rollback it does nothing.
func (t *tx) Rollback(ctx context.Context) error {
	if t.done {
		return nil
	}
	t.done = true
	if err := t.tx.Rollback(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return t.p.sql.Errorf("", "rollback", err)
	}
	return nil
}
