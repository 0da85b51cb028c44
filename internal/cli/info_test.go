package cli_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	_ "github.com/restload/restload/internal/destination/files"
	_ "github.com/restload/restload/internal/destination/postgres"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/spool"
)

// loadOne loads a package of three event rows and a cursor into dest, as a
// run on another machine would have.
func loadOne(t *testing.T, dest, dataset string) {
	t.Helper()
	ctx := context.Background()
	d, err := destination.Open(ctx, dest, dataset)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	pkg, err := spool.Create(t.TempDir(), spool.Manifest{LoadID: "1700000000.000001", Pipeline: "events_pipe", Dataset: dataset})
	if err != nil {
		t.Fatal(err)
	}
	w, err := pkg.Writer("events")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		if err := w.Write([]any{"1700000000.000001", id}); err != nil {
			t.Fatal(err)
		}
	}
	m := pkg.Manifest
	m.Resources = []spool.ResourceSummary{{ResourceTarget: spool.ResourceTarget{Name: "events", Table: "events", WriteDisposition: schema.Append}, Counts: spool.Counts{Records: 3}}}
	m.State = map[string]json.RawMessage{"events.updated_at": json.RawMessage(`"2024-05-06T07:08:09Z"`)}
	tb := &schema.Table{Name: "events", Resource: "events", WriteDisposition: schema.Append, Columns: []*schema.Column{
		{Name: schema.ColLoadID, Type: schema.Text}, {Name: schema.ColID, Type: schema.Text},
	}}
	if err := pkg.Seal(m, &schema.Schema{Name: dataset, Tables: []*schema.Table{tb}}); err != nil {
		t.Fatal(err)
	}
	if _, err := load.Package(ctx, d, pkg); err != nil {
		t.Fatal(err)
	}
}

// cliDestination is a kind of destination and how a test gets a URL of it
// for a dataset (dropped when the test ends).
type cliDestination struct {
	name string
	url  func(t *testing.T, dataset string) string
}

// everyDestination lists each kind of destination; PostgreSQL and MySQL
// skip without a server (fail with CI=true).
func everyDestination() []cliDestination {
	return []cliDestination{
		{"duckdb", func(t *testing.T, _ string) string { return "duckdb:" + filepath.Join(t.TempDir(), "x.duckdb") }},
		{"postgres", func(t *testing.T, dataset string) string {
			url := destinationtest.PostgresURL(t)
			destinationtest.DropOnCleanup(t, url, dataset)
			return url
		}},
		{"mysql", func(t *testing.T, dataset string) string {
			url := destinationtest.MySQLURL(t)
			destinationtest.DropMySQLOnCleanup(t, url, dataset)
			return url
		}},
		{"parquet", func(t *testing.T, _ string) string { return "parquet:" + t.TempDir() }},
		{"jsonl", func(t *testing.T, _ string) string { return "jsonl:" + t.TempDir() }},
	}
}

// TestInfoEveryDestination runs `restload info --dest` against each kind of
// destination after a load and checks it shows the load, the row counts and
// the state, from the destination alone (no pipeline file, no work dir).
func TestInfoEveryDestination(t *testing.T) {
	for _, dt := range everyDestination() {
		t.Run(dt.name, func(t *testing.T) {
			ds := destinationtest.Dataset(t)
			url := dt.url(t, ds)

			// Before any load the dataset does not exist: info says so and
			// creates nothing (see TestReadCommandsCreateNothing).
			code, out, errOut := run(t, "info", "--dest", url, "--dataset", ds)
			if code != 1 || !regexp.MustCompile(`does not exist|dataset "`+ds+`" is not in`).MatchString(errOut) {
				t.Fatalf("info before any load: exit %d\n%s%s", code, out, errOut)
			}

			loadOne(t, url, ds)
			code, out, errOut = run(t, "info", "--dest", url, "--dataset", ds)
			if code != 0 {
				t.Fatalf("info: exit %d\n%s%s", code, out, errOut)
			}
			for _, re := range []string{
				`(?m)^1700000000\.000001\s+events_pipe\s+loaded\s+.*\sv2\s+3$`,
				`(?m)^events\s+3\s*$`,
				`(?m)^events_pipe\s+events\.updated_at\s+"2024-05-06T07:08:09Z"\s+1700000000\.000001$`,
			} {
				if !regexp.MustCompile(re).MatchString(out) {
					t.Errorf("info output does not match %s:\n%s", re, out)
				}
			}

			code, out, errOut = run(t, "info", "--json", "--dest", url, "--dataset", ds)
			if code != 0 {
				t.Fatalf("info --json: exit %d\n%s", code, errOut)
			}
			var got struct {
				Loads []load.LoadInfo   `json:"loads"`
				Rows  map[string]int64  `json:"rows"`
				State []load.StateEntry `json:"state"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("info --json: %v\n%s", err, out)
			}
			if len(got.Loads) != 1 || got.Rows["events"] != 3 || len(got.State) != 1 || got.State[0].Key != "events.updated_at" {
				t.Errorf("info --json = %s", out)
			}
		})
	}
}
