package files_test

import (
	"context"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	_ "github.com/restload/restload/internal/destination/files"
)

func opener(scheme string) func(tb testing.TB, dataset string) destination.Destination {
	return func(tb testing.TB, dataset string) destination.Destination {
		tb.Helper()
		d, err := destination.Open(context.Background(), scheme+":"+tb.TempDir(), dataset)
		if err != nil {
			tb.Fatalf("open: %v", err)
		}
		tb.Cleanup(func() { d.Close() })
		return d
	}
}

func TestConformance(t *testing.T) {
	for _, scheme := range []string{"parquet", "jsonl"} {
		t.Run(scheme, func(t *testing.T) {
			open := opener(scheme)
			destinationtest.Run(t, func(t *testing.T, dataset string) destination.Destination {
				return open(t, dataset)
			}, destinationtest.Caps{Merge: false, IsolatedRead: true})
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, scheme := range []string{"parquet", "jsonl"} {
		b.Run(scheme, func(b *testing.B) {
			open := opener(scheme)
			destinationtest.BenchmarkWrite(b, func(b *testing.B, dataset string) destination.Destination {
				return open(b, dataset)
			})
		})
	}
}
