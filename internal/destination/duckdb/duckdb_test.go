package duckdb_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	_ "github.com/restload/restload/internal/destination/duckdb"
)

func openFile(tb testing.TB, dataset string) destination.Destination {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "test.duckdb")
	d, err := destination.Open(context.Background(), "duckdb:"+path, dataset)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() {
		if err := d.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return d
}

func TestConformance(t *testing.T) {
	destinationtest.Run(t, func(t *testing.T, dataset string) destination.Destination {
		return openFile(t, dataset)
	}, destinationtest.Caps{Merge: true, IsolatedRead: true})
}

func TestConformanceInMemory(t *testing.T) {
	destinationtest.Run(t, func(t *testing.T, dataset string) destination.Destination {
		d, err := destination.Open(context.Background(), "duckdb::memory:", dataset)
		if err != nil {
			t.Fatalf("open in-memory: %v", err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}, destinationtest.Caps{Merge: true, IsolatedRead: true})
}

func BenchmarkWrite(b *testing.B) {
	destinationtest.BenchmarkWrite(b, func(b *testing.B, dataset string) destination.Destination {
		return openFile(b, dataset)
	})
}
