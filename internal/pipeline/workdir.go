package pipeline

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/spool"
)

// lockWorkDir takes the lock of pipeline name in workDir: an exclusive,
// non-blocking flock on workDir/NAME.lock, held until unlock (or the
// process's end: the kernel drops it with the process, so a killed run
// leaves no stale lock). A run of the same pipeline that holds it would
// see its in-progress package removed as a dead run's leftover, so a
// second run fails at once, naming the lock file and the pid the holder
// wrote into it. Pipelines of other names lock files of their own and run
// alongside.
func lockWorkDir(workDir, name string) (unlock func(), err error) {
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	path := filepath.Join(workDir, name+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("work dir: lock pipeline %q: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("work dir: lock pipeline %q (%s): %w", name, path, err)
		}
		holder := "another process"
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				holder = "pid " + strconv.Itoa(pid)
			}
		}
		return nil, fmt.Errorf("pipeline %q is already running with work dir %s (lock file %s is held by %s): wait for that run to end, or give this one another --work-dir", name, workDir, path, holder)
	}
	// The holder's pid, for the message above; the lock is the flock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		_ = f.Truncate(0)
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// pendingFor sorts the packages an earlier run left in the work dir
// (spool.Pending) by whether they are this run's to finish: it returns
// the sealed packages to load into t and the unsealed ones to discard,
// and leaves alone, with a warning saying how to load or discard it, a
// sealed package extracted for another destination or dataset. Packages
// of other pipelines sharing the work dir are theirs (one may be
// extracting now) and are not touched. only is the run's --resource: a
// package is loaded whole whatever it says, which the log says.
func pendingFor(log *slog.Logger, t spool.Target, sealed, unsealed []*spool.Package, only []string) (load, discard []*spool.Package) {
	for _, u := range unsealed {
		if u.Manifest.Pipeline == "" || u.Manifest.Pipeline == t.Pipeline {
			discard = append(discard, u)
		}
	}
	for _, s := range sealed {
		m := s.Manifest
		switch {
		case m.Pipeline != t.Pipeline:
			continue
		case !m.For(t):
			log.Warn("leaving alone a package an earlier run left for another destination or dataset: it is loaded only there",
				"load_id", m.LoadID, "package", s.Dir, "destination", m.Destination, "dataset", m.Dataset,
				"resources", strings.Join(m.ResourceNames(), ","),
				"to_load_it", "run this pipeline with --dest "+m.Destination+" (with its password, if any) and dataset "+m.Dataset,
				"to_discard_it", "rm -r "+s.Dir)
			continue
		case m.Destination == "":
			log.Warn("a package an earlier run left records no destination (an older restload wrote it): loading it into this run's", "load_id", m.LoadID, "package", s.Dir)
		}
		if len(only) > 0 {
			log.Info("loading a package an earlier run left whole, whatever --resource says: its rows were extracted and committed to be loaded into this destination, and loading all of them loses and duplicates nothing",
				"load_id", m.LoadID, "resources", strings.Join(m.ResourceNames(), ","))
		}
		load = append(load, s)
	}
	return load, discard
}

// warnNUL says, once per run, how many values loading changed by
// load.NULRule, by column.
func warnNUL(log *slog.Logger, nul load.NULCounts) {
	if n := nul.Total(); n > 0 {
		log.Warn("removed NUL characters from string values", "values", n, "columns", nul.String(), "rule", load.NULRule)
	}
}
