package sqlgen

import (
	"fmt"
	"strings"

	"github.com/restload/restload/internal/schema"
)

// This file writes the SQL of the merge strategies beyond delete-insert
// (insert-only, scd2) and of the merge hints (hard_delete, dedup_sort),
// for every SQL destination: DuckDB and PostgreSQL through Staging, MySQL
// through its own replay, from the same text.

// Scratch makes the temporary tables a merge works in. The zero value is
// not usable; see Staging.scratch for DuckDB's and PostgreSQL's.
type Scratch struct {
	// Create returns the statements that make temporary table name (bare)
	// from query, replacing any of that name.
	Create func(name, query string) []string
	// Name is the qualified, quoted name of temporary table name.
	Name func(name string) string
	// Drop drops temporary table name.
	Drop func(name string) string
}

// scratch is the Scratch of DuckDB and PostgreSQL temporary tables.
func (s *Staging) scratch() Scratch {
	ds, d := s.ds, s.ds.Dialect
	return Scratch{
		Create: func(name, query string) []string {
			if d.OnCommitDrop {
				return []string{"DROP TABLE IF EXISTS " + d.TempSchema + "." + ds.quote(name),
					"CREATE TEMP TABLE " + ds.quote(name) + " ON COMMIT DROP AS " + query}
			}
			return []string{"CREATE OR REPLACE TEMP TABLE " + ds.quote(name) + " AS " + query}
		},
		Name: func(name string) string { return d.TempSchema + "." + ds.quote(name) },
		Drop: func(name string) string { return "DROP TABLE IF EXISTS " + d.TempSchema + "." + ds.quote(name) },
	}
}

// HintColumns returns the columns of root that its merge hints name and
// that staged (the columns staged for it) has: hard_delete's and
// dedup_sort's, each nil when unset or absent.
func HintColumns(root *schema.Table, staged []*schema.Column) (del, sort *schema.Column) {
	m := root.Merge
	if m == nil {
		return nil, nil
	}
	if m.HardDelete != "" && hasColumn(staged, m.HardDelete) {
		del = root.Column(m.HardDelete)
	}
	if m.DedupSort != "" && hasColumn(staged, m.DedupSort) {
		sort = root.Column(m.DedupSort)
	}
	return del, sort
}

// deletedExpr is 1 when a row's hard_delete column c says to delete it (a
// bool true; any other type, not null), else 0.
func (ds *Dataset) deletedExpr(c *schema.Column) string {
	if c.Type == schema.Bool {
		return fmt.Sprintf("CASE WHEN %s THEN 1 ELSE 0 END", ds.quote(c.Name))
	}
	return fmt.Sprintf("CASE WHEN %s IS NOT NULL THEN 1 ELSE 0 END", ds.quote(c.Name))
}

// Winners is the query of the record each primary key of root keeps among
// the rows of src (a table, or a parenthesized query with an alias-free
// column list holding root's key, _dlt_id and the hint columns): the first
// by root's dedup_sort column (NULLs last), then the greatest _dlt_id
// (the last record). Its columns are the key, _restload_winner (the
// _dlt_id) and, with a hard_delete column, _restload_deleted (1 when the
// winner deletes its key). staged is what src holds of root's columns.
func (ds *Dataset) Winners(root *schema.Table, src string, staged []*schema.Column) (query string, deletes bool) {
	q, coll := ds.quote, ds.Dialect.IDCollation
	pk := root.PrimaryKey()
	keys := make([]string, len(pk))
	for i, k := range pk {
		keys[i] = q(k)
	}
	keyList := strings.Join(keys, ", ")
	id := q(schema.ColID)
	del, sort := HintColumns(root, staged)
	order := id + coll + " DESC"
	if sort != nil {
		dir := "ASC"
		if root.Merge.DedupDesc {
			dir = "DESC"
		}
		order = fmt.Sprintf("CASE WHEN %s IS NULL THEN 1 ELSE 0 END, %s %s, %s", q(sort.Name), q(sort.Name), dir, order)
	}
	inner := keyList + ", " + id
	outer := keyList + ", " + id + " AS " + q("_restload_winner")
	if del != nil {
		inner += ", " + ds.deletedExpr(del) + " AS " + q("_restload_deleted")
		outer += ", " + q("_restload_deleted")
	}
	return fmt.Sprintf("SELECT %s FROM (SELECT %s, ROW_NUMBER() OVER (PARTITION BY %s ORDER BY %s) AS %s FROM %s) s WHERE %s = 1",
		outer, inner, keyList, order, q("_restload_rn"), src, q("_restload_rn")), del != nil
}

// MergeStaged returns the statements that merge root's rows, and its
// children's, staged whole (schema.StagesRows) into their tables, as root's
// strategy says:
//
//   - insert-only: of the records not deleted (hard_delete), the winner
//     of each key (Winners) is inserted, with its children, when the table
//     has no row with that key; rows stored are never changed.
//   - scd2: the active rows (valid-to NULL, or the active record
//     timestamp) whose version (row hash, or row_version_column_name) is
//     not staged are retired: their valid-to becomes the staged rows'
//     valid-from (the boundary timestamp); with a merge_key only rows
//     whose merge key is staged retire. Staged versions not active yet
//     are inserted; child rows are inserted where their _dlt_id is new.
//
// stage names the staged rows of a table (nil when none were staged) and
// cols their columns; sc makes the temporary tables.
func (ds *Dataset) MergeStaged(root *schema.Table, children []*schema.Table, stage func(table string) (string, []*schema.Column), sc Scratch) ([]Stmt, error) {
	src, cols := stage(root.Name)
	if src == "" {
		return nil, nil
	}
	var sqls []string
	switch schema.StrategyOf(root) {
	case schema.InsertOnly:
		s, err := ds.insertOnly(root, children, stage, sc, src, cols)
		if err != nil {
			return nil, err
		}
		sqls = s
	case schema.Scd2:
		s, err := ds.scd2(root, children, stage, sc, src, cols)
		if err != nil {
			return nil, err
		}
		sqls = s
	default:
		return nil, ds.Errorf(root.Name, "merge", fmt.Errorf("merge strategy %s does not stage rows", schema.StrategyOf(root)))
	}
	stmts := make([]Stmt, len(sqls))
	for i, s := range sqls {
		stmts[i] = Stmt{root.Name, "merge (" + schema.StrategyOf(root) + ")", s}
	}
	return stmts, nil
}

func (ds *Dataset) insertOnly(root *schema.Table, children []*schema.Table, stage func(string) (string, []*schema.Column), sc Scratch, src string, cols []*schema.Column) ([]string, error) {
	q := ds.quote
	pk := root.PrimaryKey()
	if len(pk) == 0 {
		return nil, ds.Errorf(root.Name, "merge", fmt.Errorf("the insert-only merge strategy needs a primary key"))
	}
	from := src
	if del, _ := HintColumns(root, cols); del != nil {
		from = fmt.Sprintf("(SELECT * FROM %s WHERE %s = 0) f", src, ds.deletedExpr(del))
	}
	winners, _ := ds.Winners(&schema.Table{Name: root.Name, Columns: root.Columns, Merge: &schema.MergeSpec{DedupSort: root.Merge.DedupSort, DedupDesc: root.Merge.DedupDesc}}, from, cols)
	on := make([]string, len(pk))
	for i, k := range pk {
		on[i] = fmt.Sprintf("t.%s = w.%s", q(k), q(k))
	}
	id := q(schema.ColID)
	sqls := sc.Create("_restload_new", fmt.Sprintf("SELECT w.%s AS %s FROM (%s) w WHERE NOT EXISTS (SELECT 1 FROM %s t WHERE %s)",
		q("_restload_winner"), id, winners, ds.Table(root.Name), strings.Join(on, " AND ")))
	added := sc.Name("_restload_new")
	list := ds.columnList(cols)
	sqls = append(sqls, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE %s IN (SELECT %s FROM %s)", ds.Table(root.Name), list, list, src, id, id, added))
	for _, c := range children {
		csrc, ccols := stage(c.Name)
		if csrc == "" {
			continue
		}
		if !hasColumn(ccols, schema.ColRootID) {
			return nil, ds.Errorf(c.Name, "merge", fmt.Errorf("child table lacks the %s column", schema.ColRootID))
		}
		clist := ds.columnList(ccols)
		sqls = append(sqls, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE %s IN (SELECT %s FROM %s)",
			ds.Table(c.Name), clist, clist, csrc, q(schema.ColRootID), id, added))
	}
	return append(sqls, sc.Drop("_restload_new")), nil
}

func (ds *Dataset) scd2(root *schema.Table, children []*schema.Table, stage func(string) (string, []*schema.Column), sc Scratch, src string, cols []*schema.Column) ([]string, error) {
	q := ds.quote
	m := root.Merge
	for _, c := range []string{m.ValidFrom, m.ValidTo, m.RowVersion} {
		if !hasColumn(cols, c) {
			return nil, ds.Errorf(root.Name, "merge", fmt.Errorf("scd2: the rows staged lack the %s column", c))
		}
	}
	from, to, version := q(m.ValidFrom), q(m.ValidTo), q(m.RowVersion)
	target := ds.Table(root.Name)
	// Each staged table is read once per statement (MySQL cannot open a
	// temporary table twice in one), through small tables of what the
	// statements compare.
	var sqls []string
	sqls = append(sqls, sc.Create("_restload_bounds", fmt.Sprintf("SELECT max(%s) AS %s, max(%s) AS %s FROM %s", from, q("_restload_from"), to, q("_restload_to"), src))...)
	sqls = append(sqls, sc.Create("_restload_versions", fmt.Sprintf("SELECT DISTINCT %s FROM %s", version, src))...)
	bounds, versions := sc.Name("_restload_bounds"), sc.Name("_restload_versions")
	active := to + " IS NULL"
	if m.ActiveTo {
		active = fmt.Sprintf("%s = (SELECT %s FROM %s)", to, q("_restload_to"), bounds)
	}
	retire := fmt.Sprintf("UPDATE %s SET %s = (SELECT %s FROM %s) WHERE %s AND %s NOT IN (SELECT %s FROM %s)",
		target, to, q("_restload_from"), bounds, active, version, version, versions)
	var mk []string
	for _, c := range root.Columns {
		if c.MergeKey {
			mk = append(mk, q(c.Name))
		}
	}
	if len(mk) > 0 {
		list := strings.Join(mk, ", ")
		sqls = append(sqls, sc.Create("_restload_keys", fmt.Sprintf("SELECT DISTINCT %s FROM %s", list, src))...)
		retire += fmt.Sprintf(" AND (%s) IN (SELECT %s FROM %s)", list, list, sc.Name("_restload_keys"))
	}
	list := ds.columnList(cols)
	sqls = append(sqls, retire,
		fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE %s NOT IN (SELECT %s FROM %s WHERE %s)", target, list, list, src, version, version, target, active))
	for _, c := range children {
		csrc, ccols := stage(c.Name)
		if csrc == "" {
			continue
		}
		clist := ds.columnList(ccols)
		id := q(schema.ColID)
		sqls = append(sqls, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE %s NOT IN (SELECT %s FROM %s)",
			ds.Table(c.Name), clist, clist, csrc, id, id, ds.Table(c.Name)))
	}
	sqls = append(sqls, sc.Drop("_restload_bounds"), sc.Drop("_restload_versions"))
	if len(mk) > 0 {
		sqls = append(sqls, sc.Drop("_restload_keys"))
	}
	return sqls, nil
}
