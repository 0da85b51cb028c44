// Command restload loads data from REST APIs into databases from a
// declarative, dlt-compatible pipeline file. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/restload/restload/internal/cli"
	"github.com/restload/restload/internal/pipeline"
)

func main() {
	pipeline.SetGCDefaults(os.Getenv) // for the whole process; it never stops
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
