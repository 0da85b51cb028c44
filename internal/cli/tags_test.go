package cli_test

import "github.com/restload/restload/internal/destination/duckdb"

// buildTags are the build tags a restload binary built by a test gets:
// those of this test binary that change what restload does, so that the
// binary loads DuckDB the way the code under test does.
func buildTags() string {
	if duckdb.ArrowLoads {
		return "duckdb_arrow"
	}
	return ""
}
