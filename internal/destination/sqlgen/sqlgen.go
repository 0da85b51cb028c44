// Package sqlgen builds the SQL text that restload's SQL destinations
// (DuckDB, PostgreSQL) run to apply schema changes, replace a table's rows,
// stage the keys of rows to merge, merge them, and read a table back, from a small
// description of each database's dialect. Dataset writes the SQL of one
// dataset's tables; Staging, that of one transaction's staging tables and
// merges.
//
// It does no I/O: a destination runs the statements on its own connection,
// in its own transaction, and bulk-loads rows its own way (DuckDB's
// read_csv, PostgreSQL's COPY). The SQL is the same for every dialect except
// where a Dialect field says otherwise, so a change to merge semantics is
// made once.
package sqlgen

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// Dialect describes where a database's SQL differs from the SQL sqlgen
// writes by default.
type Dialect struct {
	// Quote quotes one identifier.
	Quote func(id string) string
	// Types names the database type of each column type except decimal.
	Types map[schema.DataType]string
	// Decimal is the format of a decimal type, taking precision and scale
	// ("DECIMAL(%d,%d)").
	Decimal string
	// Hinted names the type of a column whose precision or timezone hint
	// makes it another type than Types says (a bigint of 16 bits is a
	// smallint, a timestamp without time zone), as the destination's dlt
	// type mapper does; "" leaves the column to Types. Nil: the hints
	// change no type.
	Hinted func(c *schema.Column) (string, error)
	// NotNull writes NOT NULL on the columns that are not Nullable when a
	// table is created (primary keys, the _dlt_ columns), as dlt does.
	// Columns added to an existing table stay nullable: its rows have no
	// value for them.
	NotNull bool
	// Unique is the clause that follows a column with the unique hint when
	// a table is created ("UNIQUE": PostgreSQL, as dlt's create_indexes);
	// empty for none. _dlt_id's is plain; any other column's is checked at
	// commit (UniqueDeferred), since a merge writes new rows before it
	// removes the rows they replace.
	Unique, UniqueDeferred string
	// TempSchema qualifies the name of a temporary table: temp.main in
	// DuckDB, pg_temp in PostgreSQL.
	TempSchema string
	// OnCommitDrop creates temporary tables ON COMMIT DROP, after dropping
	// any an earlier statement left (PostgreSQL). Without it they are made
	// with CREATE OR REPLACE TEMP TABLE, and the destination drops those
	// left at commit (Staging.DropAll).
	OnCommitDrop bool
	// IDCollation follows _dlt_id wherever rows are ordered by it, so ids
	// compare byte-wise everywhere: ` COLLATE "C"` in PostgreSQL, empty
	// where byte order is the default.
	IDCollation string
	// TextCast is the format of a cast to text, for reading JSON and
	// decimal values back as strings ("CAST(%s AS VARCHAR)").
	TextCast string
}

// Type is the database type of column c.
func (d *Dialect) Type(c *schema.Column) (string, error) {
	if c.Type == schema.Decimal {
		p, s := DecimalSize(c)
		return fmt.Sprintf(d.Decimal, p, s), nil
	}
	if d.Hinted != nil {
		t, err := d.Hinted(c)
		if err != nil {
			return "", fmt.Errorf("column %q: %w", c.Name, err)
		}
		if t != "" {
			return t, nil
		}
	}
	if t, ok := d.Types[c.Type]; ok {
		return t, nil
	}
	return "", fmt.Errorf("column %q: unknown data type %q", c.Name, c.Type)
}

// IntegerSize is one integer type of a database and its size in bits.
type IntegerSize struct {
	Bits int
	Type string
}

// IntegerType is the type dlt's type mappers give a bigint column with a
// precision hint (its size in bits): the first of sizes (smallest first)
// that holds it. It returns "" when c has no precision, and an error when
// no size holds it.
func IntegerType(c *schema.Column, sizes []IntegerSize) (string, error) {
	if c.Precision == nil {
		return "", nil
	}
	for _, s := range sizes {
		if *c.Precision <= s.Bits {
			return s.Type, nil
		}
	}
	return "", fmt.Errorf("a bigint of precision %d (bits) fits no integer type here", *c.Precision)
}

// DecimalSize is a decimal column's precision and scale: its own, each
// defaulting as in dlt to 38 and 9.
func DecimalSize(c *schema.Column) (precision, scale int) {
	return schema.IntOf(c.Precision, 38), schema.IntOf(c.Scale, 9)
}

// QuoteDouble quotes an identifier in double quotes, doubling any inside.
func QuoteDouble(id string) string {
	return `"` + strings.ReplaceAll(id, `"`, `""`) + `"`
}

// Stmt is one statement to run, with the table ("" for the dataset) and
// operation its error should name.
type Stmt struct {
	Table, Op, SQL string
}

// Dataset writes the SQL for the tables of one dataset. It is read-only
// once made, and safe for concurrent use.
type Dataset struct {
	Dialect *Dialect
	// Schema is the dataset's schema, qualified as the database needs it
	// ([catalog, dataset] or [dataset]), unquoted.
	Schema []string
	// Name names the destination in errors ("duckdb ./data.duckdb").
	Name string
}

// Errorf wraps err, the failure of operation op on table ("" for the
// dataset itself), naming the destination, dataset and table.
func (ds *Dataset) Errorf(table, op string, err error) error {
	dataset := ds.Schema[len(ds.Schema)-1]
	if table == "" {
		return fmt.Errorf("%s: dataset %q: %s: %w", ds.Name, dataset, op, err)
	}
	return fmt.Errorf("%s: table %q.%q: %s: %w", ds.Name, dataset, table, op, err)
}

func (ds *Dataset) quote(id string) string { return ds.Dialect.Quote(id) }

// SchemaName is the quoted, qualified name of the dataset's schema.
func (ds *Dataset) SchemaName() string {
	parts := make([]string, len(ds.Schema))
	for i, p := range ds.Schema {
		parts[i] = ds.quote(p)
	}
	return strings.Join(parts, ".")
}

// Table is the quoted, qualified name of one of the dataset's tables.
func (ds *Dataset) Table(name string) string {
	return ds.SchemaName() + "." + ds.quote(name)
}

// StagingTable is the quoted, qualified name of table name's staging table.
func (ds *Dataset) StagingTable(name string) string {
	return ds.Dialect.TempSchema + "." + ds.quote(name)
}

// Apply returns the statements that create the dataset's schema, then each
// table or column in changes. They are idempotent: existing tables and
// columns are left alone.
func (ds *Dataset) Apply(changes []schema.Change) ([]Stmt, error) {
	return ds.apply(changes, true)
}

// OpCreateTable is the Op of the statements Apply makes to create a table.
const OpCreateTable = "create table"

// ApplyIDUniqueLater is Apply with the _dlt_id UNIQUE clause left out of
// each CREATE TABLE: AddIDUnique adds it once the table's first rows are
// in. PostgreSQL builds a unique index over rows already stored by sorting
// them, in about a third of the time it takes to keep the index up to date
// row by row during a COPY (3.2M rows: 0.9 s against 2.6 s). The index and
// its name come out the same.
func (ds *Dataset) ApplyIDUniqueLater(changes []schema.Change) ([]Stmt, error) {
	return ds.apply(changes, false)
}

// AddIDUnique is the statement that gives table name the _dlt_id UNIQUE
// constraint ApplyIDUniqueLater left out. PostgreSQL names it as it names
// the inline one (<table>__dlt_id_key).
func (ds *Dataset) AddIDUnique(name string) Stmt {
	return Stmt{name, "add unique " + schema.ColID,
		fmt.Sprintf("ALTER TABLE %s ADD %s (%s)", ds.Table(name), ds.Dialect.Unique, ds.quote(schema.ColID))}
}

// HasIDUnique reports whether tb has a _dlt_id column with the unique
// hint, the column ApplyIDUniqueLater leaves without its constraint.
func (ds *Dataset) HasIDUnique(tb *schema.Table) bool {
	if ds.Dialect.Unique == "" {
		return false
	}
	for _, c := range tb.Columns {
		if c.Name == schema.ColID && c.Unique {
			return true
		}
	}
	return false
}

func (ds *Dataset) apply(changes []schema.Change, idUnique bool) ([]Stmt, error) {
	stmts := []Stmt{{Op: "create schema", SQL: "CREATE SCHEMA IF NOT EXISTS " + ds.SchemaName()}}
	for _, c := range changes {
		if c.Table == nil {
			return nil, ds.Errorf("", "apply", fmt.Errorf("%s change without a table", c.Kind))
		}
		name := c.Table.Name
		switch c.Kind {
		case schema.AddTable:
			defs, err := ds.columnDefs(c.Table.Columns, true, idUnique)
			if err != nil {
				return nil, ds.Errorf(name, OpCreateTable, err)
			}
			stmts = append(stmts, Stmt{name, OpCreateTable, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", ds.Table(name), defs)})
		case schema.AddColumn:
			if c.Column == nil {
				return nil, ds.Errorf(name, "add column", errors.New("add_column change without a column"))
			}
			typ, err := ds.Dialect.Type(c.Column)
			if err != nil {
				return nil, ds.Errorf(name, "add column", err)
			}
			stmts = append(stmts, Stmt{name, "add column " + c.Column.Name,
				fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s", ds.Table(name), ds.quote(c.Column.Name), typ)})
		default:
			return nil, ds.Errorf(name, "apply", fmt.Errorf("unknown change kind %q", c.Kind))
		}
	}
	return stmts, nil
}

// columnDefs renders the column list of a CREATE TABLE, with the
// dialect's NOT NULL and UNIQUE clauses when constraints is set (a
// dataset's table, not a staging table); _dlt_id's UNIQUE only with
// idUnique.
func (ds *Dataset) columnDefs(cols []*schema.Column, constraints, idUnique bool) (string, error) {
	d := ds.Dialect
	defs := make([]string, len(cols))
	for i, c := range cols {
		typ, err := d.Type(c)
		if err != nil {
			return "", err
		}
		defs[i] = ds.quote(c.Name) + " " + typ
		if !constraints {
			continue
		}
		switch {
		case !c.Unique:
		case c.Name == schema.ColID && d.Unique != "":
			if idUnique {
				defs[i] += " " + d.Unique
			}
		case d.UniqueDeferred != "":
			defs[i] += " " + d.UniqueDeferred
		}
		if d.NotNull && !c.Nullable {
			defs[i] += " NOT NULL"
		}
	}
	return strings.Join(defs, ", "), nil
}

// ColumnList is the quoted, comma-separated names of cols.
func (ds *Dataset) ColumnList(cols []*schema.Column) string { return ds.columnList(cols) }

func (ds *Dataset) columnList(cols []*schema.Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = ds.quote(c.Name)
	}
	return strings.Join(names, ", ")
}

// ReadColumn is a column of a table being read, in the table's order.
type ReadColumn struct {
	Name string
	// AsText reads the value back as text (JSON, decimal).
	AsText bool
}

// Select is the query that reads table whole: its columns in order, in
// _dlt_id order (byte-wise) when it has that column, else ordered by every
// column, so reads are repeatable.
func (ds *Dataset) Select(table string, cols []ReadColumn) string {
	exprs := make([]string, len(cols))
	order := make([]string, len(cols))
	hasID := false
	for i, c := range cols {
		exprs[i] = ds.quote(c.Name)
		if c.AsText {
			exprs[i] = fmt.Sprintf(ds.Dialect.TextCast, exprs[i])
		}
		order[i] = strconv.Itoa(i + 1)
		hasID = hasID || c.Name == schema.ColID
	}
	if hasID {
		order = []string{ds.quote(schema.ColID) + ds.Dialect.IDCollation}
	}
	return fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", strings.Join(exprs, ", "), ds.Table(table), strings.Join(order, ", "))
}

// Staging keeps track of the staging tables of one transaction (which
// exist, with which columns) and writes the SQL that creates, merges and
// drops them. It is not safe for concurrent use.
type Staging struct {
	ds   *Dataset
	cols map[string][]*schema.Column
	// fresh holds the root tables whose every row was staged for a direct
	// merge since this transaction created them (see Created).
	fresh map[string]bool
}

// NewStaging starts tracking the staging tables of a transaction.
func (ds *Dataset) NewStaging() *Staging {
	return &Staging{ds: ds, cols: map[string][]*schema.Column{}, fresh: map[string]bool{}}
}

// Created tells s that this transaction created table name, so it held no
// row before. Until a write that is not a direct merge's staging, or the
// merge itself, the table's rows are exactly those whose keys its key
// staging table holds, and MergeDirect finds the losers among those keys
// alone instead of joining the whole (wide) table: the first load of a
// merge resource, usually its largest, merges at the cost of its keys.
func (s *Staging) Created(name string) { s.fresh[name] = true }

// Stage returns the statements that make sure tb's staging table exists
// with all of tb's columns, and counts them as run: the caller must run
// them all or abandon the transaction.
func (s *Staging) Stage(tb *schema.Table) ([]Stmt, error) {
	ds, d := s.ds, s.ds.Dialect
	have, ok := s.cols[tb.Name]
	if !ok {
		defs, err := ds.columnDefs(tb.Columns, false, false)
		if err != nil {
			return nil, ds.Errorf(tb.Name, "stage", err)
		}
		var stmts []Stmt
		if d.OnCommitDrop {
			stmts = append(stmts,
				Stmt{tb.Name, "stage", "DROP TABLE IF EXISTS " + ds.StagingTable(tb.Name)},
				Stmt{tb.Name, "stage", fmt.Sprintf("CREATE TEMP TABLE %s (%s) ON COMMIT DROP", ds.quote(tb.Name), defs)})
		} else {
			stmts = append(stmts, Stmt{tb.Name, "stage", fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s (%s)", ds.quote(tb.Name), defs)})
		}
		s.cols[tb.Name] = append([]*schema.Column(nil), tb.Columns...)
		return stmts, nil
	}
	var stmts []Stmt
	for _, c := range tb.Columns {
		if hasColumn(have, c.Name) {
			continue
		}
		typ, err := d.Type(c)
		if err != nil {
			return nil, ds.Errorf(tb.Name, "stage", err)
		}
		stmts = append(stmts, Stmt{tb.Name, "stage", fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", ds.StagingTable(tb.Name), ds.quote(c.Name), typ)})
		have = append(have, c)
	}
	s.cols[tb.Name] = have
	return stmts, nil
}

// Prepare returns the statements to run before rows are bulk-loaded into
// tb with mode: none to append, or to stage for a direct merge (the rows go
// into tb itself; see PrepareWrite and MergeDirect); a DELETE to replace (not
// TRUNCATE, so other sessions keep reading the old rows until the
// transaction commits).
func (s *Staging) Prepare(tb *schema.Table, mode destination.Mode) ([]Stmt, error) {
	switch mode {
	case destination.ModeAppend, destination.ModeStage:
		return nil, nil
	case destination.ModeReplace:
		return []Stmt{{tb.Name, "replace", "DELETE FROM " + s.ds.Table(tb.Name)}}, nil
	}
	return nil, s.ds.Errorf(tb.Name, "write", fmt.Errorf("unknown write mode %d", mode))
}

func hasColumn(cols []*schema.Column, name string) bool {
	for _, c := range cols {
		if c.Name == name {
			return true
		}
	}
	return false
}

// Drop returns the statements that drop the staging tables of tables,
// where they exist, and forgets them.
func (s *Staging) Drop(tables []*schema.Table) []Stmt {
	var stmts []Stmt
	for _, tb := range tables {
		if _, ok := s.cols[tb.Name]; !ok {
			continue
		}
		stmts = append(stmts, Stmt{tb.Name, "drop staging", "DROP TABLE IF EXISTS " + s.ds.StagingTable(tb.Name)})
		delete(s.cols, tb.Name)
	}
	return stmts
}

// DropAll returns the statements that drop every staging table still
// there, in name order, and forgets them.
func (s *Staging) DropAll() []Stmt {
	names := make([]string, 0, len(s.cols))
	for name := range s.cols {
		names = append(names, name)
	}
	sort.Strings(names)
	tables := make([]*schema.Table, len(names))
	for i, name := range names {
		tables[i] = &schema.Table{Name: name}
	}
	return s.Drop(tables)
}

// losersTable holds the _dlt_ids of the rows a direct merge removes.
const losersTable = `"_restload_losers"`

// KeyColumns returns the columns a direct merge stages for root: its
// primary key, the columns of its merge hints (hard_delete, dedup_sort)
// and _dlt_id, in that order. It returns nil when root has no
// primary key (its rows are simply appended) and an error when root lacks
// _dlt_id.
func KeyColumns(root *schema.Table) ([]*schema.Column, error) {
	pk := root.PrimaryKey()
	if len(pk) == 0 {
		return nil, nil
	}
	id := root.Column(schema.ColID)
	if id == nil {
		return nil, fmt.Errorf("rows to merge lack the %s column", schema.ColID)
	}
	cols := make([]*schema.Column, 0, len(pk)+3)
	for _, k := range pk {
		cols = append(cols, root.Column(k))
	}
	// The merge hints' columns decide the winner too (see Winners).
	if del, sort := HintColumns(root, root.Columns); del != nil || sort != nil {
		for _, c := range []*schema.Column{del, sort} {
			if c != nil && !slices.Contains(cols, c) {
				cols = append(cols, c)
			}
		}
	}
	return append(cols, id), nil
}

// Keys is what a direct merge stages of each row written straight into a
// root table: its KeyColumns, and where they stand in the table's rows.
// Their values go to the table's key staging table, StagingTable(Table).
type Keys struct {
	Table   string
	Columns []*schema.Column
	Index   []int // Columns[i] is the table's column Index[i]
}

// Values copies row's key values into dst, which has len(Columns) slots.
func (k *Keys) Values(row, dst []any) {
	for i, j := range k.Index {
		dst[i] = row[j]
	}
}

// PrepareWrite returns the statements to run before rows are bulk-loaded
// into tb with mode (Prepare). To stage a root table for a direct merge it
// also makes (or widens) the narrow key staging table and returns the Keys
// to copy there; keys is nil for any other write. A destination whose bulk
// path can fill that table too merges this way (see MergeDirect), writing
// every row once instead of staging it and copying it again.
func (s *Staging) PrepareWrite(tb *schema.Table, mode destination.Mode) (stmts []Stmt, keys *Keys, err error) {
	if mode != destination.ModeStage || schema.StagesRows(tb) {
		delete(s.fresh, tb.Name) // rows that no key staging table holds
	}
	if mode == destination.ModeStage && schema.StagesRows(tb) {
		// The rows go to tb's staging table whole (see Into).
		stmts, err := s.Stage(tb)
		return stmts, nil, err
	}
	if mode == destination.ModeStage {
		cols, err := KeyColumns(tb)
		if err != nil {
			return nil, nil, s.ds.Errorf(tb.Name, "stage", err)
		}
		if cols != nil {
			if stmts, err = s.Stage(&schema.Table{Name: tb.Name, Columns: cols}); err != nil {
				return nil, nil, err
			}
			keys = &Keys{Table: tb.Name, Columns: cols}
			for _, c := range cols {
				keys.Index = append(keys.Index, slices.Index(tb.Columns, c))
			}
		}
	}
	more, err := s.Prepare(tb, mode)
	if err != nil {
		return nil, nil, err
	}
	return append(stmts, more...), keys, nil
}

// Into is the table a bulk load of tb's rows with mode goes into, quoted
// and qualified: tb's staging table when its merge stages rows whole
// (schema.StagesRows; PrepareWrite made it), else tb itself.
func (s *Staging) Into(tb *schema.Table, mode destination.Mode) string {
	if mode == destination.ModeStage && schema.StagesRows(tb) {
		return s.ds.StagingTable(tb.Name)
	}
	return s.ds.Table(tb.Name)
}

// Merge returns the statements that merge root's rows staged in this
// transaction: MergeStaged's for the strategies that stage rows whole,
// else MergeDirect's.
func (s *Staging) Merge(root *schema.Table, children []*schema.Table) ([]Stmt, error) {
	if !schema.StagesRows(root) {
		return s.MergeDirect(root, children)
	}
	stage := func(table string) (string, []*schema.Column) {
		cols, ok := s.cols[table]
		if !ok {
			return "", nil
		}
		return s.ds.StagingTable(table), cols
	}
	stmts, err := s.ds.MergeStaged(root, children, stage, s.scratch())
	if err != nil {
		return nil, err
	}
	return append(stmts, s.Drop(append([]*schema.Table{root}, children...))...), nil
}

// MergeDirect returns the statements that finish a direct merge of root:
// its rows (and its children's) were written straight into the tables,
// and their keys and _dlt_ids into root's key staging table (PrepareWrite).
// For each staged key the row with the greatest _dlt_id stays; every other
// row of root with that key (earlier loads' rows and this load's losers)
// goes, with its children. With nothing staged for root it does nothing.
func (s *Staging) MergeDirect(root *schema.Table, children []*schema.Table) ([]Stmt, error) {
	ds, d := s.ds, s.ds.Dialect
	q := ds.quote
	if _, ok := s.cols[root.Name]; !ok {
		return nil, nil
	}
	pk := root.PrimaryKey()
	if len(pk) == 0 {
		return s.Drop([]*schema.Table{root}), nil
	}
	keys := ds.StagingTable(root.Name)
	// The rows that may lose: the whole table, or, while every row of a
	// table this transaction created is staged (Created), the staged keys.
	target := ds.Table(root.Name)
	if s.fresh[root.Name] {
		target = keys
	}
	// After this merge the table holds rows a later part's keys will not.
	delete(s.fresh, root.Name)
	id, rootID := q(schema.ColID), q(schema.ColRootID)
	keyList := make([]string, len(pk))
	win := make([]string, len(pk))
	for i, k := range pk {
		keyList[i] = q(k)
		win[i] = fmt.Sprintf("w.%s = t.%s", q(k), q(k))
	}
	losers := d.TempSchema + "." + losersTable
	create := "CREATE OR REPLACE TEMP TABLE " + losersTable
	var sqls []string
	if d.OnCommitDrop {
		sqls = append(sqls, "DROP TABLE IF EXISTS "+losers)
		create = "CREATE TEMP TABLE " + losersTable + " ON COMMIT DROP"
	}
	if del, sort := HintColumns(root, s.cols[root.Name]); del != nil || sort != nil {
		// With merge hints the winner is the first by dedup_sort, and one
		// that deletes loses too (see Winners).
		winners, deletes := ds.Winners(root, keys, s.cols[root.Name])
		cond := fmt.Sprintf("t.%s%s <> w.%s", id, d.IDCollation, q("_restload_winner"))
		if deletes {
			cond = fmt.Sprintf("(%s OR w.%s = 1)", cond, q("_restload_deleted"))
		}
		sqls = append(sqls, fmt.Sprintf("%s AS SELECT t.%s FROM %s t JOIN (%s) w ON %s WHERE %s",
			create, id, target, winners, strings.Join(win, " AND "), cond))
	} else {
		// For each staged key, the winner is its greatest staged _dlt_id;
		// every other row of root with that key loses. One aggregate and
		// one join, both of which DuckDB can spill (an EXISTS and a NOT IN
		// took 20-40% longer).
		sqls = append(sqls, fmt.Sprintf(
			"%s AS SELECT t.%s FROM %s t JOIN (SELECT %s, max(%s%s) AS %s FROM %s GROUP BY %s) w ON %s WHERE t.%s%s <> w.%s",
			create, id, target, strings.Join(keyList, ", "), id, d.IDCollation, q("_restload_winner"), keys,
			strings.Join(keyList, ", "), strings.Join(win, " AND "), id, d.IDCollation, q("_restload_winner")))
	}
	for _, c := range children {
		if c.Column(schema.ColRootID) == nil {
			return nil, ds.Errorf(c.Name, "merge", fmt.Errorf("child table lacks the %s column", schema.ColRootID))
		}
		sqls = append(sqls, fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT %s FROM %s)", ds.Table(c.Name), rootID, id, losers))
	}
	sqls = append(sqls,
		fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT %s FROM %s)", ds.Table(root.Name), id, id, losers),
		"DROP TABLE "+losers)
	stmts := make([]Stmt, len(sqls))
	for i, sql := range sqls {
		stmts[i] = Stmt{root.Name, "merge", sql}
	}
	return append(stmts, s.Drop([]*schema.Table{root})...), nil
}

// CheckNames checks the table and column names changes would create with
// a destination's own rules (checkTable: a table and its columns;
// checkIdent: one name), before any statement runs, and reports the first
// bad one in the dataset's error form. It stops at a change without a
// table, which Apply reports.
func (d *Dataset) CheckNames(changes []schema.Change, checkTable func(*schema.Table) error, checkIdent func(what, name string) error) error {
	for _, c := range changes {
		if c.Table == nil {
			return nil
		}
		if err := checkTable(c.Table); err != nil {
			return d.Errorf("", "apply", err)
		}
		if c.Column != nil {
			if err := checkIdent("column", c.Column.Name); err != nil {
				return d.Errorf(c.Table.Name, "apply", err)
			}
		}
	}
	return nil
}
