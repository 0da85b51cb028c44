package mysql_test

import (
	"context"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	_ "github.com/restload/restload/internal/destination/mysql"
)

// openDataset opens the test server for dataset and drops the dataset's
// database when the test ends.
func openDataset(tb testing.TB, dataset string) destination.Destination {
	tb.Helper()
	url := destinationtest.MySQLURL(tb)
	d, err := destination.Open(context.Background(), url, dataset)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	destinationtest.DropMySQLOnCleanup(tb, url, dataset) // runs after the Close below
	tb.Cleanup(func() {
		if err := d.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return d
}

func TestConformance(t *testing.T) {
	destinationtest.Run(t, func(t *testing.T, dataset string) destination.Destination {
		return openDataset(t, dataset)
	}, destinationtest.Caps{Merge: true, IsolatedRead: true})
}

func BenchmarkWrite(b *testing.B) {
	destinationtest.BenchmarkWrite(b, func(b *testing.B, dataset string) destination.Destination {
		return openDataset(b, dataset)
	})
}
