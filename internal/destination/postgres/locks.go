package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

var (
	_ destination.LockWaiter = (*Postgres)(nil)
	_ destination.Preparer   = (*Postgres)(nil)
)

// SetLockWait sets how long a load waits for a lock another session holds
// (destination.LockWaiter): the dataset's advisory lock (Serialize,
// Prepare) is polled for that long, and every statement of a load runs
// with lock_timeout set to it.
func (p *Postgres) SetLockWait(lw destination.LockWait) { p.lw = lw }

// lockKey is the dataset's advisory lock (a 64-bit key hashed from its
// name): loads take it to commit (Serialize) and to create the dataset
// (Prepare).
func (p *Postgres) lockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("restload dataset " + p.dataset))
	return int64(h.Sum64())
}

// lockDataset takes the dataset's advisory lock in tx. PostgreSQL queues
// the waiters (first come, first served), and the transaction's
// lock_timeout (setLockTimeout) bounds the wait: after a few seconds the
// wait is logged with the pid holding the lock, and when it ends the
// error names the lock, that pid and the setting to change.
func (p *Postgres) lockDataset(ctx context.Context, tx pgx.Tx) error {
	key := p.lockKey()
	stop := p.watchLocks(ctx, tx.Conn().PgConn(), "")
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", key)
	stop()
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "55P03" { // lock_not_available
		err = &destination.LockTimeoutError{Lock: p.datasetLock(), Holder: p.advisoryHolder(ctx, key), Timeout: p.lw.TimeoutOrDefault()}
	}
	return p.sql.Errorf("", "lock dataset", err)
}

func (p *Postgres) datasetLock() string {
	return fmt.Sprintf("the advisory lock of PostgreSQL dataset %q (another load of it is committing or creating it)", p.dataset)
}

// advisoryHolder names the backends holding the advisory lock key, or
// returns "" when pg_locks does not say.
func (p *Postgres) advisoryHolder(ctx context.Context, key int64) string {
	// An advisory lock on a bigint key is (classid, objid) = its high and
	// low 32 bits, objsubid 1.
	rows, err := p.pool.Query(context.WithoutCancel(ctx), `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND classid = $1 AND objid = $2 AND objsubid = 1`, uint32(uint64(key)>>32), uint32(uint64(key)))
	if err != nil {
		return ""
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || len(pids) == 0 {
		return ""
	}
	return "PostgreSQL backend pid " + joinPids(pids)
}

func joinPids(pids []int32) string {
	s := make([]string, len(pids))
	for i, pid := range pids {
		s[i] = strconv.Itoa(int(pid))
	}
	return strings.Join(s, ", ")
}

// setLockTimeout sets lock_timeout for the rest of tx: a statement that
// waits longer for a table lock fails (see lockTimeoutError).
func (p *Postgres) setLockTimeout(ctx context.Context, tx pgx.Tx) error {
	ms := p.lw.TimeoutOrDefault().Milliseconds()
	_, err := tx.Exec(ctx, "SET LOCAL lock_timeout = "+strconv.FormatInt(max(ms, 1), 10))
	return err
}

// lockTimeoutError turns PostgreSQL's lock_timeout error into a
// destination.LockTimeoutError naming what waited; other errors pass.
func (p *Postgres) lockTimeoutError(table string, err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "55P03" { // lock_not_available
		return err
	}
	what := fmt.Sprintf("a lock on dataset %q", p.dataset)
	if table != "" {
		what = fmt.Sprintf("a lock on table %q.%q", p.dataset, table)
	}
	return fmt.Errorf("%w (%s)", &destination.LockTimeoutError{Lock: what, Timeout: p.lw.TimeoutOrDefault()}, pe.Message)
}

// watchLocks logs, once, when the statement running on conn waits for a
// lock (checked every few seconds while it runs), the pids of the
// sessions it waits for; table "" means the dataset's advisory lock. Call the returned func when the statement ends.
func (p *Postgres) watchLocks(ctx context.Context, conn *pgconn.PgConn, table string) (stop func()) {
	lw := p.lw
	if lw.Log == nil {
		return func() {}
	}
	pid := conn.PID()
	wctx, cancel := context.WithCancel(ctx)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(destination.LockNoticeAfter)
		defer t.Stop()
		var pids []int32
		for len(pids) == 0 {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
			}
			if err := p.pool.QueryRow(wctx, "SELECT pg_blocking_pids($1)", int32(pid)).Scan(&pids); err != nil {
				return
			}
		}
		what := p.datasetLock()
		if table != "" {
			what = fmt.Sprintf("a lock on table %q.%q", p.dataset, table)
		}
		lw.Log.Warn("waiting for a lock another session holds", "lock", what, "held_by", "PostgreSQL backend pid "+joinPids(pids),
			"timeout", lw.TimeoutOrDefault().String())
	}()
	// The watcher is done when stop returns: nothing is logged after the
	// statement ended.
	return func() {
		cancel()
		<-finished
	}
}

// Prepare creates the dataset's schema and tables that do not exist yet,
// in a transaction of their own that commits at once, under the dataset's
// advisory lock (destination.Preparer). Loads that start together into a
// new dataset would otherwise each create them in their own transaction,
// and all but one fail on a duplicate key in PostgreSQL's catalog
// (pg_namespace, pg_type) when the first commits.
func (p *Postgres) Prepare(ctx context.Context, tables []*schema.Table) error {
	changes := make([]schema.Change, len(tables))
	for i, tb := range tables {
		if err := checkTable(tb); err != nil {
			return p.sql.Errorf("", "prepare", err)
		}
		changes[i] = schema.Change{Kind: schema.AddTable, Table: tb}
	}
	stmts, err := p.sql.Apply(changes)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if err := p.setLockTimeout(ctx, tx); err != nil {
			return p.sql.Errorf("", "prepare", err)
		}
		if err := p.lockDataset(ctx, tx); err != nil {
			return err
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s.SQL); err != nil {
				return p.sql.Errorf(s.Table, s.Op, p.lockTimeoutError(s.Table, err))
			}
		}
		return nil
	})
}
