package iceberg_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/schema"
)

// TestConcurrentCreatesInOneSQLCatalog: loads into datasets of one
// database's SQL catalog, at once (a fleet's shares, or several
// pipelines), each creating tables, all commit. The catalog creates a
// table in a SERIALIZABLE transaction, and concurrent ones can lose a
// conflict (SQLSTATE 40001) longer than iceberg-go's own three tries
// last; creating again is safe, and restload does.
func TestConcurrentCreatesInOneSQLCatalog(t *testing.T) {
	ctx := context.Background()
	url := catalogs[1].url(t)
	const loaders, tables = 6, 3
	var wg sync.WaitGroup
	errs := make(chan error, loaders*tables)
	dests := make([]destination.Destination, loaders)
	for i := range dests {
		dests[i] = open(t, url, fmt.Sprintf("conc_%d_%s", i, destinationtest.Dataset(t)))
	}
	for i, d := range dests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range tables {
				tb := &schema.Table{Name: fmt.Sprintf("t%d", j), WriteDisposition: schema.Append, Columns: []*schema.Column{textCol(schema.ColID), textCol("v")}}
				err := func() error {
					tx, err := d.Begin(ctx)
					if err != nil {
						return err
					}
					defer tx.Rollback(ctx)
					if err := tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: tb}}); err != nil {
						return err
					}
					if _, err := tx.Write(ctx, tb, destination.ModeAppend, destinationtest.NewRows([]any{fmt.Sprintf("%d-%d", i, j), "x"})); err != nil {
						return err
					}
					return tx.Commit(ctx)
				}()
				if err != nil {
					errs <- fmt.Errorf("loader %d, table %d: %w", i, j, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, d := range dests {
		for j := range tables {
			if rows := destinationtest.ReadAll(t, d, fmt.Sprintf("t%d", j)); len(rows) != 1 {
				t.Errorf("loader %d, table t%d: %d rows, want 1", i, j, len(rows))
			}
		}
	}
}
