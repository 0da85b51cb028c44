package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// listFiles returns every path under dir.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out = append(out, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPreview: preview sends a resource's requests (its parent's first),
// prints per page the method, URL, status, bytes, time, records and the
// paginator's decision in words, then the first records and the tables
// and columns they would make with types; it creates no file (issue 13,
// part 2).
func TestPreview(t *testing.T) {
	srv, requests := newAPIUnderTest(t)
	dir := t.TempDir()
	file := writeShopPipeline(t, dir, srv, "entries")
	before := listFiles(t, dir)

	code, out, errOut := run(t, "preview", file, "--resource", "items", "--records", "3")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"items page 1: GET " + srv.URL + "/items?limit=10&page=1 -> 200, ",
		" bytes, ", " ms, 10 records; next: page=2 (hasMore is true)\n",
		"items page 2: GET " + srv.URL + "/items?limit=10&page=2 -> 200, ",
		"(stopped after 2 pages per resource, --pages; the API has more)\n\nfirst 3 records of items:\n" + `  {"id":1,"name":"item 1","price":1.5,"tags":["a","b"]}` + "\n",
		"  items\n", "    id     bigint\n", "    name   text\n", "    price  double\n",
		"  items__tags (child of items)\n", "    value  text\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("preview output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "items page 3") || requests.Load() != 2 {
		t.Errorf("preview read more than --pages 2 (%d requests):\n%s", requests.Load(), out)
	}
	if strings.Contains(out, "_dlt_") {
		t.Errorf("preview shows _dlt columns:\n%s", out)
	}

	// A child: its parent's pages come first; --pages counts a child's
	// pages over all its parent records.
	requests.Store(0)
	code, out, errOut = run(t, "preview", file, "--resource", "notes", "--pages", "1", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var got struct {
		Resource string `json:"resource"`
		Pages    []struct {
			Resource, Method, URL, Decision string
			Page, Status, Bytes, Records    int
			Seconds                         float64
		} `json:"pages"`
		Records []map[string]any `json:"records"`
		Tables  []struct {
			Name    string `json:"name"`
			Columns []struct {
				Name string `json:"name"`
				Type string `json:"data_type"`
			} `json:"columns"`
		} `json:"tables"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json printed invalid JSON: %v\n%s", err, out)
	}
	if got.Resource != "notes" || len(got.Pages) != 2 || got.Pages[0].Resource != "items" || got.Pages[0].Records != 10 ||
		got.Pages[1].Resource != "notes" || got.Pages[1].URL != srv.URL+"/items/1/notes" || got.Pages[1].Status != 200 ||
		got.Pages[1].Bytes == 0 || got.Pages[1].Decision != "stop: single_page reads one page" {
		t.Errorf("pages: %+v", got.Pages)
	}
	if len(got.Records) != 2 || got.Records[0]["note"] != "1-1" || got.Records[1]["note"] != "1-2" {
		t.Errorf("records: %v", got.Records)
	}
	if len(got.Tables) != 1 || got.Tables[0].Name != "notes" || len(got.Tables[0].Columns) != 1 ||
		got.Tables[0].Columns[0].Name != "note" || got.Tables[0].Columns[0].Type != "text" {
		t.Errorf("tables: %+v", got.Tables)
	}

	if after := listFiles(t, dir); !slices.Equal(before, after) {
		t.Errorf("preview created files: before %v, after %v", before, after)
	}

	// A wrong selector: the page is shown, then the error; exit 1.
	file = writeShopPipeline(t, dir, srv, "data.items")
	before = listFiles(t, dir)
	code, out, errOut = run(t, "preview", file, "--resource", "items")
	if code != 1 || !strings.Contains(errOut, `data_selector "data.items" matched nothing; the response has entries (list of 10), hasMore, total`) {
		t.Errorf("wrong selector: exit %d\n%s\n%s", code, out, errOut)
	}

	// No resource named: the first, with a note; an unknown one is a usage error.
	code, out, _ = run(t, "preview", file, "--pages", "1")
	if code != 1 || !strings.Contains(out, "previewing items, the first of 3 resources (choose with --resource: items, notes, empty)") {
		t.Errorf("no --resource: exit %d\n%s", code, out)
	}
	code, _, errOut = run(t, "preview", file, "--resource", "itemz")
	if code != 2 || !strings.Contains(errOut, "no resource of that name") || !strings.Contains(errOut, "items, notes, empty") {
		t.Errorf("unknown --resource: exit %d\n%s", code, errOut)
	}
	if after := listFiles(t, dir); !slices.Equal(before, after) {
		t.Errorf("preview created files: before %v, after %v", before, after)
	}
}
