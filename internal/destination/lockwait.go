package destination

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/restload/restload/internal/schema"
)

// DefaultLockTimeout is how long a load waits for a lock another session
// holds on its dataset (another load committing, a session holding a table
// lock, another process writing a DuckDB file) before it fails.
const DefaultLockTimeout = 10 * time.Minute

// LockNoticeAfter is how long a wait for a lock lasts before it is
// logged.
const LockNoticeAfter = 3 * time.Second

// LockWait says how a destination waits for a lock held by someone else:
// for at most Timeout (0 means DefaultLockTimeout), logging to Log (nil
// logs nothing) what it waits for once the wait passed a few seconds.
type LockWait struct {
	Timeout time.Duration
	Log     *slog.Logger
}

// LockWaiter is implemented by a destination that waits for locks; the
// pipeline sets its LockWait right after Open.
type LockWaiter interface {
	SetLockWait(LockWait)
}

// SetLockWait sets d's LockWait when d waits for locks (LockWaiter).
func SetLockWait(d Destination, lw LockWait) {
	if w, ok := d.(LockWaiter); ok {
		w.SetLockWait(lw)
	}
}

// TimeoutOrDefault is Timeout, or DefaultLockTimeout when it is 0.
func (lw LockWait) TimeoutOrDefault() time.Duration {
	if lw.Timeout <= 0 {
		return DefaultLockTimeout
	}
	return lw.Timeout
}

// LockTimeoutError is the error of a lock wait that ran out.
type LockTimeoutError struct {
	Lock    string        // what was waited for: "the advisory lock of dataset x", ...
	Holder  string        // who holds it, when known: "PostgreSQL backend pid 123"
	Timeout time.Duration // how long it was waited for
}

func (e *LockTimeoutError) Error() string {
	held := ""
	if e.Holder != "" {
		held = " (held by " + e.Holder + ")"
	}
	return fmt.Sprintf("gave up after %s waiting for %s%s: another session holds it; wait until it is done, or wait longer with --lock-timeout (default %s)",
		e.Timeout, e.Lock, held, DefaultLockTimeout)
}

// Wait polls try until it takes the lock, ctx ends, or the timeout passes
// (a *LockTimeoutError). After a few seconds it logs what it waits for,
// once, with holder's answer (holder may be nil, or answer ""). try must
// not block: it reports whether it took the lock.
func (lw LockWait) Wait(ctx context.Context, lock string, try func(context.Context) (bool, error), holder func(context.Context) string) error {
	timeout := lw.TimeoutOrDefault()
	start := time.Now()
	notice := start.Add(LockNoticeAfter)
	delay := 10 * time.Millisecond
	logged := false
	who := func() string {
		if holder == nil {
			return ""
		}
		return holder(ctx)
	}
	for {
		ok, err := try(ctx)
		if err != nil || ok {
			return err
		}
		now := time.Now()
		if now.Sub(start) >= timeout {
			return &LockTimeoutError{Lock: lock, Holder: who(), Timeout: timeout}
		}
		if !logged && !now.Before(notice) && lw.Log != nil {
			logged = true
			args := []any{"lock", lock, "timeout", timeout.String()}
			if h := who(); h != "" {
				args = append(args, "held_by", h)
			}
			lw.Log.Warn("waiting for a lock another session holds", args...)
		}
		t := time.NewTimer(min(delay, max(time.Until(start.Add(timeout)), time.Millisecond)))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, 500*time.Millisecond)
	}
}

// Preparer is implemented by a destination where loads that start at the
// same time would conflict creating the dataset and its bookkeeping
// tables in their own transactions (a database server). Prepare creates
// those of tables that do not exist yet, with the dataset, and commits at
// once, outside any load's transaction; it is idempotent.
type Preparer interface {
	Prepare(ctx context.Context, tables []*schema.Table) error
}
