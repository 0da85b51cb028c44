package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
	// idUnique holds the tables this transaction created without their
	// _dlt_id UNIQUE constraint (sqlgen.ApplyIDUniqueLater): it is added
	// after the table's first COPY, or at the latest before COMMIT.
	idUnique map[string]bool
	done     bool
}

var (
	_ destination.Tx         = (*tx)(nil)
	_ destination.Serializer = (*tx)(nil)
)

// run runs stmts in order, stopping at the first that fails.
func (t *tx) run(ctx context.Context, stmts []sqlgen.Stmt) error {
	for _, s := range stmts {
		stop := t.p.watchLocks(ctx, t.tx.Conn().PgConn(), s.Table)
		_, err := t.tx.Exec(ctx, s.SQL)
		stop()
		if err != nil {
			return t.p.sql.Errorf(s.Table, s.Op, t.p.lockTimeoutError(s.Table, err))
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
	if err := t.p.sql.CheckNames(changes, checkTable, checkIdent); err != nil {
		return err
	}
	stmts, err := t.p.sql.ApplyIDUniqueLater(changes)
	if err != nil {
		return err
	}
	added := make(map[string]*schema.Table)
	for _, c := range changes {
		if c.Kind == schema.AddTable && c.Table != nil {
			added[c.Table.Name] = c.Table
		}
	}
	for _, s := range stmts {
		// A table that did not exist before and that this statement made
		// holds only this load's rows (sqlgen.Staging.Created) and gets
		// its _dlt_id constraint later; one that was there (made by an
		// earlier load, or by another load while this one waited) has it
		// already.
		var absent bool
		tb := added[s.Table]
		if tb != nil && s.Op == sqlgen.OpCreateTable {
			if err := t.tx.QueryRow(ctx, "SELECT to_regclass($1) IS NULL", t.p.sql.Table(s.Table)).Scan(&absent); err != nil {
				return t.p.sql.Errorf(s.Table, s.Op, err)
			}
		}
		created, err := t.create(ctx, s)
		if err != nil {
			return err
		}
		if absent && created {
			t.staging.Created(s.Table)
			if t.p.sql.HasIDUnique(tb) {
				if t.idUnique == nil {
					t.idUnique = make(map[string]bool)
				}
				t.idUnique[s.Table] = true
			}
		}
	}
	return nil
}

// create runs s, a CREATE ... IF NOT EXISTS or ADD COLUMN IF NOT EXISTS,
// in a savepoint. When another load's transaction created the same name
// and committed while s waited for it, PostgreSQL fails s on a duplicate
// key in its catalog (IF NOT EXISTS looked before the other committed):
// s is then rolled back to the savepoint and run again, and finds the
// name there.
// It reports whether s ran on its first attempt: when it did not, another
// load made the name.
func (t *tx) create(ctx context.Context, s sqlgen.Stmt) (first bool, err error) {
	for attempt := 0; ; attempt++ {
		if _, err := t.tx.Exec(ctx, "SAVEPOINT restload_create"); err != nil {
			return false, t.p.sql.Errorf(s.Table, s.Op, err)
		}
		err := t.run(ctx, []sqlgen.Stmt{s})
		var pe *pgconn.PgError
		if err != nil && attempt < 2 && errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
			if _, rerr := t.tx.Exec(ctx, "ROLLBACK TO SAVEPOINT restload_create"); rerr != nil {
				return false, t.p.sql.Errorf(s.Table, s.Op, rerr)
			}
			continue
		}
		if err != nil {
			return false, err
		}
		if _, err := t.tx.Exec(ctx, "RELEASE SAVEPOINT restload_create"); err != nil {
			return false, t.p.sql.Errorf(s.Table, s.Op, err)
		}
		return attempt == 0, nil
	}
}

// addIDUnique gives table name the _dlt_id UNIQUE constraint Apply left
// out, if it is still owed.
func (t *tx) addIDUnique(ctx context.Context, name string) error {
	if !t.idUnique[name] {
		return nil
	}
	delete(t.idUnique, name)
	return t.run(ctx, []sqlgen.Stmt{t.p.sql.AddIDUnique(name)})
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
	stop := t.p.watchLocks(ctx, t.tx.Conn().PgConn(), tb.Name)
	into := pgx.Identifier{t.p.dataset, tb.Name}
	if mode == destination.ModeStage && schema.StagesRows(tb) {
		into = pgx.Identifier{"pg_temp", tb.Name} // see sqlgen.Staging.Into
	}
	copied, err := t.tx.CopyFrom(ctx, into, conv.Names(), src)
	stop()
	if err != nil {
		err = t.p.lockTimeoutError(tb.Name, err)
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
	if into[0] == t.p.dataset {
		if err := t.addIDUnique(ctx, tb.Name); err != nil {
			return copied, err
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
	stmts, err := t.staging.Merge(root, children)
	if err != nil {
		return err
	}
	return t.run(ctx, stmts)
}

// Serialize takes a transaction-level advisory lock named after the
// dataset (see destination.Serializer), waiting for it as SetLockWait
// says; COMMIT or ROLLBACK releases it.
func (t *tx) Serialize(ctx context.Context) error {
	if t.done {
		return errDone
	}
	return t.p.lockDataset(ctx, t.tx)
}

// Commit commits; staging tables go with it (ON COMMIT DROP). After a
// failed statement PostgreSQL refuses the commit and the load rolls back.
func (t *tx) Commit(ctx context.Context) error {
	if t.done {
		return errDone
	}
	for _, name := range slices.Sorted(maps.Keys(t.idUnique)) {
		if err := t.addIDUnique(ctx, name); err != nil {
			return err
		}
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
