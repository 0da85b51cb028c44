//go:build noiceberg

package cli

import (
	"context"
	"fmt"

	"github.com/restload/restload/internal/destination"
)

// This build leaves the Iceberg destination out (-tags noiceberg) so that
// processes start without iceberg-go's init cost. An iceberg: URL says so
// instead of looking like a typo.
func init() {
	destination.Register("iceberg", func(context.Context, string, string) (destination.Destination, error) {
		return nil, fmt.Errorf("destination iceberg: %w: this restload was built with -tags noiceberg; build it without that tag to load into Iceberg", destination.ErrUnsupported)
	})
}
