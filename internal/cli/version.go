package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/restload/restload/internal/destination/duckdb"
)

// Version is set at build time with -ldflags "-X .../cli.Version=...";
// without it, the module version recorded in the binary is used (set by
// `go install module@version`).
var Version = "dev"

// versionLine is what `restload version` and `restload --version` print:
// the version, the commit the binary was built from (with -dirty for
// uncommitted changes; "unknown" when the build recorded none), the Go
// version and how rows reach DuckDB (arrow, or csv in a build without the
// duckdb_arrow tag).
func versionLine() string {
	v, commit, dirty := Version, "unknown", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if dirty {
		commit += "-dirty"
	}
	loads := "csv"
	if duckdb.ArrowLoads {
		loads = "arrow"
	}
	return fmt.Sprintf("restload %s (commit %s, %s, duckdb loads %s)", v, commit, runtime.Version(), loads)
}

func versionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print restload's version and the commit it was built from",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(g.stdout, versionLine())
		},
	}
}
