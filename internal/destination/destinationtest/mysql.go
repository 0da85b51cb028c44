package destinationtest

import (
	"context"
	"database/sql"
	"testing"

	"github.com/go-sql-driver/mysql"

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
	return serverURL(tb, "RESTLOAD_TEST_MYSQL", DefaultMySQLURL, "mysql",
		"start MariaDB on 127.0.0.1:3306 (root without password, database test)", func(ctx context.Context, url string) error {
			db, err := openMySQL(url)
			if err != nil {
				return err
			}
			defer db.Close()
			return db.PingContext(ctx)
		})
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
