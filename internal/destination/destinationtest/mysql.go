package destinationtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/restload/restload/internal/destination"
	mysqldest "github.com/restload/restload/internal/destination/mysql"
)

// DefaultMySQLURL is the server MySQLURL tries when RESTLOAD_TEST_MYSQL is
// unset: the MariaDB these machines run.
const DefaultMySQLURL = "mysql://root@127.0.0.1:3306/test"

// MySQLURL returns the connection URL of the MySQL or MariaDB server tests
// load into: $RESTLOAD_TEST_MYSQL, or DefaultMySQLURL. It connects once to
// check; when the server is unreachable it skips the test, or fails it when
// CI=true (CI must provide the server).
func MySQLURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("RESTLOAD_TEST_MYSQL")
	from := "$RESTLOAD_TEST_MYSQL"
	if url == "" {
		url, from = DefaultMySQLURL, "the default URL"
	}
	db, err := openMySQL(url)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err != nil {
		msg := fmt.Sprintf("mysql unreachable at %s (%s): %v", destination.Redact(url), from, err)
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s; CI=true requires MySQL or MariaDB: start it before the tests", msg)
		}
		tb.Skipf("%s; to run this test start MariaDB on 127.0.0.1:3306 (root without password, database test) or set RESTLOAD_TEST_MYSQL", msg)
	}
	return url
}

// openMySQL opens a pool on the server of a mysql:// URL, the way the
// destination parses it.
func openMySQL(url string) (*sql.DB, error) {
	cfg, err := mysqldest.Config(url)
	if err != nil {
		return nil, err
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(conn), nil
}

// DropMySQLOnCleanup drops dataset's database from the MySQL server at
// url when the test ends, so test runs leave no datasets behind.
func DropMySQLOnCleanup(t testing.TB, url, dataset string) {
	t.Cleanup(func() {
		db, err := openMySQL(url)
		if err != nil {
			t.Errorf("drop dataset %s: %v", dataset, err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS `" + dataset + "`"); err != nil {
			t.Errorf("drop dataset %s: %v", dataset, err)
		}
	})
}
