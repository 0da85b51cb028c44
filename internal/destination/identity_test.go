package destination

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestIdentity(t *testing.T) {
	abs, _ := filepath.Abs("data.duckdb")
	for _, c := range []struct{ a, b string }{
		{"postgres://u:secret@db:5432/x?sslmode=disable", "postgresql://u:other@db:5432/x"},
		{"duckdb:./data.duckdb?memory_limit=1GB", "duckdb:" + abs},
		{"mariadb://root:pw@db:3306/test?tls=true", "mysql://root@db:3306/test"},
		{"mysql://root@db/test", "mysql://root@db:3306/test"},
	} {
		if Identity(c.a) != Identity(c.b) {
			t.Errorf("Identity(%q) = %q, Identity(%q) = %q; want the same place", c.a, Identity(c.a), c.b, Identity(c.b))
		}
	}
	for _, url := range []string{"postgres://u:secret@db/x?password=secret", "postgres://u:secret@db/x?sslmode=disable&password=secret#secret"} {
		if id := Identity(url); strings.Contains(id, "secret") {
			t.Errorf("Identity(%q) = %q holds the password", url, id)
		}
	}
	if Identity("postgres://db/x") == Identity("postgres://db/y") || Identity("duckdb:a.duckdb") == Identity("duckdb:b.duckdb") {
		t.Error("different places have one identity")
	}
}
