// Package spool keeps load packages on local disk: the normalized rows of
// one run, per table, compressed, with the schema and state they were
// extracted under. Extraction writes a package and seals it; loading reads it
// back. A sealed package that was not loaded (the process died) is found by
// Pending and loaded by the next run without calling the API again; an
// unsealed one is incomplete and is discarded.
package spool

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/restload/restload/internal/schema"
)

// Package status values kept in the manifest.
const (
	StatusExtracting = "extracting"
	StatusExtracted  = "extracted"
)

// Manifest describes a package. It is written as manifest.json.
type Manifest struct {
	LoadID   string `json:"load_id"`
	Pipeline string `json:"pipeline"`
	Dataset  string `json:"dataset"`
	// Source is the source's name (pipeline.source_name): a new dataset's
	// schema and its state's sources.<name> are named after it, as dlt
	// names them. Empty in packages of earlier restload versions (the
	// pipeline's name is used then).
	Source string `json:"source,omitempty"`
	// Destination is where the package is to be loaded, as
	// destination.Identity names it (no password); empty in packages of
	// restload versions that did not record it. See Manifest.For.
	Destination string            `json:"destination,omitempty"`
	Status      string            `json:"status"`
	CreatedAt   time.Time         `json:"created_at"`
	SealedAt    time.Time         `json:"sealed_at,omitzero"`
	Resources   []ResourceSummary `json:"resources"`
	// State holds the pipeline state (incremental cursors and the like) to
	// store with this load, by key.
	State map[string]json.RawMessage `json:"state,omitempty"`
}

// ResourceSummary is what extraction saw of one resource: where its rows
// go and what was counted.
type ResourceSummary struct {
	ResourceTarget
	Counts
}

// ResourceTarget is where a resource's rows are loaded: its root table
// (child tables are named under it) and how. It is the instruction load
// follows; a run builds it once per resource.
type ResourceTarget struct {
	Name             string `json:"name"`
	Table            string `json:"table"`
	WriteDisposition string `json:"write_disposition"`
	// Files, when set, tags the files of the resource's rows: its table
	// t's rows are under the name FileName(t, Files), not t. A run sets it
	// on resources that share a table (the same table_name), so each
	// resource's rows stay apart on disk, in the column order of its own
	// schema, and are loaded as its own.
	Files string `json:"files,omitempty"`
	// Merge is a merge resource's strategy and merge hints (nil:
	// delete-insert without hints).
	Merge *schema.MergeSpec `json:"merge,omitempty"`
}

// Counts are what extracting one resource counted.
type Counts struct {
	Records int64            `json:"records"`
	Pages   int64            `json:"pages"`
	Retries int64            `json:"retries"`
	Seconds float64          `json:"seconds"`
	Rows    map[string]int64 `json:"rows"` // by table
}

// FileName is the name under which a resource whose ResourceSummary.Files
// is tag keeps table's rows (the name given to Writer, Parts and Rows):
// table itself when tag is "", else "table@tag". Table names never hold
// "@" or "~".
func FileName(table, tag string) string {
	if tag == "" {
		return table
	}
	return table + "@" + tag
}

// Package is one load package directory. Writers for different tables may
// be used from different goroutines; one table's writer from one at a time.
type Package struct {
	Dir      string
	Manifest Manifest

	mu      sync.Mutex
	writers map[string]*TableWriter
	parts   map[string]int // parts begun, by table
	codec   *codec         // what tables are written with; nil means writeCodec
}

// NewLoadID returns a load id: the Unix time with microseconds, so ids sort
// in the order loads started (the form dlt uses).
func NewLoadID(now time.Time) string {
	return fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
}

// Create makes a new package for m.LoadID under root.
func Create(root string, m Manifest) (*Package, error) {
	dir := filepath.Join(root, m.LoadID)
	if err := os.MkdirAll(filepath.Join(dir, "tables"), 0o755); err != nil {
		return nil, fmt.Errorf("spool: create package: %w", err)
	}
	m.Status = StatusExtracting
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC()
	}
	p := &Package{Dir: dir, Manifest: m, writers: map[string]*TableWriter{}, parts: map[string]int{}}
	if err := writeJSON(filepath.Join(dir, "manifest.json"), m); err != nil {
		return nil, err
	}
	return p, nil
}

// Writer returns the row writer of table, creating it on first use and
// after the table's writer was closed (Close): each writer writes one part
// of the table's rows, a file of its own, and Rows reads the parts in the
// order they were begun. Closing a writer lets its part be read (loaded)
// while later rows still go to the next.
func (p *Package) Writer(table string) (*TableWriter, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w := p.writers[table]; w != nil && !w.closed {
		return w, nil
	}
	c := writeCodec
	if p.codec != nil {
		c = *p.codec
	}
	f, err := os.Create(p.partPath(table, p.parts[table], c))
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	cw, err := c.writer(f)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("spool: %w", err)
	}
	p.parts[table]++
	w := &TableWriter{table: table, f: f, cw: cw}
	p.writers[table] = w
	return w, nil
}

// Parts returns how many parts of table's rows were begun (by this
// process, or, for a package found by Pending, as many as the highest part
// on disk says: a part missing below it is an error when the rows are
// read, not the end of them).
func (p *Package) Parts(table string) int {
	p.mu.Lock()
	n, ok := p.parts[table]
	p.mu.Unlock()
	if ok {
		return n
	}
	entries, _ := os.ReadDir(filepath.Join(p.Dir, "tables"))
	for _, e := range entries {
		for _, c := range readCodecs {
			if k, ok := partOf(e.Name(), table, c); ok {
				n = max(n, k+1)
			}
		}
	}
	return n
}

// partOf tells which part of table the file name is, if it is one written
// with c (see partPath).
func partOf(name, table string, c codec) (int, bool) {
	rest, ok := strings.CutSuffix(name, c.ext)
	if !ok {
		return 0, false
	}
	if rest == table {
		return 0, true
	}
	num, ok := strings.CutPrefix(rest, table+"~")
	if !ok {
		return 0, false
	}
	k, err := strconv.Atoi(num)
	return k, err == nil && k > 0
}

// partPath is where part k of table's rows is kept: the first part has
// the name a whole table had before parts ("<table>.rows.s2"), so older
// packages read as one part; later ones add "~k" (table names never hold a
// "~").
func (p *Package) partPath(table string, k int, c codec) string {
	if k == 0 {
		return filepath.Join(p.Dir, "tables", table+c.ext)
	}
	return filepath.Join(p.Dir, "tables", fmt.Sprintf("%s~%d%s", table, k, c.ext))
}

// openPart opens part k of table, whichever codec wrote it; the error
// wraps os.ErrNotExist when there is none.
func (p *Package) openPart(table string, k int) (*os.File, codec, error) {
	for _, c := range readCodecs {
		f, err := os.Open(p.partPath(table, k, c))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		return f, c, err
	}
	return nil, codec{}, fmt.Errorf("table %s: part %d: %w", table, k, os.ErrNotExist)
}

// Seal closes every writer, stores the schema and marks the package
// extracted. After Seal the package survives a crash and is loaded by the
// next run.
func (p *Package) Seal(m Manifest, s *schema.Schema) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.writers {
		if err := w.close(); err != nil {
			return err
		}
	}
	if err := writeJSON(filepath.Join(p.Dir, "schema.json"), s); err != nil {
		return err
	}
	m.Status = StatusExtracted
	m.SealedAt = time.Now().UTC()
	if err := writeJSON(filepath.Join(p.Dir, "manifest.json"), m); err != nil {
		return err
	}
	p.Manifest = m
	return syncDir(p.Dir)
}

// Abort closes the writers and removes the package.
func (p *Package) Abort() error {
	p.mu.Lock()
	for _, w := range p.writers {
		_ = w.close()
	}
	p.mu.Unlock()
	return os.RemoveAll(p.Dir)
}

// Remove deletes a loaded package.
func (p *Package) Remove() error { return os.RemoveAll(p.Dir) }

// Schema reads the schema stored by Seal, checked by schema.FromJSON: a
// package on disk may have been damaged since.
func (p *Package) Schema() (*schema.Schema, error) {
	b, err := os.ReadFile(filepath.Join(p.Dir, "schema.json"))
	if err != nil {
		return nil, fmt.Errorf("spool: read package schema: %w", err)
	}
	s, err := schema.FromJSON(b)
	if err != nil {
		return nil, fmt.Errorf("spool: package %s: corrupt schema.json: %w", p.Manifest.LoadID, err)
	}
	return s, nil
}

// Rows opens table's rows for reading, all its parts in order, each row
// padded with nil to width values. A table with no rows yields no rows.
func (p *Package) Rows(table string, width int) (*RowSource, error) {
	return p.PartRows(table, 0, p.Parts(table), width)
}

// PartRows is Rows over parts from to to-1 of table only; their writers
// must be closed.
func (p *Package) PartRows(table string, from, to, width int) (*RowSource, error) {
	s := &RowSource{p: p, table: table, part: from, to: to, width: width}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

// Pending lists the packages under root, oldest first: sealed ones, ready to
// load, and unsealed ones, left by a run that died while extracting.
func Pending(root string) (sealed, unsealed []*Package, err error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("spool: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		dir := filepath.Join(root, n)
		p := &Package{Dir: dir, writers: map[string]*TableWriter{}, parts: map[string]int{}}
		b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err == nil {
			err = json.Unmarshal(b, &p.Manifest)
		}
		if err != nil || p.Manifest.Status != StatusExtracted {
			unsealed = append(unsealed, p)
			continue
		}
		sealed = append(sealed, p)
	}
	return sealed, unsealed, nil
}

// TableWriter appends rows to one table's file. Not safe for concurrent use.
type TableWriter struct {
	table  string
	f      *os.File
	cw     io.WriteCloser // compresses into f
	buf    []byte
	rows   int64
	closed bool
}

// Write appends one row. It encodes row before it returns and does not
// keep it, so the caller may reuse the slice.
func (w *TableWriter) Write(row []any) error {
	var err error
	w.buf, err = appendRow(w.buf[:0], row)
	if err != nil {
		return fmt.Errorf("table %s: %w", w.table, err)
	}
	if _, err := w.cw.Write(w.buf); err != nil {
		return fmt.Errorf("spool: table %s: %w", w.table, err)
	}
	w.rows++
	return nil
}

// Rows is the number of rows written so far.
func (w *TableWriter) Rows() int64 { return w.rows }

// Close flushes and closes the table's file, so Package.Rows can read it
// before the package is sealed (a resource that finished is loaded while
// others still extract). The writer must not be used after Close; Seal and
// Abort skip it.
func (w *TableWriter) Close() error { return w.close() }

func (w *TableWriter) close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.cw.Close()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spool: close table %s: %w", w.table, err)
	}
	return nil
}

// RowSource reads a table's rows back, part after part. It satisfies
// destination.RowSource.
type RowSource struct {
	p        *Package
	part, to int // the part open (or next to open), and the end
	f        *os.File
	release  func() // the decompressor's
	rr       rowReader
	width    int
	table    string
	row      []any
	err      error
	done     bool
}

// open opens the next part, or ends the rows after the last. A part
// missing in between is an error: its rows would be lost.
func (s *RowSource) open() error {
	if s.part < s.to {
		f, c, err := s.p.openPart(s.table, s.part)
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		br, release, err := c.reader(f)
		if err != nil {
			f.Close()
			return fmt.Errorf("spool: table %s: %w", s.table, err)
		}
		s.f, s.release, s.rr = f, release, rowReader{r: br}
		return nil
	}
	s.done = true
	return nil
}

// Next advances to the next row.
func (s *RowSource) Next() bool {
	for !s.done {
		row, err := s.rr.next(s.row, s.width)
		if err == nil {
			s.row = row
			return true
		}
		s.closePart()
		if !errors.Is(err, io.EOF) {
			s.done = true
			s.err = fmt.Errorf("spool: table %s: %w", s.table, err)
			return false
		}
		s.part++
		if err := s.open(); err != nil {
			s.done = true
			s.err = err
		}
	}
	return false
}

// Values returns the current row. The slice is reused by the next call.
func (s *RowSource) Values() []any { return s.row }

// Err returns the first read error.
func (s *RowSource) Err() error { return s.err }

// Close releases the open part; Next calls it at the end.
func (s *RowSource) Close() {
	s.closePart()
	s.done = true
}

func (s *RowSource) closePart() {
	if s.release != nil {
		s.release()
		s.release = nil
	}
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spool: write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}
