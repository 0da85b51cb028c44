package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/pipeline"
)

// sharedAPI serves two resources of different shapes, paged, that a
// pipeline loads into one table: /a has name text, score and scalar tags;
// /b has name as an integer, flag, extra and tags as objects, and from its
// second page on a column neither had (late).
func sharedAPI(t *testing.T, pages, perPage int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page < 1 {
			page = 1
		}
		var recs []map[string]any
		if page <= pages {
			for k := range perPage {
				i := (page-1)*perPage + k
				switch strings.TrimPrefix(r.URL.Path, "/") {
				case "a":
					recs = append(recs, map[string]any{"id": i, "name": fmt.Sprintf("a%d", i), "score": i * 10, "tags": []any{fmt.Sprintf("t%d", i)}})
				case "b":
					rec := map[string]any{"id": 100000 + i, "name": i, "flag": true, "extra": fmt.Sprintf("e%d", i),
						"tags": []any{map[string]any{"k": fmt.Sprintf("b%d", i), "n": i}}}
					if page > 1 {
						rec["late"] = fmt.Sprintf("l%d", i)
					}
					recs = append(recs, rec)
				default:
					http.NotFound(w, r)
					return
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(recs)
	}))
	t.Cleanup(srv.Close)
	return srv
}

const sharedPipeline = `pipeline: {name: shared, dataset: %s}
source:
  client:
    base_url: %s
    paginator: {type: page_number, base_page: 1, total_path: null, stop_after_empty_page: true}
  resource_defaults:
    primary_key: id
    write_disposition: %s
    table_name: things
  resources:
    - name: res_a
      endpoint: {path: a}
    - name: res_b
      endpoint: {path: b}
`

// sharedValue returns the value of column c in row, or of one of its
// variant columns (which of the two resources typed the column first
// depends on timing), as text; "" when none holds one.
func sharedValue(row map[string]any, c string) string {
	if v := row[c]; v != nil {
		return fmt.Sprint(v)
	}
	for k, v := range row {
		if strings.HasPrefix(k, c+"__v_") && v != nil {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// checkShared checks that every record of both resources is in things,
// once, with each value in its own column, and its tags in things__tags.
func checkShared(t *testing.T, d destination.Destination, n, perPage int) {
	t.Helper()
	ctx := context.Background()
	byID := map[string]string{} // _dlt_id -> id
	seen := map[string]int{}
	err := d.Read(ctx, "things", func(row map[string]any) error {
		id := sharedValue(row, "id")
		seen[id]++
		byID[fmt.Sprint(row["_dlt_id"])] = id
		i, _ := strconv.Atoi(id)
		var want map[string]string
		if i < 100000 {
			want = map[string]string{"name": fmt.Sprintf("a%d", i), "score": strconv.Itoa(i * 10), "flag": "", "extra": "", "late": ""}
		} else {
			i -= 100000
			late := ""
			if i >= perPage {
				late = fmt.Sprintf("l%d", i)
			}
			want = map[string]string{"name": strconv.Itoa(i), "score": "", "flag": "true", "extra": fmt.Sprintf("e%d", i), "late": late}
		}
		for c, w := range want {
			if got := sharedValue(row, c); got != w {
				t.Errorf("things id %s: %s = %q, want %q (row %v)", id, c, got, w, row)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read things: %v", err)
	}
	if len(seen) != 2*n {
		t.Errorf("things has %d distinct ids, want %d", len(seen), 2*n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("things id %s is there %d times", id, k)
		}
	}
	tags := 0
	err = d.Read(ctx, "things__tags", func(row map[string]any) error {
		tags++
		id, ok := byID[fmt.Sprint(row["_dlt_parent_id"])]
		if !ok {
			t.Errorf("things__tags row %v has no parent", row)
			return nil
		}
		i, _ := strconv.Atoi(id)
		if i < 100000 {
			if got, want := sharedValue(row, "value"), fmt.Sprintf("t%d", i); got != want || sharedValue(row, "k") != "" {
				t.Errorf("things__tags of %s: value %q, want %q (row %v)", id, got, want, row)
			}
		} else if got, want := sharedValue(row, "k"), fmt.Sprintf("b%d", i-100000); got != want || sharedValue(row, "n") != strconv.Itoa(i-100000) || sharedValue(row, "value") != "" {
			t.Errorf("things__tags of %s: k %q, want %q (row %v)", id, got, want, row)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read things__tags: %v", err)
	}
	if tags != 2*n {
		t.Errorf("things__tags has %d rows, want %d", tags, 2*n)
	}
}

// TestSharedTableName: two resources with the same table_name and
// different shapes, loaded at once (or one after another), in parts, put
// every value in its own column of the one table and its child table,
// whatever the number of workers, for append, merge and replace, into
// DuckDB, PostgreSQL and files; a merge or replace run again changes
// nothing (the second resource replacing the table appends to the first's
// rows in the same load).
func TestSharedTableName(t *testing.T) {
	const pages, perPage = 6, 9
	srv := sharedAPI(t, pages, perPage)
	dests := allDestinations()
	for _, dname := range []string{"duckdb", "postgres", "jsonl", "parquet"} {
		for _, disp := range []string{"append", "merge", "replace"} {
			if (dname == "jsonl" || dname == "parquet") && disp == "merge" {
				continue
			}
			for _, workers := range []int{1, 2, 8} {
				t.Run(fmt.Sprintf("%s/%s/workers=%d", dname, disp, workers), func(t *testing.T) {
					dest, dataset := dests[dname](t)
					work := t.TempDir()
					src := fmt.Sprintf(sharedPipeline, dataset, srv.URL, disp)
					p, err := config.Parse(filepath.Join(work, "shared.yaml"), []byte(src), config.LoadOptions{})
					if err != nil {
						t.Fatal(err)
					}
					runs := 1
					if disp != "append" {
						runs = 2
					}
					for run := range runs {
						sum, err := pipeline.Run(context.Background(), p, pipeline.Options{Parts: partRows(7), Destination: dest, WorkDir: work, Workers: workers})
						if err != nil {
							t.Fatalf("run %d: %v", run+1, err)
						}
						for _, rs := range sum.Resources {
							if rs.Status != "loaded" {
								t.Fatalf("run %d: resource %s: %s %s", run+1, rs.Name, rs.Status, rs.Error)
							}
						}
						d, err := destination.Open(context.Background(), dest, dataset)
						if err != nil {
							t.Fatal(err)
						}
						checkShared(t, d, pages*perPage, perPage)
						d.Close()
					}
				})
			}
		}
	}
}
