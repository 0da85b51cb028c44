// Package mysql is the MySQL and MariaDB destination: a dataset is a
// database (CREATE DATABASE IF NOT EXISTS), rows go in with LOAD DATA
// LOCAL INFILE, streamed from memory through the driver's reader handler
// (no file is written).
//
// URLs: mysql://user:password@host:port/database?param=value (also
// mariadb://...). The port defaults to 3306; the database in the URL is
// only where the connection starts (datasets are databases of their own).
// Query parameters are those of github.com/go-sql-driver/mysql (tls,
// timeout, ...); the session's time zone, SQL mode and the local infile
// handler are restload's own.
//
// MySQL commits the open transaction at every CREATE or ALTER TABLE. So a
// load writes its rows into TEMPORARY tables of its own session (which
// statements do not commit), and Commit replays the load: the schema
// changes first, then, in one transaction, each write copied from its
// temporary table into its table, replaces, and merges. A load that fails
// or rolls back leaves nothing behind, not even its new tables, and a
// column added to a table the load already wrote is no problem.
//
// Text is LONGTEXT in utf8mb4 with a binary NO PAD collation (MariaDB's
// utf8mb4_nopad_bin, MySQL 8's utf8mb4_0900_bin; utf8mb4_bin, which pads,
// on older servers), so keys compare byte-wise ('a' and 'a ' and 'A' are
// three keys) and _dlt_id orders as in every other destination. Rows wait
// for Commit in Aria or MyISAM temporary tables (no undo logging). Tables get no keys or NOT NULL
// constraints, as in PostgreSQL.
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	neturl "net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/sqlgen"
	"github.com/restload/restload/internal/schema"
)

func init() {
	open := func(ctx context.Context, url, dataset string) (destination.Destination, error) {
		return Open(ctx, url, dataset)
	}
	destination.Register("mysql", open)
	destination.Register("mariadb", open)
}

// MySQL is a MySQL or MariaDB server opened for one dataset. Read is safe
// to call while a Tx is open and sees only committed rows.
type MySQL struct {
	db      *sql.DB
	name    string // "mysql <redacted url>", for errors
	dataset string
	sql     *sqlgen.Dataset
	lw      destination.LockWait // see SetLockWait
	// tempEngine is the engine of the temporary tables rows wait in (Aria,
	// MyISAM), or "" for the server's default.
	tempEngine string
}

var (
	_ destination.Destination     = (*MySQL)(nil)
	_ destination.Counter         = (*MySQL)(nil)
	_ destination.MergeStrategist = (*MySQL)(nil)
)

// newDialect is MySQL's SQL for sqlgen, with text in collation (a binary
// collation of utf8mb4).
func newDialect(collation string) *sqlgen.Dialect {
	return &sqlgen.Dialect{
		Quote: quote,
		Types: map[schema.DataType]string{
			schema.BigInt: "BIGINT", schema.Double: "DOUBLE", schema.Bool: "BOOLEAN",
			schema.Text:      "LONGTEXT CHARACTER SET utf8mb4 COLLATE " + collation,
			schema.Timestamp: "DATETIME(6)", schema.Date: "DATE", schema.JSON: "JSON",
			schema.Time: "TIME(6)", schema.Binary: "LONGBLOB",
		},
		Decimal:  "DECIMAL(%d,%d)",
		NotNull:  true, // as dlt makes tables elsewhere; no UNIQUE: a LONGTEXT has no index
		TextCast: "%s", // JSON and DECIMAL are read as their text anyway
	}
}

// quote quotes an identifier in backticks, doubling any inside.
func quote(id string) string { return "`" + strings.ReplaceAll(id, "`", "``") + "`" }

// Config parses url (mysql://user:password@host:port/database?params) into
// the driver's configuration, with restload's session settings.
func Config(url string) (*mysql.Config, error) {
	u, err := neturl.Parse(url)
	if err != nil || (u.Scheme != "mysql" && u.Scheme != "mariadb") || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("invalid connection URL: want mysql://user:password@host:port/database")
	}
	host := u.Host
	if u.Port() == "" {
		host = strings.TrimSuffix(host, ":") + ":3306"
	}
	db := strings.TrimPrefix(u.Path, "/")
	if strings.Contains(db, "/") {
		return nil, errors.New("invalid connection URL: the path is one database name")
	}
	cfg, err := mysql.ParseDSN("tcp(" + host + ")/" + db + "?" + u.RawQuery)
	if err != nil {
		// The driver's errors can quote the query, which may hold secrets.
		return nil, errors.New("invalid connection URL parameters: see github.com/go-sql-driver/mysql for those it takes")
	}
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.Loc, cfg.ParseTime = time.UTC, false
	cfg.AllowAllFiles = false // only restload's reader handlers
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	// Times are written and read in UTC; strict mode turns a bad value in
	// an INSERT into an error (LOAD DATA LOCAL only warns: see Write).
	cfg.Params["time_zone"] = "'+00:00'"
	cfg.Params["sql_mode"] = "'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'"
	return cfg, nil
}

// Open connects to the server at url (checking it answers) for dataset. The
// dataset's database is created by the first load, not here.
func Open(ctx context.Context, url, dataset string) (*MySQL, error) {
	// The query is left out of errors: it may hold secrets (tls keys).
	noQuery, _, _ := strings.Cut(url, "?")
	name := "mysql " + destination.Redact(noQuery)
	if dataset == "" {
		return nil, fmt.Errorf("%s: open: empty dataset name", name)
	}
	if err := checkIdent("dataset", dataset); err != nil {
		return nil, fmt.Errorf("%s: open: %w", name, err)
	}
	cfg, err := Config(url)
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w", name, err)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: open: invalid connection URL", name)
	}
	db := sql.OpenDB(conn)
	db.SetConnMaxIdleTime(time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var collation string
	// The NO PAD binary collation of utf8mb4: MariaDB's, MySQL 8's, or
	// the PAD SPACE one of older servers.
	err = db.QueryRowContext(pctx, `SELECT COLLATION_NAME FROM information_schema.COLLATIONS
		WHERE COLLATION_NAME IN ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin', 'utf8mb4_bin')
		ORDER BY COLLATION_NAME = 'utf8mb4_bin', COLLATION_NAME LIMIT 1`).Scan(&collation)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: connect: %w", name, err)
	}
	// Rows wait for Commit in temporary tables of an engine without undo
	// logging where the server has one: inserting into them took a third
	// of the time InnoDB took (MariaDB 10.11, 300,000 rows).
	var engine sql.NullString
	err = db.QueryRowContext(pctx, `SELECT ENGINE FROM information_schema.ENGINES
		WHERE ENGINE IN ('Aria', 'MyISAM') AND SUPPORT IN ('YES', 'DEFAULT') ORDER BY ENGINE = 'MyISAM' LIMIT 1`).Scan(&engine)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		db.Close()
		return nil, fmt.Errorf("%s: connect: %w", name, err)
	}
	m := &MySQL{db: db, name: name, dataset: dataset, tempEngine: engine.String}
	m.sql = &sqlgen.Dataset{Dialect: newDialect(collation), Schema: []string{dataset}, Name: name}
	return m, nil
}

// Close closes the connection pool. Any open Tx must be finished first.
func (m *MySQL) Close() error { return m.db.Close() }

// MySQL's error numbers that restload tells apart.
const (
	errLockWaitTimeout = 1205 // ER_LOCK_WAIT_TIMEOUT: row and metadata locks
	errDupColumn       = 1060 // ER_DUP_FIELDNAME
	errNoDatabase      = 1049 // ER_BAD_DB_ERROR
	errNoTable         = 1146 // ER_NO_SUCH_TABLE
	errLocalInfile1    = 1148 // ER_NOT_ALLOWED_COMMAND
	errLocalInfile2    = 3948 // ER_CLIENT_LOCAL_FILES_DISABLED (MySQL 8)
	errLocalInfile3    = 4166 // ER_LOAD_INFILE_CAPABILITY_DISABLED (MariaDB)
)

func errNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// Count returns table's number of committed rows (destination.Counter).
func (m *MySQL) Count(ctx context.Context, table string) (int64, error) {
	if err := checkIdent("table", table); err != nil {
		return 0, m.sql.Errorf(table, "count", err)
	}
	var n int64
	if err := m.db.QueryRowContext(ctx, "SELECT count(*) FROM "+m.sql.Table(table)).Scan(&n); err != nil {
		if e := errNumber(err); e == errNoTable || e == errNoDatabase {
			err = destination.ErrNoTable
		}
		return 0, m.sql.Errorf(table, "count", err)
	}
	return n, nil
}

// kind is how Read turns a column's bytes into a value.
type kind int

const (
	kindText kind = iota // text, JSON, decimal: string
	kindInt
	kindFloat
	kindBool
	kindTime
	kindDate
)

func kindOf(dataType, columnType string) kind {
	switch strings.ToLower(dataType) {
	case "tinyint":
		if strings.HasPrefix(strings.ToLower(columnType), "tinyint(1)") {
			return kindBool
		}
		return kindInt
	case "smallint", "mediumint", "int", "bigint", "year":
		return kindInt
	case "double", "float", "real":
		return kindFloat
	case "datetime", "timestamp":
		return kindTime
	case "date":
		return kindDate
	}
	return kindText
}

func (k kind) value(b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	s := string(b)
	switch k {
	case kindInt:
		return strconv.ParseInt(s, 10, 64)
	case kindFloat:
		return strconv.ParseFloat(s, 64)
	case kindBool:
		return s != "0", nil
	case kindTime:
		return time.ParseInLocation("2006-01-02 15:04:05.999999", s, time.UTC)
	case kindDate:
		return time.ParseInLocation(time.DateOnly, s, time.UTC)
	}
	return s, nil
}

// Read calls fn for each row of table in _dlt_id order (byte-wise), or by
// every column when the table has no _dlt_id. JSON and decimal values come
// back as strings, timestamps as time.Time in UTC, dates as time.Time.
func (m *MySQL) Read(ctx context.Context, table string, fn func(row map[string]any) error) error {
	if err := checkIdent("table", table); err != nil {
		return m.sql.Errorf(table, "read", err)
	}
	rows, err := m.db.QueryContext(ctx, `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, m.dataset, table)
	if err != nil {
		return m.sql.Errorf(table, "read", err)
	}
	var cols []sqlgen.ReadColumn
	var kinds []kind
	for rows.Next() {
		var name, dataType, columnType string
		if err := rows.Scan(&name, &dataType, &columnType); err != nil {
			rows.Close()
			return m.sql.Errorf(table, "read", err)
		}
		cols = append(cols, sqlgen.ReadColumn{Name: name})
		kinds = append(kinds, kindOf(dataType, columnType))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return m.sql.Errorf(table, "read", err)
	}
	if len(cols) == 0 {
		return m.sql.Errorf(table, "read", destination.ErrNoTable)
	}
	data, err := m.db.QueryContext(ctx, m.sql.Select(table, cols))
	if err != nil {
		if e := errNumber(err); e == errNoTable || e == errNoDatabase {
			err = destination.ErrNoTable
		}
		return m.sql.Errorf(table, "read", err)
	}
	defer data.Close()
	raw := make([]sql.RawBytes, len(cols))
	dest := make([]any, len(cols))
	for i := range raw {
		dest[i] = &raw[i]
	}
	for data.Next() {
		if err := data.Scan(dest...); err != nil {
			return m.sql.Errorf(table, "read", err)
		}
		row := make(map[string]any, len(cols))
		for i, c := range cols {
			v, err := kinds[i].value(raw[i])
			if err != nil {
				return m.sql.Errorf(table, "read", fmt.Errorf("column %q: %w", c.Name, err))
			}
			row[c.Name] = v
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := data.Err(); err != nil {
		return m.sql.Errorf(table, "read", err)
	}
	return nil
}

// maxIdent is MySQL's limit on the names of databases, tables and
// columns, in characters.
const maxIdent = 64

// checkIdent refuses a name MySQL would refuse or mangle, with a message
// saying why: longer than 64 characters, ending in a space, or holding NUL.
// restload's own names are normalized shorter; this catches names from
// elsewhere (a dataset given on the command line, a hand-made schema).
func checkIdent(what, id string) error {
	if n := utf8.RuneCountInString(id); n > maxIdent {
		return fmt.Errorf("%s name %q is %d characters; MySQL allows only %d: use a shorter name", what, id, n, maxIdent)
	}
	if strings.HasSuffix(id, " ") || strings.IndexByte(id, 0) >= 0 {
		return fmt.Errorf("%s name %q ends in a space or holds NUL, which MySQL does not allow in names", what, id)
	}
	return nil
}

// checkTable checks the names of a table and its columns.
func checkTable(tb *schema.Table) error {
	if err := checkIdent("table", tb.Name); err != nil {
		return err
	}
	for _, c := range tb.Columns {
		if err := checkIdent("column", c.Name); err != nil {
			return err
		}
	}
	return nil
}

var errDone = errors.New("mysql: transaction already finished")

// MergeStrategies reports true: Merge does every merge strategy and hint
// (see sqlgen.MergeStaged and sqlgen.Dataset.Winners).
func (m *MySQL) MergeStrategies() bool { return true }
