package files

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/restload/restload/internal/destination"
)

// lockFile is the file whose lock serializes commits to one dataset folder.
const lockFile = ".restload.lock"

// lock takes an exclusive lock on the dataset's lock file (flock: held by
// this process until unlock or exit), so that two loads of one dataset on
// this machine do not commit at once: one would write its manifest over
// the other's and then remove the other's files as garbage. It waits for
// another process's lock as SetLockWait says: logged after a few seconds,
// failing when the timeout passes.
func (f *Files) lock(ctx context.Context) (unlock func(), err error) {
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return nil, err
	}
	fh, err := os.OpenFile(filepath.Join(f.dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	err = f.lw.Wait(ctx, "the lock file "+fh.Name()+" of the dataset (another load of it is committing)", func(context.Context) (bool, error) {
		err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return false, nil
		}
		return err == nil, err
	}, nil)
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("lock %s: %w", fh.Name(), err)
	}
	return func() {
		_ = syscall.Flock(int(fh.Fd()), syscall.LOCK_UN)
		fh.Close()
	}, nil
}

// SetLockWait sets how long a commit waits for the dataset's lock file
// while another process holds it (destination.LockWaiter).
func (f *Files) SetLockWait(lw destination.LockWait) { f.lw = lw }

var _ destination.LockWaiter = (*Files)(nil)

// staleAfter is how old a temporary file must be before a commit removes
// it: younger ones may belong to a load still running.
const staleAfter = 24 * time.Hour

func stale(path string) bool {
	st, err := os.Stat(path)
	return err == nil && time.Since(st.ModTime()) > staleAfter
}
