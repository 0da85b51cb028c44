package iceberg_test

import (
	"context"
	neturl "net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

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
		u := destinationtest.PostgresURL(tb)
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		return "iceberg:" + u + sep + "warehouse=" + tb.TempDir()
	}},
}

func open(tb testing.TB, url, dataset string) destination.Destination {
	tb.Helper()
	d, err := destination.Open(context.Background(), url, dataset)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { d.Close() })
	if pg, ok := strings.CutPrefix(url, "iceberg:postgres"); ok {
		forgetNamespace(tb, "postgres"+pg, dataset)
	}
	return d
}

// forgetNamespace removes dataset's rows from the SQL catalog's tables when
// the test ends (its files go with the test's temporary folder).
func forgetNamespace(tb testing.TB, url, dataset string) {
	u, err := neturl.Parse(url)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Del("warehouse")
	u.RawQuery = q.Encode()
	tb.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, u.String())
		if err != nil {
			tb.Errorf("forget namespace %s: %v", dataset, err)
			return
		}
		defer conn.Close(ctx)
		for _, q := range []string{
			"DELETE FROM iceberg_tables WHERE table_namespace = $1",
			"DELETE FROM iceberg_namespace_properties WHERE namespace = $1",
		} {
			if _, err := conn.Exec(ctx, q, dataset); err != nil {
				tb.Errorf("forget namespace %s: %v", dataset, err)
			}
		}
	})
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
