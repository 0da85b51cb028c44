package pipeline_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/pipeline"
)

// TestConnectionsReused runs the example pipeline (8 resources, pages
// fetched limits.prefetch ahead) against a server that counts the TCP connections it
// accepts: finished requests hand their connection to the next ones, so
// the run opens about as many connections as it has requests in flight,
// not one per page.
func TestConnectionsReused(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewUnstartedServer(mockapi.New(mockapi.Options{Records: 3000}))
	var conns atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	api := &mockapi.Running{URL: srv.URL + "/v2", TokenURL: srv.URL + "/v2/auth/token"}
	p := examplePipeline(t, api)
	dir := t.TempDir()
	sum, err := pipeline.Run(ctx, p, pipeline.Options{Destination: "duckdb:" + filepath.Join(dir, "c.duckdb"), WorkDir: filepath.Join(dir, "work")})
	if err != nil {
		t.Fatal(err)
	}
	var pages int64
	for _, r := range sum.Resources {
		pages += r.Pages
	}
	if pages != 8*30 {
		t.Fatalf("the run fetched %d pages, want 240 (8 resources x 3000 records / 100)", pages)
	}
	// In flight at once: 8 resources x prefetch pages, and the token
	// request. net/http dials when no idle connection is free and keeps
	// the dialed one even when an idle one freed up first, so a run may
	// open a few more than it has in flight; a quarter more is the margin.
	// One connection per page would be 241.
	inFlight := int64(pipeline.DefaultWorkers*config.DefaultPrefetch + 1)
	if max := inFlight + inFlight/4; conns.Load() > max {
		t.Errorf("the run opened %d connections for %d requests, want at most %d", conns.Load(), pages+1, max)
	}
	t.Logf("%d connections for %d pages", conns.Load(), pages)
}
