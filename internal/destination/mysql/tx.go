package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/go-sql-driver/mysql"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/sqlgen"
	"github.com/restload/restload/internal/schema"
)

// tx is one load on one session of its own (see the package comment): the
// rows of each Write wait in a temporary table, and Commit replays the
// load. The session is closed when the load ends, which drops whatever
// temporary table and lock it still holds.
type tx struct {
	m       *MySQL
	conn    *sql.Conn
	changes []schema.Change // applied at Commit, in order
	ops     []*op           // replayed at Commit, in order
	staged  map[string][]*op
	temps   int // temporary tables made
	dbMade  bool
	locked  bool // the dataset's lock (Serialize)
	done    bool
}

// op is one Write or Merge of the load.
type op struct {
	table    *schema.Table // the table as written (its columns then)
	mode     destination.Mode
	temp     string // the temporary table holding the rows, qualified and quoted
	rows     int64
	merge    bool // a Merge of table with children
	children []*schema.Table
	keys     []*op // for a merge: the root's staged writes
	// staged holds, for a merge that stages rows whole (insert-only,
	// scd2), the children's staged writes by table.
	staged map[string][]*op
	stmts  []sqlgen.Stmt // that merge's statements, made by Merge
}

var (
	_ destination.Tx         = (*tx)(nil)
	_ destination.Serializer = (*tx)(nil)
)

// Begin opens a session for one load. Its lock waits are bounded by the
// lock timeout (SetLockWait), and the server's idle timeout is lifted for
// it: the session is idle while resources extract, and its temporary
// tables would go with it.
func (m *MySQL) Begin(ctx context.Context) (destination.Tx, error) {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return nil, m.sql.Errorf("", "begin", err)
	}
	secs := strconv.FormatInt(max(int64(m.lw.TimeoutOrDefault().Seconds()), 1), 10)
	if _, err := conn.ExecContext(ctx, "SET SESSION lock_wait_timeout = "+secs+", innodb_lock_wait_timeout = "+secs+
		", wait_timeout = 31536000"); err != nil {
		discard(conn)
		return nil, m.sql.Errorf("", "begin", err)
	}
	return &tx{m: m, conn: conn, staged: map[string][]*op{}}, nil
}

// discard closes conn's session instead of returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// exec runs one statement of the load, turning a lock wait that ran out
// into a destination.LockTimeoutError naming table.
func (t *tx) exec(ctx context.Context, s sqlgen.Stmt) error {
	if _, err := t.conn.ExecContext(ctx, s.SQL); err != nil {
		return t.m.sql.Errorf(s.Table, s.Op, t.m.lockTimeoutError(s.Table, err))
	}
	return nil
}

// Apply checks changes and keeps them for Commit, which makes the
// dataset's database, tables and columns where they do not exist yet.
func (t *tx) Apply(ctx context.Context, changes []schema.Change) error {
	if t.done {
		return errDone
	}
	if err := t.m.sql.CheckNames(changes, checkTable, checkIdent); err != nil {
		return err
	}
	// The statements are made now so that a bad change fails here.
	if _, err := t.m.sql.Apply(changes); err != nil {
		return err
	}
	t.changes = append(t.changes, changes...)
	return nil
}

// readers numbers the reader handlers of LOAD DATA LOCAL, unique in the
// process (the driver's registry is global).
var readers atomic.Int64

// Write loads rows into a new temporary table with LOAD DATA LOCAL INFILE
// and keeps it for Commit, which copies it into tb (ModeAppend), replaces
// tb's rows with it (ModeReplace), or copies it for a Merge (ModeStage).
// Values are checked before they are sent: LOAD DATA LOCAL turns a value
// the server cannot store into a warning, not an error, and Write fails on
// any warning it leaves.
func (t *tx) Write(ctx context.Context, tb *schema.Table, mode destination.Mode, rows destination.RowSource) (int64, error) {
	if t.done {
		return 0, errDone
	}
	if err := checkTable(tb); err != nil {
		return 0, t.m.sql.Errorf("", "write", err)
	}
	if mode != destination.ModeAppend && mode != destination.ModeReplace && mode != destination.ModeStage {
		return 0, t.m.sql.Errorf(tb.Name, "write", fmt.Errorf("unknown write mode %d", mode))
	}
	conv, err := destination.NewRowConverter(tb.Columns, converterFor)
	if err != nil {
		return 0, t.m.sql.Errorf(tb.Name, "write", err)
	}
	defs := make([]string, len(tb.Columns))
	types := make([]schema.DataType, len(tb.Columns))
	for i, c := range tb.Columns {
		typ, err := t.m.sql.Dialect.Type(c)
		if err != nil {
			return 0, t.m.sql.Errorf(tb.Name, "write", err)
		}
		defs[i], types[i] = quote(c.Name)+" "+typ, c.Type
	}
	if !t.dbMade {
		// Temporary tables live in a database; this one is the dataset's.
		if err := t.exec(ctx, sqlgen.Stmt{Op: "create database", SQL: "CREATE DATABASE IF NOT EXISTS " + t.m.sql.SchemaName()}); err != nil {
			return 0, err
		}
		t.dbMade = true
	}
	t.temps++
	o := &op{table: tb.Clone(), mode: mode, temp: t.m.sql.Table("_restload_tmp_" + strconv.Itoa(t.temps))}
	create := fmt.Sprintf("CREATE TEMPORARY TABLE %s (%s)", o.temp, strings.Join(defs, ", "))
	if t.m.tempEngine != "" {
		create += " ENGINE=" + t.m.tempEngine
	}
	if err := t.exec(ctx, sqlgen.Stmt{Table: tb.Name, Op: "write", SQL: create}); err != nil {
		return 0, err
	}
	r := &rowReader{rows: rows, conv: conv, types: types, out: make([]any, len(tb.Columns))}
	handler := "restload-" + strconv.FormatInt(readers.Add(1), 10)
	mysql.RegisterReaderHandler(handler, func() io.Reader { return r })
	defer mysql.DeregisterReaderHandler(handler)
	load := fmt.Sprintf("LOAD DATA LOCAL INFILE 'Reader::%s' INTO TABLE %s CHARACTER SET utf8mb4 (%s)", handler, o.temp, t.m.sql.ColumnList(tb.Columns))
	_, err = t.conn.ExecContext(ctx, load)
	if r.err != nil {
		return conv.Rows(), t.m.sql.Errorf(tb.Name, "write", r.err)
	}
	if err != nil {
		return conv.Rows(), t.m.sql.Errorf(tb.Name, "write", localInfileError(err))
	}
	if err := t.warnings(ctx); err != nil {
		return conv.Rows(), t.m.sql.Errorf(tb.Name, "write", err)
	}
	o.rows = conv.Rows()
	t.ops = append(t.ops, o)
	if mode == destination.ModeStage {
		t.staged[tb.Name] = append(t.staged[tb.Name], o)
	}
	return o.rows, nil
}

// localInfileError explains the server's refusal of LOAD DATA LOCAL.
func localInfileError(err error) error {
	switch errNumber(err) {
	case errLocalInfile1, errLocalInfile2, errLocalInfile3:
		return fmt.Errorf("%w: the server refuses LOAD DATA LOCAL INFILE, which restload loads rows with: enable it with SET GLOBAL local_infile = 1 (or local_infile=ON under [mysqld] in the server's configuration); MariaDB enables it by default, MySQL 8 does not", err)
	}
	return err
}

// warnings fails when the last statement left warnings (notes, such as a
// decimal rounded to its scale, pass): LOAD DATA LOCAL stores a value it
// cannot take as zero or truncated, with a warning.
func (t *tx) warnings(ctx context.Context) error {
	rows, err := t.conn.QueryContext(ctx, "SHOW WARNINGS LIMIT 3")
	if err != nil {
		return err
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var level, msg string
		var code int
		if err := rows.Scan(&level, &code, &msg); err != nil {
			return err
		}
		if !strings.EqualFold(level, "note") {
			msgs = append(msgs, fmt.Sprintf("%s %d: %s", level, code, msg))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(msgs) > 0 {
		return fmt.Errorf("the server could not store every value as given: %s", strings.Join(msgs, "; "))
	}
	return nil
}

// Merge keeps, for each primary key of the rows staged for root, the one
// with the greatest _dlt_id (byte-wise) and removes every other row of
// root with that key, with its children, at Commit; see destination.Tx.
// The rows themselves go straight in, as in PostgreSQL.
func (t *tx) Merge(ctx context.Context, root *schema.Table, children []*schema.Table) error {
	if t.done {
		return errDone
	}
	keys := t.staged[root.Name]
	delete(t.staged, root.Name)
	if len(keys) == 0 || len(root.PrimaryKey()) == 0 && !schema.StagesRows(root) {
		return nil
	}
	if _, err := sqlgen.KeyColumns(root); err != nil {
		return t.m.sql.Errorf(root.Name, "merge", err)
	}
	for _, c := range children {
		if c.Column(schema.ColRootID) == nil {
			return t.m.sql.Errorf(c.Name, "merge", fmt.Errorf("child table lacks the %s column", schema.ColRootID))
		}
	}
	var cc []*schema.Table
	for _, c := range children {
		cc = append(cc, c.Clone())
	}
	o := &op{table: root.Clone(), merge: true, children: cc, keys: keys}
	if schema.StagesRows(root) {
		o.staged = map[string][]*op{}
		for _, c := range children {
			o.staged[c.Name] = t.staged[c.Name]
			delete(t.staged, c.Name)
		}
		stmts, err := t.stagedSQL(o)
		if err != nil {
			return err
		}
		o.stmts = stmts
	}
	t.ops = append(t.ops, o)
	return nil
}

// Serialize takes the dataset's lock (see destination.Serializer), waiting
// for it as SetLockWait says; the end of the load releases it.
func (t *tx) Serialize(ctx context.Context) error {
	if t.done {
		return errDone
	}
	if t.locked {
		return nil
	}
	if err := t.m.lockDataset(ctx, t.conn); err != nil {
		return err
	}
	t.locked = true
	return nil
}

// Commit replays the load under the dataset's lock: the schema changes
// (each of which MySQL commits by itself; they are idempotent), then
// every write and merge in one transaction.
func (t *tx) Commit(ctx context.Context) error {
	if t.done {
		return errDone
	}
	defer t.end()
	if err := t.Serialize(ctx); err != nil {
		return err
	}
	t.done = true
	if len(t.changes) > 0 {
		stmts, err := t.m.sql.Apply(t.changes)
		if err != nil {
			return err
		}
		for _, s := range stmts {
			if err := t.ddl(ctx, s); err != nil {
				return err
			}
		}
	}
	if len(t.ops) == 0 {
		return nil
	}
	stx, err := t.conn.BeginTx(ctx, nil)
	if err != nil {
		return t.m.sql.Errorf("", "commit", err)
	}
	for _, o := range t.ops {
		for _, s := range t.replay(o) {
			if _, err := stx.ExecContext(ctx, s.SQL); err != nil {
				stx.Rollback()
				return t.m.sql.Errorf(s.Table, s.Op, t.m.lockTimeoutError(s.Table, err))
			}
		}
	}
	if err := stx.Commit(); err != nil {
		return t.m.sql.Errorf("", "commit", err)
	}
	return nil
}

// ddl runs one statement of sqlgen.Dataset.Apply. MySQL has no ADD COLUMN
// IF NOT EXISTS (MariaDB has); a column that exists is left alone.
func (t *tx) ddl(ctx context.Context, s sqlgen.Stmt) error {
	s.SQL = strings.Replace(s.SQL, " ADD COLUMN IF NOT EXISTS ", " ADD COLUMN ", 1)
	err := t.exec(ctx, s)
	if err != nil && errNumber(err) == errDupColumn {
		return nil
	}
	return err
}

// replay returns the statements that apply o to the dataset's tables.
func (t *tx) replay(o *op) []sqlgen.Stmt {
	name := o.table.Name
	target := t.m.sql.Table(name)
	if !o.merge {
		var stmts []sqlgen.Stmt
		if o.mode == destination.ModeStage && schema.StagesRows(o.table) {
			return nil // its merge reads the rows (stagedSQL)
		}
		if o.mode == destination.ModeReplace {
			stmts = append(stmts, sqlgen.Stmt{Table: name, Op: "replace", SQL: "DELETE FROM " + target})
		}
		if o.rows > 0 {
			cols := t.m.sql.ColumnList(o.table.Columns)
			stmts = append(stmts, sqlgen.Stmt{Table: name, Op: "write", SQL: fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", target, cols, cols, o.temp)})
		}
		return stmts
	}
	if schema.StagesRows(o.table) {
		return o.stmts
	}
	return t.mergeSQL(o)
}

// mergeSQL is a merge's statements: the winner of each staged key (its
// greatest staged _dlt_id) into one temporary table, every other row of
// the root with that key into another, then those rows and their children
// deleted. Both temporary tables are indexed: the root is scanned once and
// each of its rows looked up.
func (t *tx) mergeSQL(o *op) []sqlgen.Stmt {
	root := o.table
	pk := root.PrimaryKey()
	keyCols := make([]string, len(pk))
	index := make([]string, len(pk))
	on := make([]string, len(pk))
	for i, k := range pk {
		keyCols[i] = quote(k)
		index[i] = quote(k)
		if c := root.Column(k); c != nil && (c.Type == schema.Text || c.Type == schema.JSON) {
			index[i] += "(64)" // a prefix: TEXT cannot be indexed whole
		}
		on[i] = fmt.Sprintf("w.%s = t.%s", quote(k), quote(k))
	}
	id := quote(schema.ColID)
	// The merge hints' columns, where any part staged them, decide too.
	last := o.keys[len(o.keys)-1].table.Columns
	del, sort := sqlgen.HintColumns(root, last)
	var hints []string
	for _, c := range []*schema.Column{del, sort} {
		if c != nil && !slices.Contains(pk, c.Name) {
			hints = append(hints, c.Name)
		}
	}
	staged := make([]string, len(o.keys))
	for i, k := range o.keys {
		cols := slices.Clone(keyCols)
		for _, h := range hints {
			if k.table.Column(h) != nil {
				cols = append(cols, quote(h))
			} else {
				cols = append(cols, "NULL AS "+quote(h))
			}
		}
		staged[i] = fmt.Sprintf("SELECT %s, %s FROM %s", strings.Join(cols, ", "), id, k.temp)
	}
	winners, losers := t.m.sql.Table("_restload_winners"), t.m.sql.Table("_restload_losers")
	win := fmt.Sprintf("SELECT %s, max(%s) AS _restload_winner FROM (%s) s GROUP BY %s",
		strings.Join(keyCols, ", "), id, strings.Join(staged, " UNION ALL "), strings.Join(keyCols, ", "))
	lose := "t." + id + " <> w._restload_winner"
	if del != nil || sort != nil {
		var deletes bool
		win, deletes = t.m.sql.Winners(root, "("+strings.Join(staged, " UNION ALL ")+") u", last)
		if deletes {
			lose = "(" + lose + " OR w._restload_deleted = 1)"
		}
	}
	sqls := []string{
		"DROP TEMPORARY TABLE IF EXISTS " + winners + ", " + losers,
		fmt.Sprintf("CREATE TEMPORARY TABLE %s (INDEX (%s)) AS %s", winners, strings.Join(index, ", "), win),
		fmt.Sprintf("CREATE TEMPORARY TABLE %s (INDEX (%s(64))) AS SELECT t.%s FROM %s t JOIN %s w ON %s WHERE %s",
			losers, id, id, t.m.sql.Table(root.Name), winners, strings.Join(on, " AND "), lose),
	}
	for _, c := range o.children {
		sqls = append(sqls, fmt.Sprintf("DELETE c FROM %s c JOIN %s l ON c.%s = l.%s", t.m.sql.Table(c.Name), losers, quote(schema.ColRootID), id))
	}
	sqls = append(sqls,
		fmt.Sprintf("DELETE t FROM %s t JOIN %s l ON t.%s = l.%s", t.m.sql.Table(root.Name), losers, id, id),
		"DROP TEMPORARY TABLE "+winners+", "+losers)
	stmts := make([]sqlgen.Stmt, len(sqls))
	for i, s := range sqls {
		stmts[i] = sqlgen.Stmt{Table: root.Name, Op: "merge", SQL: s}
	}
	return stmts
}

// end ends the load's session: its temporary tables and lock go with it.
func (t *tx) end() {
	t.done = true
	if t.conn == nil {
		return
	}
	if t.locked {
		_, _ = t.conn.ExecContext(context.Background(), "DO RELEASE_LOCK(?)", t.m.lockName())
	}
	discard(t.conn)
	t.conn = nil
}

// Rollback abandons the load; after Commit or Rollback it does nothing.
// Nothing of the load reached its tables.
func (t *tx) Rollback(context.Context) error {
	if t.conn == nil {
		return nil
	}
	t.end()
	return nil
}

// stagedSQL is the statements of a merge whose rows were staged whole
// (insert-only, scd2; see sqlgen.Dataset.MergeStaged): each table's staged
// writes are gathered into one temporary table, in the table's latest
// columns, which the merge reads.
func (t *tx) stagedSQL(o *op) ([]sqlgen.Stmt, error) {
	ds := t.m.sql
	var stmts []sqlgen.Stmt
	gathered := map[string]string{}
	cols := map[string][]*schema.Column{}
	gather := func(name string, writes []*op) {
		if len(writes) == 0 {
			return
		}
		last := writes[len(writes)-1].table.Columns
		defs := make([]string, len(last))
		for i, c := range last {
			typ, _ := ds.Dialect.Type(c) // Write made these types already
			defs[i] = quote(c.Name) + " " + typ
		}
		t.temps++
		into := ds.Table("_restload_stage_" + strconv.Itoa(t.temps))
		stmts = append(stmts, sqlgen.Stmt{Table: name, Op: "merge", SQL: fmt.Sprintf("CREATE TEMPORARY TABLE %s (%s)", into, strings.Join(defs, ", "))})
		for _, w := range writes {
			list := ds.ColumnList(w.table.Columns)
			stmts = append(stmts, sqlgen.Stmt{Table: name, Op: "merge", SQL: fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", into, list, list, w.temp)})
		}
		gathered[name], cols[name] = into, last
	}
	gather(o.table.Name, o.keys)
	for _, c := range o.children {
		gather(c.Name, o.staged[c.Name])
	}
	scratch := sqlgen.Scratch{
		Create: func(name, query string) []string {
			return []string{"DROP TEMPORARY TABLE IF EXISTS " + ds.Table(name), "CREATE TEMPORARY TABLE " + ds.Table(name) + " AS " + query}
		},
		Name: ds.Table,
		Drop: func(name string) string { return "DROP TEMPORARY TABLE IF EXISTS " + ds.Table(name) },
	}
	merge, err := ds.MergeStaged(o.table, o.children, func(table string) (string, []*schema.Column) { return gathered[table], cols[table] }, scratch)
	if err != nil {
		return nil, err
	}
	return append(stmts, merge...), nil
}
