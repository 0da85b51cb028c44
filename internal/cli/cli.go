// Package cli is restload's command line: it owns the commands, their
// flags, what they print and the exit code each error maps to. Run is the
// whole program given arguments and output streams, so it is testable
// without starting a process.
//
// Commands:
//
//	run PIPELINE     extract every selected resource and load it
//	check PIPELINE   validate a pipeline file, dry-build its requests
//	init             write a starter pipeline file (from an OpenAPI spec)
//	preview PIPELINE send a resource's first requests, show pages, records, tables
//	demo             run the seed pipeline against the bundled mock API
//	mock-api         serve the bundled mock API
//	info [PIPELINE]  loads, row counts and state kept in a destination
//	schema [PIPELINE] the stored schema of a dataset
//	version          the version and build
//
// Exit codes:
//
//	0  success
//	1  the run failed: an API, network or destination error (nothing of
//	   the failed resources was loaded; see the message)
//	2  bad usage or an invalid pipeline file (every problem is listed)
//	130 interrupted (SIGINT/SIGTERM); a rerun finishes the job
//
// Bad usage is an error of type usageError, whatever its message: cobra's
// flag errors come through SetFlagErrorFunc and its argument errors
// through usageArgs, which every command's Args validator is wrapped in.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	// The destinations restload can load into register themselves
	// (iceberg in dest_iceberg.go, so a build can leave it out).
	_ "github.com/restload/restload/internal/destination/duckdb"
	_ "github.com/restload/restload/internal/destination/files"
	_ "github.com/restload/restload/internal/destination/mysql"
	_ "github.com/restload/restload/internal/destination/postgres"
	"github.com/restload/restload/internal/httpclient"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitFailed      = 1
	ExitUsage       = 2
	ExitInterrupted = 130
)

// usageError marks errors that are the user's invocation's fault.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// globals are the flags every command shares.
type globals struct {
	logLevel  string
	logFormat string
	stdout    io.Writer
	stderr    io.Writer
}

// loggerTo builds the run's logger: text or JSON on w (stderr, or the
// progress display's writer that prints above its bars), with every secret
// red knows redacted from messages and attributes, which are also escaped.
func (g *globals) loggerTo(w io.Writer, red *httpclient.Redactor) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", g.logLevel)}
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch g.logFormat {
	case "text", "":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, usageError{fmt.Errorf("--log-format %q: want text or json", g.logFormat)}
	}
	return slog.New(httpclient.RedactHandler(h, red)), nil
}

// Run runs restload with args (without the program name) and returns the
// exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return report(stderr, err, ctx)
}

// Commands returns restload's command tree, writing nowhere, for tests and
// docs that must name real commands and flags (examples/deploy checks its
// manifests' arguments against it).
func Commands() *cobra.Command {
	return newRoot(&globals{stdout: io.Discard, stderr: io.Discard})
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "restload",
		Short:         "Load REST APIs into databases from a dlt-compatible pipeline file",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.Version = versionLine() // --version; the template prints it as `version` does
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		runCmd(g),
		checkCmd(g),
		demoCmd(g),
		mockAPICmd(g),
		infoCmd(g),
		schemaCmd(g),
		versionCmd(g),
		initCmd(g),
		previewCmd(g),
		queryCmd(g),
	)
	// An unknown command is the root's argument: with Args set, cobra
	// passes it to the validator instead of failing in Find with an
	// untyped error, and the root must be runnable to get there.
	root.Args = unknownCommand
	root.SuggestionsMinimumDistance = 2 // cobra's default, which SuggestionsFor does not apply
	root.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	for _, c := range root.Commands() {
		if c.Args != nil {
			c.Args = usageArgs(c.Args)
		}
	}
	return root
}

// report prints err and maps it to an exit code.
// Everything it prints goes through httpclient.EscapeLines: an error may
// quote what an API sent, and no escape sequence of it may reach a terminal.
func report(stderr io.Writer, err error, ctx context.Context) int {
	if err == nil {
		return ExitOK
	}
	w := escapingWriter{stderr}
	var cerrs config.Errors
	var cerr *config.Error
	var uerr usageError
	switch {
	case errors.As(err, &cerrs):
		fmt.Fprintf(w, "restload: the pipeline file has %d problem(s):\n", len(cerrs))
		for _, e := range cerrs {
			fmt.Fprintf(w, "  %s\n", e)
		}
		return ExitUsage
	case errors.As(err, &cerr):
		fmt.Fprintf(w, "restload: %s\n", cerr)
		return ExitUsage
	case errors.As(err, &uerr) || errors.Is(err, destination.ErrBadURL):
		fmt.Fprintf(w, "restload: %s\nRun 'restload --help' for usage.\n", err)
		return ExitUsage
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		fmt.Fprintf(w, "restload: interrupted: %s\nNothing of the interrupted run was loaded; run the same command again to finish the job.\n", err)
		return ExitInterrupted
	}
	fmt.Fprintf(w, "restload: %s\n", err)
	return ExitFailed
}

// escapingWriter escapes control characters, except newlines, in what is
// written through it.
type escapingWriter struct{ w io.Writer }

func (e escapingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(e.w, httpclient.EscapeLines(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// usageArgs makes the errors of a command's positional argument check
// (cobra.ExactArgs, NoArgs, ...) usage errors.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := check(c, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// unknownCommand is the root command's argument check: any argument is a
// command restload does not have. The message is cobra's, suggestions
// included.
func unknownCommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t") + "\n"
	}
	return usageError{errors.New(msg)}
}

// loadPipeline reads a pipeline file for a command and prints its warnings
// on stderr.
// Loading stops when ctx ends.
func (g *globals) loadPipeline(ctx context.Context, path string, opts config.LoadOptions) (*config.Pipeline, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, usageError{fmt.Errorf("pipeline file: %w", err)}
	}
	p, err := config.LoadContext(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	for _, w := range p.Warnings() {
		fmt.Fprintf(escapingWriter{g.stderr}, "restload: warning: %s\n", w)
	}
	return p, nil
}

// checkResourceNames is the check of --resource values: an unknown name
// is a usage error that suggests the nearest name and lists them all.
func checkResourceNames(p *config.Pipeline, names []string) error {
	for _, name := range names {
		if p.Resource(name) != nil {
			continue
		}
		all := make([]string, len(p.Source.Resources))
		for i, r := range p.Source.Resources {
			all[i] = r.Name
		}
		msg := fmt.Sprintf("--resource %s: no resource of that name in %s", name, p.File)
		if s := config.Suggest(name, all); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return usageError{fmt.Errorf("%s; its resources: %s", msg, strings.Join(all, ", "))}
	}
	return nil
}
