// Package destinationtest is the conformance suite every destination runs,
// plus helpers for tests that need a real database (PostgresURL, Dataset).
//
// A destination package calls Run from its own test with a function that
// opens a fresh Destination for a dataset, and Caps saying what it cannot do.
// The suite only goes through the destination.Destination interface, so a
// pass means the loader can rely on the destination's contract.
package destinationtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
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
	url := os.Getenv("RESTLOAD_TEST_POSTGRES")
	from := "$RESTLOAD_TEST_POSTGRES"
	if url == "" {
		url, from = DefaultPostgresURL, "the default URL"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		msg := fmt.Sprintf("postgres unreachable at %s (%s): %v", destination.Redact(url), from, err)
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s; CI=true requires PostgreSQL: start it before the tests", msg)
		}
		tb.Skipf("%s; to run this test start PostgreSQL on 127.0.0.1:5432 (trust auth, database test) or set RESTLOAD_TEST_POSTGRES", msg)
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
