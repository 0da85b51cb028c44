package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

var (
	_ destination.LockWaiter = (*MySQL)(nil)
	_ destination.Preparer   = (*MySQL)(nil)
)

// SetLockWait sets how long a load waits for a lock another session holds
// (destination.LockWaiter): the dataset's named lock (Serialize, Prepare)
// is polled for that long, and a load's statements wait that long for
// table and row locks (lock_wait_timeout, innodb_lock_wait_timeout, in
// whole seconds).
func (m *MySQL) SetLockWait(lw destination.LockWait) { m.lw = lw }

// lockName is the dataset's named lock (GET_LOCK), hashed from its name:
// MySQL limits lock names to 64 characters.
func (m *MySQL) lockName() string {
	h := fnv.New64a()
	h.Write([]byte("restload dataset " + m.dataset))
	return fmt.Sprintf("restload:%016x", h.Sum64())
}

func (m *MySQL) datasetLock() string {
	return fmt.Sprintf("the named lock of MySQL dataset %q (another load of it is committing or creating it)", m.dataset)
}

// lockDataset takes the dataset's named lock on conn's session, polling
// GET_LOCK as m.lw says; after a few seconds the wait is logged with the
// connection holding the lock, and when it ends the error names the lock,
// that connection and the setting to change.
func (m *MySQL) lockDataset(ctx context.Context, conn *sql.Conn) error {
	name := m.lockName()
	try := func(ctx context.Context) (bool, error) {
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", name).Scan(&got); err != nil {
			return false, err
		}
		return got.Valid && got.Int64 == 1, nil
	}
	holder := func(ctx context.Context) string {
		var id sql.NullInt64
		if err := m.db.QueryRowContext(context.WithoutCancel(ctx), "SELECT IS_USED_LOCK(?)", name).Scan(&id); err != nil || !id.Valid {
			return ""
		}
		return "MySQL connection id " + strconv.FormatInt(id.Int64, 10)
	}
	if err := m.lw.Wait(ctx, m.datasetLock(), try, holder); err != nil {
		return m.sql.Errorf("", "lock dataset", err)
	}
	return nil
}

// lockTimeoutError turns MySQL's lock wait timeout into a
// destination.LockTimeoutError naming what waited; other errors pass.
func (m *MySQL) lockTimeoutError(table string, err error) error {
	if errNumber(err) != errLockWaitTimeout {
		return err
	}
	what := fmt.Sprintf("a lock on dataset %q", m.dataset)
	if table != "" {
		what = fmt.Sprintf("a lock on table %q.%q", m.dataset, table)
	}
	return fmt.Errorf("%w (%v)", &destination.LockTimeoutError{Lock: what, Timeout: m.lw.TimeoutOrDefault()}, err)
}

// Prepare creates the dataset's database and those of tables that do not
// exist yet, under the dataset's lock, committed at once
// (destination.Preparer).
func (m *MySQL) Prepare(ctx context.Context, tables []*schema.Table) error {
	changes := make([]schema.Change, len(tables))
	for i, tb := range tables {
		if err := checkTable(tb); err != nil {
			return m.sql.Errorf("", "prepare", err)
		}
		changes[i] = schema.Change{Kind: schema.AddTable, Table: tb}
	}
	t, err := m.Begin(ctx)
	if err != nil {
		return err
	}
	defer t.Rollback(ctx)
	if err := t.Apply(ctx, changes); err != nil {
		return err
	}
	return t.Commit(ctx)
}
