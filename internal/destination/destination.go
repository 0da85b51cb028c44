// Package destination defines what a place restload loads into must do, and
// opens one from a URL (duckdb:PATH, postgres://..., parquet:DIR, jsonl:DIR,
// parquet:s3://bucket/prefix and the other object storage URLs).
//
// A destination is small on purpose: it applies schema changes, writes rows
// of one table, merges staged rows, and reads tables back. Load packages,
// state, schema versions and the loads table are built on top of that by
// package load, so a new warehouse only needs these methods.
package destination

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/restload/restload/internal/schema"
)

// Destination is an opened destination bound to one dataset (a database
// schema, or a folder for files). Methods are safe to call from one goroutine
// at a time; a Destination has at most one open transaction.
type Destination interface {
	// Begin starts a transaction. Everything written through it becomes
	// visible together at Commit, or not at all.
	Begin(ctx context.Context) (Tx, error)
	// Read calls fn for each row of table, columns in the table's stored
	// order, in a repeatable order (by _dlt_id when the table has it). It
	// may run while a transaction is open and sees only committed rows:
	// never a load's rows before its Commit, nor a replaced table empty.
	// Values are read back as nil, int64, float64, bool, string (text,
	// decimal and JSON) or time.Time. It returns an error wrapping
	// ErrNoTable when the table is absent.
	Read(ctx context.Context, table string, fn func(row map[string]any) error) error
	// Close releases the destination.
	Close() error
}

// Capabilities is implemented by a destination that cannot do everything
// Tx promises. Callers find it by type assertion; a destination without it
// can do everything. The pipeline checks it before extracting, so a resource
// the destination cannot load fails before any API call, not at load time.
type Capabilities interface {
	// CanMerge reports whether Tx.Merge works. When false, Merge returns an
	// error wrapping ErrUnsupported.
	CanMerge() bool
}

// CanMerge reports whether d supports merge (see Capabilities).
func CanMerge(d Destination) bool {
	c, ok := d.(Capabilities)
	return !ok || c.CanMerge()
}

// MergeStrategist is implemented by a destination whose Merge does every
// merge strategy (insert-only and scd2 besides delete-insert and upsert)
// and honours the hard_delete and dedup_sort hints, as the root table's
// schema.MergeSpec says. A destination without it merges by delete-insert
// only; the pipeline refuses to run anything else into it.
type MergeStrategist interface {
	MergeStrategies() bool
}

// CanMergeWith reports whether d can merge as m says: any way when d is a
// MergeStrategist, else only delete-insert or upsert without hints.
func CanMergeWith(d Destination, m *schema.MergeSpec) bool {
	if ms, ok := d.(MergeStrategist); ok && ms.MergeStrategies() {
		return true
	}
	return m == nil || (m.Strategy == schema.DeleteInsert || m.Strategy == schema.Upsert || m.Strategy == "") && m.HardDelete == "" && m.DedupSort == ""
}

// Counter is implemented by a destination that can count a table's
// committed rows without reading them (SQL databases: count(*)). Like Read,
// Count returns an error wrapping ErrNoTable for a table that is absent.
type Counter interface {
	Count(ctx context.Context, table string) (int64, error)
}

// Count returns how many committed rows table has: through Counter when d
// has it, else by reading the table.
func Count(ctx context.Context, d Destination, table string) (int64, error) {
	if c, ok := d.(Counter); ok {
		return c.Count(ctx, table)
	}
	var n int64
	err := d.Read(ctx, table, func(map[string]any) error { n++; return nil })
	return n, err
}

// Tx is one load's transaction.
type Tx interface {
	// Apply creates tables and adds columns. It creates the dataset itself
	// when it does not exist yet.
	Apply(ctx context.Context, changes []schema.Change) error
	// Write loads rows into t (whose Columns give the order of each row's
	// values) and returns how many rows it wrote. Mode says how.
	Write(ctx context.Context, t *schema.Table, mode Mode, rows RowSource) (int64, error)
	// Merge folds the rows staged (ModeStage) for root and its child tables
	// into the targets: for each primary key of root, the staged row with the
	// greatest _dlt_id wins and replaces the target's row and its children.
	// A MergeStrategist merges as root.Merge says instead (insert-only,
	// scd2, hard_delete, dedup_sort; see schema.MergeSpec).
	Merge(ctx context.Context, root *schema.Table, children []*schema.Table) error
	Commit(ctx context.Context) error
	// Rollback abandons the transaction; it is safe after Commit.
	Rollback(ctx context.Context) error
}

// ParallelWriter is a Tx whose Write may run for different tables at the
// same time (a file destination: each table is its own file). The loader
// then writes a resource's tables at once.
type ParallelWriter interface {
	ParallelWrites() bool
}

// Serializer is a Tx of a destination that several machines may load into
// at once (a database server). Serialize waits until no other load of the
// dataset holds it, and holds it until this transaction ends: a load then
// writes its bookkeeping (schema version, state) from what the loads
// before it committed.
type Serializer interface {
	Serialize(ctx context.Context) error
}

// Mode is how Write puts rows into a table.
type Mode int

// The write modes.
const (
	// ModeAppend inserts the rows.
	ModeAppend Mode = iota
	// ModeReplace removes the table's rows, then inserts these; readers see
	// the old rows or the new ones, never an empty table.
	ModeReplace
	// ModeStage writes the rows for a Merge that follows; until then they
	// may sit in the table itself (DuckDB and PostgreSQL put them there
	// and stage only their keys), so a load must Merge what it staged.
	ModeStage
)

// RowSource yields rows one at a time. Next returns false at the end or on
// error; Err reports the error. Values are nil, int64, float64, bool, string,
// time.Time, or for JSON columns a string holding JSON; Write checks each
// against its column with ConverterFor's rules and fails on the first that
// does not fit, naming its row and column.
type RowSource interface {
	Next() bool
	Values() []any
	Err() error
}

// ErrNoTable is returned by Read for a table that does not exist.
var ErrNoTable = errors.New("table does not exist")

// ErrBadURL marks a destination URL that names no destination restload
// has: it is the user's invocation that must change.
var ErrBadURL = errors.New("not a destination URL")

// ErrUnsupported marks an operation a destination cannot do (merge into
// files, say).
var ErrUnsupported = errors.New("not supported by this destination")

// Opener opens a destination from the part of the URL after the scheme, for
// dataset.
type Opener func(ctx context.Context, url, dataset string) (Destination, error)

var (
	mu      sync.Mutex
	openers = map[string]Opener{}
)

// Register makes a destination scheme available to Open. Destination
// packages call it from init.
func Register(scheme string, open Opener) {
	mu.Lock()
	defer mu.Unlock()
	openers[scheme] = open
}

// Open opens the destination named by url for dataset. The scheme is the
// part before the first ':' (postgres and postgresql URLs are passed whole).
func Open(ctx context.Context, url, dataset string) (Destination, error) {
	scheme, _, ok := strings.Cut(url, ":")
	if !ok {
		return nil, fmt.Errorf("destination %q: %w: want scheme:location, such as duckdb:./data.duckdb", Redact(url), ErrBadURL)
	}
	mu.Lock()
	open := openers[scheme]
	mu.Unlock()
	if open == nil {
		return nil, fmt.Errorf("destination %q: %w: unknown scheme %q (known: %s)", Redact(url), ErrBadURL, scheme, strings.Join(Schemes(), ", "))
	}
	return open(ctx, url, dataset)
}

// Schemes lists the registered schemes.
func Schemes() []string {
	mu.Lock()
	defer mu.Unlock()
	var s []string
	for k := range openers {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// Redact hides a password in a destination URL.
func Redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return url
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return url
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
