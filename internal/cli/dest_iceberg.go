//go:build !noiceberg

package cli

// The Iceberg destination is in the default build. Building with
// -tags noiceberg leaves it out (see dest_noiceberg.go): iceberg-go's table
// package parses substrait's extension YAML at program start, which costs
// every run, whatever its destination, about 0.18 CPU s.
import _ "github.com/restload/restload/internal/destination/iceberg"
