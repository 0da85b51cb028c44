package files

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// manifestFile is the dataset's commit record, DIR/<dataset>/_manifest.json.
// It names every table and the data files that belong to it; Read follows it
// and nothing else. Commit writes a new one to a temporary file and renames
// it over the old one, so a commit becomes visible in one step (rename is
// atomic on POSIX filesystems): readers see the dataset before the load or
// after it, never a part of it, and a replaced table is never empty to them.
const manifestFile = "_manifest.json"

// manifest is the committed state of a dataset.
type manifest struct {
	// Commit counts commits; it only grows.
	Commit      int       `json:"commit"`
	CommittedAt time.Time `json:"committed_at,omitzero"`
	// Tx identifies the load that wrote an object storage commit record,
	// so that a load whose record write was retried knows its own.
	Tx     string                 `json:"tx,omitempty"`
	Tables map[string]*tableEntry `json:"tables"`
}

// tableEntry is one committed table: its columns, and its data files (base
// names inside the table's folder) in load order.
type tableEntry struct {
	Table *schema.Table `json:"table"`
	Files []string      `json:"files"`
}

func (m *manifest) clone() *manifest {
	out := &manifest{Commit: m.Commit, CommittedAt: m.CommittedAt, Tables: make(map[string]*tableEntry, len(m.Tables))}
	for k, e := range m.Tables {
		out.Tables[k] = &tableEntry{Table: e.Table, Files: append([]string(nil), e.Files...)}
	}
	return out
}

// entry returns the entry of table name with what load p does to it
// applied but its new files: p's definition, and no files when p replaces
// the table. ErrNoTable when the table is neither in m nor created by p.
func (m *manifest) entry(name string, p *pending) (*tableEntry, error) {
	e := m.Tables[name]
	if e == nil {
		if p.table == nil {
			return nil, destination.ErrNoTable
		}
		e = &tableEntry{}
		m.Tables[name] = e
	}
	if p.table != nil {
		e.Table = p.table
	}
	if p.replace {
		e.Files = nil
	}
	return e, nil
}

// readManifest reads the dataset's manifest; a dataset never committed to
// has an empty one.
func (f *Files) readManifest() (*manifest, error) {
	m := &manifest{Tables: map[string]*tableEntry{}}
	b, err := os.ReadFile(filepath.Join(f.dir, manifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeManifest(b, manifestFile)
}

// decodeManifest parses a manifest named name (for errors).
func decodeManifest(b []byte, name string) (*manifest, error) {
	m := &manifest{}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if m.Tables == nil {
		m.Tables = map[string]*tableEntry{}
	}
	for tn, e := range m.Tables {
		if e == nil || e.Table == nil {
			return nil, fmt.Errorf("%s: table %q has no definition", name, tn)
		}
	}
	return m, nil
}

// writeManifest makes m the committed state: written and synced to a
// temporary file, renamed over the old manifest, and the folder synced so
// the rename survives a crash.
func (f *Files) writeManifest(m *manifest) error {
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(f.dir, manifestFile, append(b, '\n')); err != nil {
		return err
	}
	return syncDir(f.dir)
}

// writeFileAtomic writes data to dir/name through a synced temporary file
// and a rename.
func writeFileAtomic(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, ".tmp-*.json")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// Some filesystems cannot sync a directory; the rename is still atomic.
	_ = d.Sync()
	return nil
}

// collectGarbage removes what no manifest names: data files renamed into
// place by a commit that died before its manifest was written, files of
// tables a replace superseded, and temporary files of crashed loads. It
// runs under the dataset's commit lock, so no other commit is between
// renaming its files and naming them; temporary files are removed only
// when stale, as another load may still be writing them. Failures are
// ignored: leftovers are invisible to Read and retried by the next commit.
func (f *Files) collectGarbage(m *manifest) {
	_ = removeTemps(f.dir)
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		keep := map[string]bool{}
		if te := m.Tables[e.Name()]; te != nil {
			for _, n := range te.Files {
				keep[n] = true
			}
		}
		dir := filepath.Join(f.dir, e.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, df := range files {
			n := df.Name()
			switch {
			case df.IsDir():
			case strings.HasPrefix(n, ".tmp-"):
				if p := filepath.Join(dir, n); stale(p) {
					os.Remove(p)
				}
			case strings.HasSuffix(n, "."+string(f.format)) && !strings.HasPrefix(n, "_") && !keep[n]:
				os.Remove(filepath.Join(dir, n))
			}
		}
	}
}

func removeTemps(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if p := filepath.Join(dir, e.Name()); !e.IsDir() && strings.HasPrefix(e.Name(), ".tmp-") && stale(p) {
			os.Remove(p)
		}
	}
	return nil
}
