package load

import "os"

// KillEnv names a test hook, not a feature: when the environment variable
// RESTLOAD_TEST_KILL_AT holds one of the kill points below, the process
// kills itself with SIGKILL (no deferred calls, no cleanup, exactly like a
// crash or the OOM killer) when it reaches that point. The crash tests in
// internal/pipeline use it to stop `restload run` at points a signal sent
// from outside cannot hit reliably. Unset, it costs one Getenv per load.
const KillEnv = "RESTLOAD_TEST_KILL_AT"

// Kill points understood by KillEnv.
const (
	// KillBeforeLoad: the package is sealed on disk and nothing of it is
	// committed. Package stops here before sending anything; a run that
	// loaded resources while extracting stops at Commit, with their rows in
	// the open transaction.
	KillBeforeLoad = "before-load"
	// KillMidLoad: the package is sealed and rows were written inside the
	// open destination transaction, which has not committed: Package stops
	// after the first resource, a run that loaded while extracting at
	// Commit.
	KillMidLoad = "mid-load"
	// KillAfterCommit: the load committed (rows and load record) but the
	// package was not yet removed from disk.
	KillAfterCommit = "after-commit"
)

// killPoint kills the process when KillEnv names point.
func killPoint(point string) {
	if os.Getenv(KillEnv) != point {
		return
	}
	p, err := os.FindProcess(os.Getpid())
	if err == nil {
		_ = p.Kill() // SIGKILL on Unix
	}
	select {} // the signal is on its way
}
