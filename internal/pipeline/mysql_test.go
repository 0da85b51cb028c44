package pipeline_test

import (
	"testing"

	"github.com/restload/restload/internal/destination/destinationtest"
)

// TestSharesIntoNewMySQLDataset is TestSharesIntoNewPostgresDataset into
// MySQL (MariaDB on these machines): two shares at once into a database
// that does not exist yet, then again into the one that does.
func TestSharesIntoNewMySQLDataset(t *testing.T) {
	url := destinationtest.MySQLURL(t)
	sharesIntoNewDataset(t, url, func(dataset string) { destinationtest.DropMySQLOnCleanup(t, url, dataset) })
}

// TestSeedPipelineEndToEndMySQL is TestSeedPipelineEndToEnd into MySQL:
// the bundled mock with faults, twice, every record once.
func TestSeedPipelineEndToEndMySQL(t *testing.T) {
	url := destinationtest.MySQLURL(t)
	dataset := destinationtest.Dataset(t)
	destinationtest.DropMySQLOnCleanup(t, url, dataset)
	seedEndToEnd(t, t.TempDir(), url, dataset)
}
