// Package destinationtest is the conformance suite every destination runs,
// plus helpers for tests that need a real database (PostgresURL, Dataset).
//
// A destination package calls Run from its own test with a function that
// opens a fresh Destination for a dataset, and Caps saying what it cannot do.
// The suite only goes through the destination.Destination interface, so a
// pass means the loader can rely on the destination's contract.
package destinationtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// DefaultPostgresURL is the server PostgresURL tries when
// RESTLOAD_TEST_POSTGRES is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL returns the connection URL of the PostgreSQL server tests load
// into: $RESTLOAD_TEST_POSTGRES, or DefaultPostgresURL. It connects once to
// check; when the server is unreachable it skips the test, or fails it when
// CI=true (CI must provide the server).
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	return serverURL(tb, "RESTLOAD_TEST_POSTGRES", DefaultPostgresURL, "postgres",
		"start PostgreSQL on 127.0.0.1:5432 (trust auth, database test)", func(ctx context.Context, url string) error {
			conn, err := pgx.Connect(ctx, url)
			if err == nil {
				err = conn.Ping(ctx)
				conn.Close(ctx)
			}
			return err
		})
}

// serverURL returns $env, or def, once ping reaches the server there;
// when it does not it skips tb saying how to run it (start), or fails it
// when CI=true.
func serverURL(tb testing.TB, env, def, name, start string, ping func(ctx context.Context, url string) error) string {
	tb.Helper()
	url := os.Getenv(env)
	from := "$" + env
	if url == "" {
		url, from = def, "the default URL"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ping(ctx, url); err != nil {
		msg := fmt.Sprintf("%s unreachable at %s (%s): %v", name, destination.Redact(url), from, err)
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s; CI=true requires the server: start it before the tests", msg)
		}
		tb.Skipf("%s; to run this test %s or set %s", msg, start, env)
	}
	return url
}

var nonIdent = regexp.MustCompile(`[^a-z0-9]+`)

// Dataset returns a dataset name unique to this test run, derived from the
// test's name: lowercase letters, digits and underscores, at most 40 bytes.
func Dataset(tb testing.TB) string {
	tb.Helper()
	name := tb.Name()
	name = name[strings.LastIndex(name, "/")+1:] // the subtest's own name
	base := strings.Trim(nonIdent.ReplaceAllString(strings.ToLower(name), "_"), "_")
	if len(base) > 24 {
		base = base[:24]
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatalf("random dataset suffix: %v", err)
	}
	return "rl_" + strings.Trim(base, "_") + "_" + hex.EncodeToString(b[:])
}

// Rows is a RowSource over rows held in memory.
type Rows struct {
	rows [][]any
	i    int
	// Fail, when set, is returned by Err after the rows run out, to test
	// that a destination surfaces a failing source.
	Fail error
}

// NewRows returns a RowSource yielding rows in order.
func NewRows(rows ...[]any) *Rows { return &Rows{rows: rows} }

// Next advances to the next row.
func (r *Rows) Next() bool {
	if r.i >= len(r.rows) {
		return false
	}
	r.i++
	return true
}

// Values returns the current row.
func (r *Rows) Values() []any { return r.rows[r.i-1] }

// Err returns Fail.
func (r *Rows) Err() error { return r.Fail }

var _ destination.RowSource = (*Rows)(nil)

// CommitRows loads rows into tb in one transaction of d: it applies
// changes, writes the rows with mode (merging them when mode is ModeStage,
// tb being a root table without children) and commits, failing the test
// on any error or when Write reports another number of rows.
func CommitRows(t testing.TB, d destination.Destination, tb *schema.Table, changes []schema.Change, mode destination.Mode, rows ...[]any) {
	t.Helper()
	ctx := context.Background()
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := tx.Apply(ctx, changes); err != nil {
		t.Fatal(err)
	}
	if n, err := tx.Write(ctx, tb, mode, NewRows(rows...)); err != nil {
		t.Fatal(err)
	} else if n != int64(len(rows)) {
		t.Fatalf("Write wrote %d rows, want %d", n, len(rows))
	}
	if mode == destination.ModeStage {
		if err := tx.Merge(ctx, tb, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// DropOnCleanup drops dataset's schema from the PostgreSQL server at url
// when the test ends, so test runs leave no datasets behind.
func DropOnCleanup(t testing.TB, url, dataset string) {
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop dataset %s: %v", dataset, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{dataset}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop dataset %s: %v", dataset, err)
		}
	})
}

// BeginWaiting sets d to wait timeout for locks, logging into the buffer
// it returns, and begins a load; the context returned ends after 30 s, so
// a wait that is not bounded fails the test instead of hanging it.
func BeginWaiting(t *testing.T, d destination.Destination, timeout time.Duration) (destination.Tx, context.Context, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	destination.SetLockWait(d, destination.LockWait{Timeout: timeout, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	tx, err := d.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return tx, ctx, &logs
}

// ReadCounter is a Destination that counts the reads of each table of the
// destination it wraps. Counter (count(*)) goes through to it, so counting
// a table is not a read. Safe for concurrent use.
type ReadCounter struct {
	destination.Destination
	mu    sync.Mutex
	reads map[string]int
}

// Read counts a read of table and reads it.
func (r *ReadCounter) Read(ctx context.Context, table string, fn func(map[string]any) error) error {
	r.mu.Lock()
	if r.reads == nil {
		r.reads = map[string]int{}
	}
	r.reads[table]++
	r.mu.Unlock()
	return r.Destination.Read(ctx, table, fn)
}

// Count counts table's rows as the wrapped destination does.
func (r *ReadCounter) Count(ctx context.Context, table string) (int64, error) {
	return destination.Count(ctx, r.Destination, table)
}

// Reads returns how many times table was read.
func (r *ReadCounter) Reads(table string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reads[table]
}
