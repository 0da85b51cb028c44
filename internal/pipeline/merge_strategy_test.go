package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/restload/restload/internal/config"
	_ "github.com/restload/restload/internal/destination/iceberg"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/pipeline"
)

// mergeRun runs itemsPipeline with extra (the resource's keys) at now
// (Options.Now: scd2's boundary when the config sets none).
func mergeRun(t *testing.T, dest, dataset, baseURL, work, extra string, now time.Time, parts ...*load.PartPolicy) error {
	t.Helper()
	p, err := config.Parse(filepath.Join(work, "items.yaml"), []byte(fmt.Sprintf(itemsPipeline, dataset, baseURL, extra)), config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts := pipeline.Options{Destination: dest, WorkDir: work, Now: func() time.Time { return now }}
	if len(parts) > 0 {
		opts.Parts = parts[0]
	}
	_, err = pipeline.Run(context.Background(), p, opts)
	return err
}

// onePerPage splits each phase's one page into pages of one record.
func onePerPage(t *testing.T, phases [][]string) [][]string {
	out := make([][]string, len(phases))
	for i, pages := range phases {
		var recs []json.RawMessage
		if err := json.Unmarshal([]byte(pages[0]), &recs); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			out[i] = append(out[i], "["+string(r)+"]")
		}
	}
	return out
}

// scd2Pages are four runs of one item list: item 1 changes in run 2, item
// 2 is absent in run 3 and back in run 4, item 3 is new in run 2.
var scd2Pages = [][]string{
	{`[{"id": 1, "v": "a", "tags": ["x"]}, {"id": 2, "v": "b"}]`},
	{`[{"id": 3, "v": "c"}, {"id": 1, "v": "a2", "tags": ["x"]}, {"id": 2, "v": "b"}, {"id": 3, "v": "c"}]`},
	{`[{"id": 1, "v": "a2", "tags": ["x"]}, {"id": 3, "v": "c"}]`},
	{`[{"id": 2, "v": "b"}, {"id": 1, "v": "a2", "tags": ["x"]}, {"id": 3, "v": "c"}]`},
}

// TestScd2 loads scd2Pages in four runs, a month apart: a changed record
// retires its version (valid-to = the next load's time) and gets a new
// one; an absent record retires; a record back gets a new version; an
// unchanged one (or one repeated in a load) is never inserted again. The
// custom case names its validity columns, marks active rows with a
// timestamp and sets boundary_timestamp, which wins over the load's time.
func TestScd2(t *testing.T) {
	day := func(m int) time.Time { return time.Date(2024, time.Month(m), 1, 0, 0, 0, 0, time.UTC) }
	cases := []struct {
		name     string
		extra    func(run int) string
		from, to string
		active   string // valid-to of an active row, as read
		now      func(run int) time.Time
	}{
		{"default", func(int) string {
			return "      write_disposition: {disposition: merge, strategy: scd2}\n"
		}, "_dlt_valid_from", "_dlt_valid_to", "", day},
		{"custom", func(run int) string {
			return fmt.Sprintf("      write_disposition: {disposition: merge, strategy: scd2, validity_column_names: [valid_from, valid_to], active_record_timestamp: '9999-12-31', boundary_timestamp: '2024-%02d-01T00:00:00Z'}\n", run)
		}, "valid_from", "valid_to", " valid_to=9999-12-31T00:00:00Z", func(int) time.Time { return day(12) }},
	}
	for _, c := range cases {
		for _, parts := range []bool{false, true} {
			for name, open := range driftDestinations(t) {
				sub := c.name + "/" + name
				if parts {
					sub += "/parts"
				}
				t.Run(sub, func(t *testing.T) {
					dest, dataset := open(t)
					api := &pagesAPI{pages: scd2Pages}
					var policy *load.PartPolicy
					if parts {
						// A record a page, a part a record: the load's rows
						// are staged in many writes before the merge.
						api.pages, policy = onePerPage(t, scd2Pages), &load.PartPolicy{MinRows: 1}
					}
					srv := httptest.NewServer(api)
					defer srv.Close()
					work := t.TempDir()
					row := func(id int, v string, from, to int) string {
						s := fmt.Sprintf("id=%d v=%s %s=2024-%02d-01T00:00:00Z", id, v, c.from, from)
						if to == 0 {
							return s + c.active
						}
						return s + fmt.Sprintf(" %s=2024-%02d-01T00:00:00Z", c.to, to)
					}
					want := [][]string{
						{row(1, "a", 1, 0), row(2, "b", 1, 0)},
						{row(1, "a", 1, 2), row(1, "a2", 2, 0), row(2, "b", 1, 0), row(3, "c", 2, 0)},
						{row(1, "a", 1, 2), row(1, "a2", 2, 0), row(2, "b", 1, 3), row(3, "c", 2, 0)},
						{row(1, "a", 1, 2), row(1, "a2", 2, 0), row(2, "b", 1, 3), row(2, "b", 4, 0), row(3, "c", 2, 0)},
					}
					for run := 1; run <= 4; run++ {
						api.phase.Store(int32(run - 1))
						if err := mergeRun(t, dest, dataset, srv.URL, work, c.extra(run), c.now(run), policy); err != nil {
							t.Fatalf("run %d: %v", run, err)
						}
						r := &itemsRun{dest: dest, dataset: dataset}
						wantRows(t, fmt.Sprintf("run %d: items", run), r.rows(t, "items", "id", "v", c.from, c.to), want[run-1])
						// Each version's list is stored once, under its own root.
						tags := r.rows(t, "items__tags", "value")
						if run > 1 && strings.Join(tags, ",") != "value=x,value=x" {
							t.Errorf("run %d: items__tags = %v, want one x for each of item 1's two versions", run, tags)
						}
					}
				})
			}
		}
	}
}

// TestInsertOnly: a record whose key is stored is never loaded again, not
// even changed; of a load's records with one key the last is inserted.
func TestInsertOnly(t *testing.T) {
	for name, open := range driftDestinations(t) {
		t.Run(name, func(t *testing.T) {
			dest, dataset := open(t)
			api := &pagesAPI{pages: [][]string{
				{`[{"id": 1, "v": "a", "tags": ["x"]}, {"id": 2, "v": "b"}]`},
				{`[{"id": 1, "v": "a2", "tags": ["y"]}, {"id": 3, "v": "c", "tags": ["z"]}, {"id": 3, "v": "c2", "tags": ["w"]}]`},
			}}
			srv := httptest.NewServer(api)
			defer srv.Close()
			work := t.TempDir()
			extra := "      primary_key: id\n      write_disposition: {disposition: merge, strategy: insert-only}\n"
			want := [][]string{{"id=1 v=a", "id=2 v=b"}, {"id=1 v=a", "id=2 v=b", "id=3 v=c2"}}
			wantTags := [][]string{{"value=x"}, {"value=w", "value=x"}}
			for run := 1; run <= 2; run++ {
				api.phase.Store(int32(run - 1))
				if err := mergeRun(t, dest, dataset, srv.URL, work, extra, time.Now()); err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				r := &itemsRun{dest: dest, dataset: dataset}
				wantRows(t, fmt.Sprintf("run %d: items", run), r.rows(t, "items", "id", "v"), want[run-1])
				wantRows(t, fmt.Sprintf("run %d: items__tags", run), r.rows(t, "items__tags", "value"), wantTags[run-1])
			}
		})
	}
}

// TestHardDelete: under merge a record whose hard_delete column is true
// (a bool) or set (any other type) deletes the row with its key, and its
// children, and is not inserted; false or null inserts it as usual.
func TestHardDelete(t *testing.T) {
	cases := []struct{ name, column, run1, run2 string }{
		{"bool", "deleted",
			`[{"id": 1, "v": "a", "deleted": false, "tags": ["x"]}, {"id": 2, "v": "b"}, {"id": 4, "v": "d"}]`,
			`[{"id": 1, "deleted": true}, {"id": 3, "v": "c", "deleted": true}, {"id": 2, "v": "b2", "deleted": null}, {"id": 4, "v": "d2", "deleted": false}]`},
		{"timestamp", "deleted_at",
			`[{"id": 1, "v": "a", "tags": ["x"]}, {"id": 2, "v": "b"}, {"id": 4, "v": "d"}]`,
			`[{"id": 2, "v": "b2"}, {"id": 1, "deleted_at": "2024-05-01T00:00:00Z"}, {"id": 3, "v": "c", "deleted_at": "2024-05-01T00:00:00Z"}, {"id": 4, "v": "d2", "deleted_at": null}]`},
	}
	for _, c := range cases {
		for _, strategy := range []string{"delete-insert", "upsert", "delete-insert/parts"} {
			for name, open := range driftDestinations(t) {
				t.Run(c.name+"/"+strategy+"/"+name, func(t *testing.T) {
					dest, dataset := open(t)
					api := &pagesAPI{pages: [][]string{{c.run1}, {c.run2}}}
					var policy *load.PartPolicy
					if s, ok := strings.CutSuffix(strategy, "/parts"); ok {
						// A part a record: the hard_delete column is staged
						// from the second part of the second run on.
						strategy, api.pages, policy = s, onePerPage(t, api.pages), &load.PartPolicy{MinRows: 1}
					}
					srv := httptest.NewServer(api)
					defer srv.Close()
					work := t.TempDir()
					extra := fmt.Sprintf("      primary_key: id\n      write_disposition: {disposition: merge, strategy: %s}\n      columns:\n        %s: {hard_delete: true}\n", strategy, c.column)
					want := [][]string{{"id=1 v=a", "id=2 v=b", "id=4 v=d"}, {"id=2 v=b2", "id=4 v=d2"}}
					wantTags := [][]string{{"value=x"}, nil}
					for run := 1; run <= 2; run++ {
						api.phase.Store(int32(run - 1))
						if err := mergeRun(t, dest, dataset, srv.URL, work, extra, time.Now(), policy); err != nil {
							t.Fatalf("run %d: %v", run, err)
						}
						r := &itemsRun{dest: dest, dataset: dataset}
						wantRows(t, fmt.Sprintf("run %d: items", run), r.rows(t, "items", "id", "v"), want[run-1])
						wantRows(t, fmt.Sprintf("run %d: items__tags", run), r.rows(t, "items__tags", "value"), wantTags[run-1])
					}
				})
			}
		}
	}
}

// TestDedupSort: of a load's records with one key, dedup_sort desc keeps
// the one with the highest sort value, asc the lowest (a record without
// one comes last either way); without dedup_sort the last record wins.
func TestDedupSort(t *testing.T) {
	page := `[{"id": 1, "v": "two", "seq": 2}, {"id": 1, "v": "three", "seq": 3}, {"id": 1, "v": "none"}, {"id": 1, "v": "one", "seq": 1},
	          {"id": 2, "v": "only", "seq": 5}]`
	cases := []struct{ name, hint, want string }{
		{"desc", "      columns:\n        seq: {dedup_sort: desc}\n", "three"},
		{"asc", "      columns:\n        seq: {dedup_sort: asc}\n", "one"},
		{"none", "", "one"},
	}
	for _, c := range cases {
		for _, strategy := range []string{"delete-insert", "insert-only"} {
			for name, open := range driftDestinations(t) {
				t.Run(c.name+"/"+strategy+"/"+name, func(t *testing.T) {
					dest, dataset := open(t)
					srv := httptest.NewServer(&pagesAPI{pages: [][]string{{page}}})
					defer srv.Close()
					extra := fmt.Sprintf("      primary_key: id\n      write_disposition: {disposition: merge, strategy: %s}\n%s", strategy, c.hint)
					if err := mergeRun(t, dest, dataset, srv.URL, t.TempDir(), extra, time.Now()); err != nil {
						t.Fatal(err)
					}
					r := &itemsRun{dest: dest, dataset: dataset}
					wantRows(t, "items", r.rows(t, "items", "id", "v"), []string{"id=1 v=" + c.want, "id=2 v=only"})
				})
			}
		}
	}
}

// TestMergeStrategyRefused: a destination that merges by delete-insert
// only (files, Iceberg) refuses insert-only, scd2 and the merge hints
// before any API call, naming the resource and what it cannot do.
func TestMergeStrategyRefused(t *testing.T) {
	cases := []struct{ extra, want string }{
		{"      write_disposition: {disposition: merge, strategy: scd2}\n", "cannot merge with merge strategy scd2"},
		{"      primary_key: id\n      write_disposition: {disposition: merge, strategy: insert-only}\n", "cannot merge with merge strategy insert-only"},
		{"      primary_key: id\n      write_disposition: merge\n      columns:\n        deleted: {hard_delete: true}\n", "cannot merge with the hard_delete hint (column deleted)"},
		{"      primary_key: id\n      write_disposition: merge\n      columns:\n        seq: {dedup_sort: asc}\n", "cannot merge with the dedup_sort hint (column seq)"},
	}
	for _, c := range cases {
		for _, dest := range []string{"jsonl:", "parquet:", "iceberg:"} {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1); fmt.Fprint(w, "[]") }))
			err := mergeRun(t, dest+t.TempDir(), "refused", srv.URL, t.TempDir(), c.extra, time.Now())
			srv.Close()
			if err == nil || !strings.Contains(err.Error(), "resource items: destination "+dest) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s %q: err = %v, want %q", dest, c.extra, err, c.want)
			}
			if calls.Load() != 0 {
				t.Errorf("%s: the API was called %d times before the refusal", dest, calls.Load())
			}
		}
	}
}
