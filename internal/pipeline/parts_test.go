package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/pipeline"
)

// TestResourceFailingAfterParts: a resource loaded in parts while it
// extracts (each page a part here) fails at its fourth page. Its first
// pages are already in the load's transaction, so the run loads the other
// resources again without it: they land whole, exactly once, and nothing
// of the failed resource does, not even its table.
func TestResourceFailingAfterParts(t *testing.T) {
	ctx := context.Background()
	srv := mockapi.New(mockapi.Options{Records: 600})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/members") {
			if page, _ := strconv.Atoi(r.URL.Query().Get("page")); page >= 4 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"error": "invalid_page"}`))
				return
			}
		}
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	p := examplePipeline(t, &mockapi.Running{URL: ts.URL + "/v2", TokenURL: ts.URL + "/v2/auth/token", Server: srv})
	dir := t.TempDir()
	dest := "duckdb:" + filepath.Join(dir, "parts.duckdb")
	var logs bytes.Buffer
	sum, err := pipeline.Run(ctx, p, pipeline.Options{Parts: partRows(100), Destination: dest, WorkDir: filepath.Join(dir, "work"),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	var perr *pipeline.Error
	if !errors.As(err, &perr) || len(perr.Failed) != 1 || !strings.Contains(err.Error(), "resource members: page 4") || !strings.Contains(err.Error(), "400") {
		t.Fatalf("run: %v; want members to fail at page 4 with a 400", err)
	}
	if !strings.Contains(logs.String(), "loading again without the failed resource") || !strings.Contains(logs.String(), "resource=members") {
		t.Errorf("the log does not say the load was made again without members (its parts were not loaded first?):\n%s", logs.String())
	}
	d, err := destination.Open(ctx, dest, "analytics")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, res := range srv.Resources() {
		if res == "members" {
			if n, err := d.(destination.Counter).Count(ctx, "members"); !errors.Is(err, destination.ErrNoTable) {
				t.Errorf("members: %d rows (%v); want no table: the failed resource's parts were committed", n, err)
			}
			continue
		}
		got := readKeys(t, d, res, "id")
		if n := srv.Count(res); len(got) != n {
			t.Errorf("%s has %d distinct ids, the API has %d records", res, len(got), n)
		}
		for id, k := range got {
			if k != 1 {
				t.Errorf("%s id %q is in the table %d times, want once", res, id, k)
			}
		}
	}
	for _, r := range sum.Resources {
		if want := r.Name != "members"; (r.Status == "loaded") != want {
			t.Errorf("resource %s: status %q", r.Name, r.Status)
		}
	}
}

// partRows is a part policy that loads a resource in parts of any n rows
// or more, idle CPU or not, so small test data crosses many parts.
func partRows(n int64) *load.PartPolicy {
	return &load.PartPolicy{MinRows: n}
}
