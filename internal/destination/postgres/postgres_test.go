package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	_ "github.com/restload/restload/internal/destination/postgres"
)

// openDataset opens the test server for dataset and drops the dataset's
// schema when the test ends.
func openDataset(tb testing.TB, dataset string) destination.Destination {
	tb.Helper()
	url := destinationtest.PostgresURL(tb)
	ctx := context.Background()
	d, err := destination.Open(ctx, url, dataset)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() {
		if err := d.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Errorf("drop dataset %s: %v", dataset, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{dataset}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop dataset %s: %v", dataset, err)
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
