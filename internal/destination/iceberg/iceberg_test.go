package iceberg_test

import (
	"context"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	_ "github.com/restload/restload/internal/destination/iceberg"
)

// catalogs are the catalogs the tests load into: a file-system catalog in
// a temporary folder, and the SQL catalog on the test PostgreSQL server
// (skipped without one, unless CI=true).
var catalogs = []struct {
	name string
	url  func(tb testing.TB) string
}{
	{"dir", func(tb testing.TB) string { return "iceberg:" + tb.TempDir() }},
	{"postgres", func(tb testing.TB) string {
		return "iceberg:" + destinationtest.PostgresURL(tb) + "&warehouse=" + tb.TempDir()
	}},
}

func open(tb testing.TB, url, dataset string) destination.Destination {
	tb.Helper()
	d, err := destination.Open(context.Background(), url, dataset)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

func TestConformance(t *testing.T) {
	for _, c := range catalogs {
		t.Run(c.name, func(t *testing.T) {
			destinationtest.Run(t, func(t *testing.T, dataset string) destination.Destination {
				return open(t, c.url(t), dataset)
			}, destinationtest.Caps{Merge: true, IsolatedRead: true})
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, c := range catalogs {
		b.Run(c.name, func(b *testing.B) {
			destinationtest.BenchmarkWrite(b, func(b *testing.B, dataset string) destination.Destination {
				return open(b, c.url(b), dataset)
			})
		})
	}
}
