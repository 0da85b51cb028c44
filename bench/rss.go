package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Linux reports a child's peak RSS (ru_maxrss) as at least what its
// parent's was when it started the child: Go starts a child with vfork,
// and exec keeps the high-water mark of the memory it replaces, which is
// the parent's. The bench process grows (the mock API's pages, DuckDB
// alone), so it starts each restload run through a small process of its
// own, "bench -rss-exec BIN ARGS...", which starts the run, waits for it
// and reports the run's resource usage on file descriptor 3. That process
// peaks at ~35 MB itself, which is then the least a run can report.
const rssExecFlag = "-rss-exec"

// rssExec runs args and writes "maxrss-KiB user-ns system-ns" of it to file
// descriptor 3. It returns the exit code to exit with.
func rssExec(args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Do not outlive the bench when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 127
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		report := os.NewFile(3, "rusage")
		fmt.Fprintf(report, "%d %d %d\n", ru.Maxrss, ru.Utime.Nano(), ru.Stime.Nano())
		report.Close()
	}
	return cmd.ProcessState.ExitCode()
}

// rssCommand is the command that runs bin with args through rssExec; read
// its report with readRusage once it has finished.
func rssCommand(bin string, args []string) (*exec.Cmd, *os.File, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(self, append([]string{rssExecFlag, bin}, args...)...)
	cmd.ExtraFiles = []*os.File{w}
	return cmd, r, nil
}

// readRusage reads rssExec's report: peak RSS in MB and CPU time.
func readRusage(r *os.File) (rssMB float64, cpu time.Duration, ok bool) {
	defer r.Close()
	var kib, user, sys int64
	if _, err := fmt.Fscan(bufio.NewReader(r), &kib, &user, &sys); err != nil {
		return 0, 0, false
	}
	return float64(kib) / 1024, time.Duration(user + sys), true
}
