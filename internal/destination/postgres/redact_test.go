package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/restload/restload/internal/destination"
)

// TestOpenErrorHidesPassword: a failed connection names the server but
// never the password.
func TestOpenErrorHidesPassword(t *testing.T) {
	for _, url := range []string{
		"postgres://loader:s3cret-pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=2",
		"postgresql://loader:s3cret-pw@127.0.0.1:1/db?sslmode=bogus",
	} {
		_, err := destination.Open(context.Background(), url, "ds")
		if err == nil {
			t.Fatalf("Open(%s) succeeded", url)
		}
		if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("error leaks the password: %v", err)
		}
		if !strings.Contains(err.Error(), "loader:xxxxx@127.0.0.1:1") {
			t.Errorf("error %q does not name the server", err)
		}
	}
}
