package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/pipeline"
	"github.com/restload/restload/internal/schema"
)

var sigmaEnv = map[string]string{
	"SIGMA_CLIENT_ID":      mockapi.DefaultClientID,
	"SIGMA_CLIENT_SECRET":  mockapi.DefaultClientSecret,
	"CLIENT_ID":            mockapi.DefaultClientID,
	"CLIENT_SECRET":        mockapi.DefaultClientSecret,
	"CLIENT_REFRESH_TOKEN": mockapi.DefaultRefreshToken,
}

// loadExample reads examples/<name>/pipeline.yaml pointed at api, with
// retry waits shortened so injected faults cost milliseconds.
func loadExample(t *testing.T, name string, api *mockapi.Running) *config.Pipeline {
	t.Helper()
	p, err := config.Load(filepath.Join("..", "..", "examples", name, "pipeline.yaml"), config.LoadOptions{
		LookupEnv: func(k string) (string, bool) { v, ok := sigmaEnv[k]; return v, ok },
	})
	if err != nil {
		t.Fatal(err)
	}
	p.Source.Client.BaseURL = api.URL
	p.Source.Client.Auth.TokenURL = api.TokenURL
	factor := 0.001
	p.Retry.BackoffFactor = &factor
	p.Retry.MaxDelay = config.Duration(10 * time.Millisecond)
	return p
}

// TestSigmaExample runs examples/sigma/pipeline.yaml against the mock in
// its sigma flavor, with records shifting between pages and 5xx faults, and
// checks that every record of every resource is in its table exactly once,
// keyed by the resource's own key.
func TestSigmaExample(t *testing.T) {
	ctx := context.Background()
	api, err := mockapi.Start(ctx, "127.0.0.1:0", mockapi.Options{
		Flavor:       mockapi.FlavorSigma,
		Records:      150,
		RecordsPer:   map[string]int{"files": 2100, "members": 1500, "teams": 0},
		ShiftRecords: true,
		FaultEvery:   7,
		RetryAfter:   "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	p := loadExample(t, "sigma", api)
	dir := t.TempDir()
	dest := "duckdb:" + filepath.Join(dir, "sigma.duckdb")
	sum, err := pipeline.Run(ctx, p, pipeline.Options{Destination: dest, WorkDir: filepath.Join(dir, "work")})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	pages := map[string]int64{}
	for _, r := range sum.Resources {
		pages[r.Name] = r.Pages
	}
	d, err := destination.Open(ctx, dest, "sigma")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, res := range api.Server.Resources() {
		n := api.Server.Count(res)
		key := api.Server.KeyField(res)
		col := schema.NormalizeIdentifier(key)
		got := map[string]int{}
		rows := 0
		err := d.Read(ctx, res, func(row map[string]any) error {
			rows++
			s, _ := row[col].(string)
			got[s]++
			return nil
		})
		if n == 0 {
			if err == nil {
				t.Errorf("table %s exists for a resource with no records", res)
			}
			continue
		}
		if err != nil {
			t.Fatalf("read %s: %v", res, err)
		}
		if rows != n {
			t.Errorf("%s: %d rows, the API has %d records", res, rows, n)
		}
		for i := range n {
			k, _ := api.Server.Record(res, i)[key].(string)
			if k == "" || got[k] != 1 {
				t.Errorf("%s: %s %q is in the table %d times, want once", res, key, k, got[k])
				break
			}
		}
		// limit 1000 is always sent: no resource is read as one bare list.
		if want := int64((n + 999) / 1000); pages[res] < want {
			t.Errorf("%s: %d pages for %d records at limit 1000", res, pages[res], n)
		}
	}
	if st := api.Server.Stats(); st.Served5xx == 0 {
		t.Errorf("the mock served no 5xx: the test did not exercise retries")
	}
}

// TestSigmaNaiveConfigs shows what a user sees when the seed's config meets
// the real API's shape: every resource fails with a message that says why,
// and nothing of a failed resource is loaded.
func TestSigmaNaiveConfigs(t *testing.T) {
	ctx := context.Background()
	api, err := mockapi.Start(ctx, "127.0.0.1:0", mockapi.Options{Flavor: mockapi.FlavorSigma, Records: 30})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()

	t.Run("the seed config: page numbers are not page tokens", func(t *testing.T) {
		p := loadExample(t, "analytics", api)
		_, err := pipeline.Run(ctx, p, pipeline.Options{Destination: "duckdb:" + filepath.Join(t.TempDir(), "x.duckdb"), WorkDir: t.TempDir()})
		var perr *pipeline.Error
		if !errors.As(err, &perr) || len(perr.Failed) != 8 {
			t.Fatalf("error %v, want all 8 resources failed", err)
		}
		for _, res := range api.Server.Resources() {
			want := fmt.Sprintf("resource %s: page 1: GET %s/%s?limit=100&page=1: 400 Bad Request", res, api.URL, res)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not say %q:\n%v", want, err)
			}
		}
		if !strings.Contains(err.Error(), "page token is not one this endpoint issued") {
			t.Errorf("error does not carry the API's explanation:\n%v", err)
		}
	})

	t.Run("merge on id: the key is connectionId", func(t *testing.T) {
		src, err := os.ReadFile(filepath.Join("..", "..", "examples", "sigma", "pipeline.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		// The sigma example with the seed's one primary key for all.
		naive := strings.Replace(string(src), "  resource_defaults:\n", "  resource_defaults:\n    primary_key: id\n", 1)
		for _, line := range []string{"connectionId", "datasetId", "memberId", "teamId", "templateId", "workspaceId", "workbookId", "id"} {
			naive = strings.Replace(naive, "      primary_key: "+line+"\n", "", 1)
		}
		file := filepath.Join(t.TempDir(), "pipeline.yaml")
		p, err := config.Parse(file, []byte(naive), config.LoadOptions{LookupEnv: func(k string) (string, bool) { v, ok := sigmaEnv[k]; return v, ok }})
		if err != nil {
			t.Fatal(err)
		}
		p.Source.Client.BaseURL = api.URL
		p.Source.Client.Auth.TokenURL = api.TokenURL
		dest := "duckdb:" + filepath.Join(t.TempDir(), "x.duckdb")
		_, err = pipeline.Run(ctx, p, pipeline.Options{Destination: dest, WorkDir: t.TempDir()})
		var perr *pipeline.Error
		if !errors.As(err, &perr) || len(perr.Failed) != 7 {
			t.Fatalf("error %v, want 7 resources failed (all but files)", err)
		}
		// One line per failed resource, naming it, the missing key and the
		// field that is the key.
		var line string
		for _, l := range strings.Split(err.Error(), "\n") {
			if strings.Contains(l, "connections") {
				line = l
			}
		}
		for _, want := range []string{`no primary key "id"`, "connectionId", "record 1"} {
			if !strings.Contains(line, want) {
				t.Errorf("the connections error %q does not say %q:\n%v", line, want, err)
			}
		}
		d, err := destination.Open(ctx, dest, "sigma")
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		n := 0
		if err := d.Read(ctx, "files", func(map[string]any) error { n++; return nil }); err != nil || n != 30 {
			t.Errorf("files: %d rows (%v), want 30: its records do have id", n, err)
		}
		if err := d.Read(ctx, "connections", func(map[string]any) error { return nil }); err == nil {
			t.Errorf("table connections exists though the resource failed")
		}
	})
}
