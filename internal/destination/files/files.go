// Package files is the file destination: parquet:DIR and jsonl:DIR write
// one folder per table under DIR/<dataset>/<table>/, one file per Write.
// parquet:s3://bucket/prefix (and gs://, azblob://, file://) write the same
// formats into object storage: see Objects. What follows is about DIR.
//
// DIR/<dataset>/_manifest.json is the commit record: it lists every table,
// its columns and its data files. Read follows the manifest and nothing
// else. A Write goes to a hidden temporary file; Commit renames the load's
// files to their final names, then replaces the manifest in one rename. So
// a load is all or nothing for readers: before the rename they see the old
// dataset, after it the new one. A replaced table's old files are removed
// only after the new manifest is in place, so readers never see it empty.
// Files a crashed commit left behind are not in the manifest, are ignored by
// Read and are removed by the next commit. Tools that glob the folders
// directly (read_parquet('DIR/ds/t/*.parquet')) see the same data except
// during the few renames of a commit.
//
// Each table folder also holds _table.json (the table's columns and types),
// rewritten after each commit that changes it, for people and other tools.
//
// One load at a time may write to a dataset. Merge is not supported
// (destination.ErrUnsupported, and CanMerge reports false): files cannot
// update rows in place; the loader appends a merge resource's rows instead,
// as dlt's filesystem destination does. Decimals are stored as strings, timestamps as
// microseconds since the epoch in UTC, JSON as JSON text (parquet) or
// embedded JSON (jsonl).
package files

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// Format is a file format: parquet or jsonl.
type Format string

// The supported formats, which are also the URL schemes.
const (
	Parquet Format = "parquet"
	JSONL   Format = "jsonl"
)

func init() {
	for _, f := range []Format{Parquet, JSONL} {
		destination.Register(string(f), func(ctx context.Context, url, dataset string) (destination.Destination, error) {
			loc := strings.TrimPrefix(url, string(f)+":")
			if isObjectURL(loc) {
				return OpenObjects(ctx, f, loc, dataset)
			}
			return Open(ctx, f, loc, dataset)
		})
	}
}

const tableFile = "_table.json"

// Files is a folder of tables for one dataset.
type Files struct {
	format Format
	dir    string // DIR/<dataset>
	name   string // "parquet DIR", for errors
	codec  codec
	lw     destination.LockWait // see SetLockWait
}

var (
	_ destination.Destination  = (*Files)(nil)
	_ destination.Capabilities = (*Files)(nil)
)

// Open opens dir for dataset in format. Folders are created by the first
// Commit that has something to write.
func Open(_ context.Context, format Format, dir, dataset string) (*Files, error) {
	name := string(format) + " " + dir
	c, err := newCodec(format)
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w", name, err)
	}
	if dir == "" {
		return nil, fmt.Errorf("%s: open: empty directory (want %s:DIR)", name, format)
	}
	if err := checkName(dataset); err != nil {
		return nil, fmt.Errorf("%s: open: dataset: %w", name, err)
	}
	return &Files{format: format, dir: filepath.Join(dir, dataset), name: name, codec: c}, nil
}

func newCodec(format Format) (codec, error) {
	switch format {
	case Parquet:
		return parquetCodec{}, nil
	case JSONL:
		return jsonlCodec{}, nil
	}
	return nil, fmt.Errorf("unknown file format %q", format)
}

// checkName refuses names that would escape or hide in the folder tree.
func checkName(n string) error {
	if n == "" || n == "." || n == ".." || strings.HasPrefix(n, ".") || strings.ContainsAny(n, `/\`+"\x00") {
		return fmt.Errorf("%q is not usable as a folder name", n)
	}
	return nil
}

// CanMerge reports false: files cannot update rows in place.
func (f *Files) CanMerge() bool { return false }

// Close does nothing: files hold no open resources between calls.
func (f *Files) Close() error { return nil }

func (f *Files) errorf(table, op string, err error) error {
	if table == "" {
		return fmt.Errorf("%s: dataset folder %s: %s: %w", f.name, f.dir, op, err)
	}
	return fmt.Errorf("%s: table %s: %s: %w", f.name, filepath.Join(f.dir, table), op, err)
}

// Begin starts a load; nothing is visible until Commit.
func (f *Files) Begin(context.Context) (destination.Tx, error) {
	return &tx{f: f, pendingTables: pendingTables{tables: map[string]*pending{}}}, nil
}

// loadTable returns a committed table's definition and data files (full
// paths, load order); ErrNoTable when absent.
func (f *Files) loadTable(table string) (*schema.Table, []string, error) {
	if err := checkName(table); err != nil {
		return nil, nil, err
	}
	m, err := f.readManifest()
	if err != nil {
		return nil, nil, err
	}
	e := m.Tables[table]
	if e == nil {
		return nil, nil, destination.ErrNoTable
	}
	paths := make([]string, len(e.Files))
	for i, n := range e.Files {
		paths[i] = filepath.Join(f.dir, table, n)
	}
	return e.Table, paths, nil
}

// DataFiles lists the dataset's committed tables with their data files
// (full paths, in load order) and columns, for tools that read the files
// directly; a table with no rows has no files.
func (f *Files) DataFiles() (map[string][]string, map[string]*schema.Table, error) {
	m, err := f.readManifest()
	if err != nil {
		return nil, nil, f.errorf("", "read manifest", err)
	}
	files, tables := map[string][]string{}, map[string]*schema.Table{}
	for name, e := range m.Tables {
		if checkName(name) != nil {
			continue
		}
		tables[name] = e.Table
		for _, n := range e.Files {
			if checkName(n) == nil {
				files[name] = append(files[name], filepath.Join(f.dir, name, n))
			}
		}
	}
	return files, tables, nil
}

// Read calls fn for each row of table, sorted by _dlt_id when the table has
// one (otherwise in load order). It holds the table in memory to sort it.
// Columns the table gained after a file was written read as nil.
func (f *Files) Read(ctx context.Context, table string, fn func(row map[string]any) error) error {
	t, paths, err := f.loadTable(table)
	if err != nil {
		return f.errorf(table, "read", err)
	}
	err = readSorted(ctx, f.codecFor(table), t, paths, func(p string) (string, func(), error) { return p, func() {}, nil }, fn)
	if err != nil {
		return f.errorf(table, "read", err)
	}
	return nil
}

// readSorted reads the files of table t through open (which gives a local
// path for a file and a cleanup to call after reading it), sorts the rows
// by _dlt_id when t has it and calls fn for each.
func readSorted(ctx context.Context, c codec, t *schema.Table, files []string, open func(string) (string, func(), error), fn func(row map[string]any) error) error {
	var rows []map[string]any
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, cleanup, err := open(name)
		if err != nil {
			return err
		}
		err = c.read(p, t.Columns, func(row map[string]any) error {
			rows = append(rows, row)
			return nil
		})
		cleanup()
		if err != nil {
			return fmt.Errorf("%s: %w", path.Base(name), err)
		}
	}
	if t.Column(schema.ColID) != nil {
		sort.SliceStable(rows, func(i, j int) bool {
			a, _ := rows[i][schema.ColID].(string)
			b, _ := rows[j][schema.ColID].(string)
			return a < b
		})
	}
	for _, r := range rows {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func randomHex() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// fileName is a data file's final name: sortable by commit time, then by
// order within the load.
func fileName(at time.Time, seq int, format Format) string {
	return fmt.Sprintf("%020d-%04d-%s.%s", at.UnixNano(), seq, randomHex(), format)
}
