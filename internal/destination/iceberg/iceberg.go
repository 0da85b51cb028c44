// Package iceberg is the Iceberg destination: each table of a dataset is an
// Apache Iceberg table in a catalog, its data Parquet files in a warehouse
// folder, written with github.com/apache/iceberg-go.
//
// URL forms (see Open):
//
//	iceberg:DIR or iceberg:file:///DIR
//	    a file-system catalog (Iceberg's "Hadoop" layout) in DIR: tables at
//	    DIR/<dataset>/<table>/{metadata,data}; nothing else to run.
//	iceberg:postgres://user@host:port/db?warehouse=DIR
//	    Iceberg's SQL (JDBC) catalog in that PostgreSQL database (its tables
//	    iceberg_tables and iceberg_namespace_properties, created when
//	    missing), data under DIR/<dataset>/<table>.
//
// The dataset is an Iceberg namespace; the bookkeeping tables (dlt's
// _dlt_loads, _dlt_version, _dlt_pipeline_state) are Iceberg tables
// in it like any other, so every engine that reads the catalog sees the
// load history, and any machine with the catalog can run the next load.
//
// A load's rows are not held in memory: Write builds Arrow records of
// batchRows rows and spills each, as it fills, to an LZ4-compressed Arrow
// IPC file (mode 0600) in a folder of the system's temporary folder
// ($TMPDIR) that Commit and Rollback remove; it takes the load's rows,
// compressed, on disk (twice that while Merge rewrites them). Merge reads those files twice (keys, then the winning rows)
// and spills its result; only keys and _dlt_ids stay in memory. Commit
// streams the files to iceberg-go through a RecordReader of records of about
// 128 kB, which its writer turns into Parquet data files as they come (it
// queues at most 64 records), so memory is bounded by the batch size and the
// number of tables committed at once (commitWorkers), not by the load's
// size. Commit commits one snapshot per table it changed (append, overwrite
// or delete), the bookkeeping tables last. Neither catalog commits several tables at once,
// so a crash during Commit can leave some tables committed: each snapshot
// carries the load's id (summary property restload.load-id), and a retry of
// the load skips the tables that already hold a snapshot of it. Merge is
// copy-on-write: the rows a load replaces are removed by an overwrite whose
// filter names their _dlt_id (children: their _dlt_root_id), which rewrites
// only the data files holding them.
package iceberg

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/iceberg-go/catalog"
	_ "github.com/apache/iceberg-go/catalog/hadoop" // the file-system catalog
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// Scheme is the URL scheme of the destination.
const Scheme = "iceberg"

func init() {
	destination.Register(Scheme, func(ctx context.Context, url, dataset string) (destination.Destination, error) {
		return Open(ctx, strings.TrimPrefix(url, Scheme+":"), dataset)
	})
}

// Iceberg is one dataset (an Iceberg namespace) of a catalog.
type Iceberg struct {
	cat       catalog.Catalog
	warehouse string // where new tables go; "" lets the catalog choose
	ns        table.Identifier
	name      string // "iceberg <redacted location>", for errors
	close     func() error
}

var (
	_ destination.Destination  = (*Iceberg)(nil)
	_ destination.Capabilities = (*Iceberg)(nil)
)

// catalogName is the catalog's name in a SQL catalog's tables
// (catalog_name); catalog=NAME in the URL overrides it.
const catalogName = "restload"

// Open opens the catalog that loc names (the URL without "iceberg:") for
// dataset. A SQL catalog creates its tables in the database when missing.
func Open(ctx context.Context, loc, dataset string) (*Iceberg, error) {
	name := Scheme + " " + destination.Redact(loc)
	if err := checkName(dataset); err != nil {
		return nil, fmt.Errorf("%s: dataset: %w", name, err)
	}
	d := &Iceberg{ns: table.Identifier{dataset}, name: name}
	var err error
	switch {
	case strings.HasPrefix(loc, "postgres://"), strings.HasPrefix(loc, "postgresql://"):
		err = d.openSQL(loc)
	case strings.Contains(loc, "://") && !strings.HasPrefix(loc, "file://"):
		err = fmt.Errorf("%w: want iceberg:DIR, iceberg:file:///DIR or iceberg:postgres://...?warehouse=DIR", destination.ErrBadURL)
	default:
		err = d.openDir(ctx, loc)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w", name, err)
	}
	return d, nil
}

// openDir opens a file-system catalog rooted at loc.
func (d *Iceberg) openDir(ctx context.Context, loc string) error {
	dir := strings.TrimPrefix(loc, "file://")
	if dir == "" {
		return fmt.Errorf("%w: empty warehouse directory (want iceberg:DIR)", destination.ErrBadURL)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	cat, err := catalog.Load(ctx, catalogName, map[string]string{"type": string(catalog.Hadoop), "warehouse": "file://" + abs})
	if err != nil {
		return err
	}
	d.cat, d.close = cat, func() error { return nil }
	return nil
}

// openSQL opens Iceberg's SQL catalog in a PostgreSQL database.
func (d *Iceberg) openSQL(loc string) error {
	u, err := url.Parse(loc)
	if err != nil {
		return fmt.Errorf("%w: %v", destination.ErrBadURL, err)
	}
	q := u.Query()
	wh := q.Get("warehouse")
	if wh == "" {
		return fmt.Errorf("%w: a SQL catalog needs ?warehouse=DIR, the folder its tables' files go to", destination.ErrBadURL)
	}
	if strings.Contains(wh, "://") && !strings.HasPrefix(wh, "file://") {
		return fmt.Errorf("%w: warehouse %q: only local folders (file://) are supported", destination.ErrBadURL, wh)
	}
	abs, err := filepath.Abs(strings.TrimPrefix(wh, "file://"))
	if err != nil {
		return err
	}
	name := catalogName
	if n := q.Get("catalog"); n != "" {
		name = n
	}
	q.Del("warehouse")
	q.Del("catalog")
	u.RawQuery = q.Encode()
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return fmt.Errorf("%w: %v", destination.ErrBadURL, err)
	}
	db := stdlib.OpenDB(*cfg)
	cat, err := sqlcat.NewCatalog(name, db, sqlcat.Postgres, map[string]string{"warehouse": "file://" + abs})
	if err != nil {
		db.Close()
		return fmt.Errorf("sql catalog: %w", err)
	}
	d.cat, d.warehouse = cat, "file://"+abs
	d.close = func() error { return errors.Join(cat.Close(), db.Close()) }
	return nil
}

// checkName refuses names that would escape or hide in the warehouse's
// folders.
func checkName(n string) error {
	if n == "" || n == "." || n == ".." || strings.HasPrefix(n, ".") || strings.ContainsAny(n, `/\`+"\x00") {
		return fmt.Errorf("%q is not usable as an Iceberg namespace or table name", n)
	}
	return nil
}

// CanMerge reports true: merge is copy-on-write (see the package comment).
func (d *Iceberg) CanMerge() bool { return true }

// Close releases the catalog's connections.
func (d *Iceberg) Close() error { return d.close() }

func (d *Iceberg) errorf(tbl, op string, err error) error {
	if tbl == "" {
		return fmt.Errorf("%s: namespace %s: %s: %w", d.name, d.ns[0], op, err)
	}
	return fmt.Errorf("%s: table %s.%s: %s: %w", d.name, d.ns[0], tbl, op, err)
}

func (d *Iceberg) ident(tbl string) table.Identifier { return table.Identifier{d.ns[0], tbl} }

// load returns a table; an error wrapping destination.ErrNoTable when it
// (or its namespace) does not exist.
func (d *Iceberg) load(ctx context.Context, tbl string) (*table.Table, error) {
	if err := checkName(tbl); err != nil {
		return nil, err
	}
	t, err := d.cat.LoadTable(ctx, d.ident(tbl))
	if errors.Is(err, catalog.ErrNoSuchTable) || errors.Is(err, catalog.ErrNoSuchNamespace) {
		return nil, fmt.Errorf("%w: %v", destination.ErrNoTable, err)
	}
	return t, err
}

// Read calls fn for each row of the table's current snapshot, sorted by
// _dlt_id when the table has one. It holds the table in memory to sort it.
func (d *Iceberg) Read(ctx context.Context, tbl string, fn func(row map[string]any) error) error {
	t, err := d.load(ctx, tbl)
	if err != nil {
		return d.errorf(tbl, "read", err)
	}
	rows, err := scanRows(ctx, t, nil)
	if err != nil {
		return d.errorf(tbl, "read", err)
	}
	if _, ok := t.Schema().FindFieldByName(schema.ColID); ok {
		sort.SliceStable(rows, func(i, j int) bool {
			a, _ := rows[i][schema.ColID].(string)
			b, _ := rows[j][schema.ColID].(string)
			return a < b
		})
	}
	for _, r := range rows {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// scanRows reads t's current snapshot: every column, or only cols when
// given.
func scanRows(ctx context.Context, t *table.Table, cols []string) ([]map[string]any, error) {
	var opts []table.ScanOption
	if cols != nil {
		opts = append(opts, table.WithSelectedFields(cols...))
	}
	_, recs, err := t.Scan(opts...).ToArrowRecords(ctx)
	if err != nil {
		return nil, err
	}
	var rows []map[string]any
	for rec, err := range recs {
		if err != nil {
			return nil, err
		}
		sc := rec.Schema()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make(map[string]any, sc.NumFields())
			for c := 0; c < sc.NumFields(); c++ {
				v, err := value(rec.Column(c), i)
				if err != nil {
					rec.Release()
					return nil, fmt.Errorf("column %q: %w", sc.Field(c).Name, err)
				}
				row[sc.Field(c).Name] = v
			}
			rows = append(rows, row)
		}
		rec.Release()
	}
	return rows, nil
}
