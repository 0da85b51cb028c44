package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
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
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: bench -rss-exec PROGRAM [ARGS...]")
		return 2
	}
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

type measure struct {
	seconds float64
	rssMB   float64
	cpu     float64
}

// runMeasured runs bin with args through rssExec, with env (nil: the
// bench's own) and its output going to stdout and stderr, and measures its
// wall time, CPU time and peak RSS. The end of ctx kills it.
func runMeasured(ctx context.Context, bin string, args, env []string, stdout, stderr io.Writer) (measure, error) {
	self, err := os.Executable()
	if err != nil {
		return measure{}, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return measure{}, err
	}
	defer r.Close()
	cmd := exec.Command(self, append([]string{rssExecFlag, bin}, args...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, stdout, stderr
	cmd.ExtraFiles = []*os.File{w}
	start := time.Now()
	err = cmd.Start()
	w.Close() // the child has it
	if err == nil {
		stop := context.AfterFunc(ctx, func() { _ = cmd.Process.Kill() })
		err = cmd.Wait()
		stop()
	}
	m := measure{seconds: time.Since(start).Seconds()}
	// rssExec's report: peak RSS in KiB, user and system CPU time in ns.
	var kib, user, sys int64
	if _, serr := fmt.Fscan(bufio.NewReader(r), &kib, &user, &sys); serr == nil {
		m.rssMB, m.cpu = float64(kib)/1024, time.Duration(user+sys).Seconds()
	}
	return m, err
}
