package pipeline_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/pipeline"
)

// hostilePipeline is one resource, files, of the mock API, merged on id;
// extra is YAML added at the top level (retry, limits) and client is
// added to source.client.
const hostilePipeline = `
pipeline: {name: hostile, dataset: hostile}
retry: {max_retries: %d, backoff_factor: 0.001, max_delay: 10ms}
%s
source:
  client:
    base_url: %s
    auth: {type: oauth2, client_id: demo-client, client_secret: demo-secret, refresh_token: demo-refresh, token_url: %s}
%s
  resources:
    - name: files
      primary_key: id
      write_disposition: merge
      endpoint:
        path: /files
        params: {limit: 50}
        data_selector: entries
        paginator: {type: page_number, page_param: page, start_from_page: 1}
`

type hostileCase struct {
	opts    mockapi.Options
	retries int
	limits  string // top-level YAML, e.g. "limits: {max_response_bytes: 1000}"
	client  string // under source.client, e.g. "    timeout: 1s"
}

// runHostile runs the files resource against a mock with c's faults and
// returns the ids loaded (by count) and the run's error.
func runHostile(t *testing.T, c hostileCase) (map[string]int, *mockapi.Running, error) {
	t.Helper()
	ctx := context.Background()
	api, err := mockapi.Start(ctx, "127.0.0.1:0", c.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = api.Close() })
	yml := fmt.Sprintf(hostilePipeline, c.retries, c.limits, api.URL, api.TokenURL, c.client)
	p, err := config.Parse("hostile.yaml", []byte(yml), config.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dest := "duckdb:" + filepath.Join(dir, "h.duckdb")
	_, err = pipeline.Run(ctx, p, pipeline.Options{Destination: dest, WorkDir: filepath.Join(dir, "work")})
	if err != nil {
		return nil, api, err
	}
	d, derr := destination.Open(ctx, dest, "hostile")
	if derr != nil {
		t.Fatal(derr)
	}
	defer d.Close()
	return readKeys(t, d, "files", "id"), api, nil
}

// checkAllOnce fails unless got holds each of the api's files once.
func checkAllOnce(t *testing.T, api *mockapi.Running, got map[string]int) {
	t.Helper()
	n := api.Server.Count("files")
	if len(got) != n {
		t.Errorf("%d distinct ids loaded, the API has %d", len(got), n)
	}
	for i := range n {
		id, _ := api.Server.Record("files", i)["id"].(string)
		if got[id] != 1 {
			t.Errorf("id %q loaded %d times, want once", id, got[id])
		}
	}
}

// TestBodyFaultsAreRetried: a body cut short, reset, stalled or trickled
// on a first try is retried under the retry policy, and every record
// lands once (issue 11, points 13 and 15).
func TestBodyFaultsAreRetried(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    hostileCase
	}{
		{"cut", hostileCase{opts: mockapi.Options{BodyFault: mockapi.FaultCut}}},
		{"reset", hostileCase{opts: mockapi.Options{BodyFault: mockapi.FaultReset}}},
		// client.timeout covers the body: a stall past it is retried.
		{"stall past client.timeout", hostileCase{opts: mockapi.Options{BodyFault: mockapi.FaultStall, BodyFaultPage: 2},
			client: "    timeout: 1s"}},
		{"stall past client.idle_read_timeout", hostileCase{opts: mockapi.Options{BodyFault: mockapi.FaultStall, BodyFaultPage: 3},
			client: "    idle_read_timeout: 300ms"}},
		// Bytes keep coming (no idle timeout), but the request's deadline passes.
		{"trickle past client.timeout", hostileCase{opts: mockapi.Options{BodyFault: mockapi.FaultTrickle, BodyFaultPage: 2, TrickleInterval: 20 * time.Millisecond},
			client: "    timeout: 1s\n    idle_read_timeout: 500ms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.opts.Records = 230
			tc.c.opts.MaxFaultStreak = 1
			tc.c.retries = 2
			start := time.Now()
			got, api, err := runHostile(t, tc.c)
			if err != nil {
				t.Fatalf("run failed: %v", err)
			}
			if api.Server.Stats().ServedBodyFaults == 0 {
				t.Fatal("the mock served no body fault")
			}
			checkAllOnce(t, api, got)
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("run took %v", d)
			}
		})
	}
}

// TestBodyFaultsExhaustRetries: a body that fails on every try fails the
// run once the policy's retries are spent, naming resource, page, URL and
// the attempts.
func TestBodyFaultsExhaustRetries(t *testing.T) {
	for _, tc := range []struct {
		name, client, want string
		fault              string
	}{
		{"cut", "", "unexpected EOF", mockapi.FaultCut},
		{"stall", "    idle_read_timeout: 200ms", "no byte of the response body for 200ms (client.idle_read_timeout)", mockapi.FaultStall},
		{"trickle", "    timeout: 600ms", "600ms (client.timeout)", mockapi.FaultTrickle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, api, err := runHostile(t, hostileCase{opts: mockapi.Options{Records: 120, BodyFault: tc.fault, BodyFaultPage: 2,
				MaxFaultStreak: 100, TrickleInterval: 20 * time.Millisecond}, retries: 2, client: tc.client})
			if err == nil {
				t.Fatal("run succeeded")
			}
			msg := err.Error()
			for _, want := range []string{"resource files: page 2", "GET " + api.URL + "/files?limit=50&page=2", "after 3 attempts", tc.want} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if n := api.Server.Stats().ServedBodyFaults; n != 3 {
				t.Errorf("%d faulted tries, want 3 (max_retries 2)", n)
			}
		})
	}
}

// TestResponseBodyCap: a body over limits.max_response_bytes, a lying
// Content-Length or a gzip bomb fails the resource clearly, at once (not
// retried), and memory stays bounded (issue 11, point 14).
func TestResponseBodyCap(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   mockapi.Options
		limits string
		want   string
	}{
		{"Content-Length 1e17", mockapi.Options{BodyFault: mockapi.FaultHugeLength},
			"", "response body is larger than limits.max_response_bytes (268435456 bytes): Content-Length 100000000000000000"},
		{"gzip bomb", mockapi.Options{BodyFault: mockapi.FaultGzipBomb, GzipBombBytes: 64 << 20},
			"limits: {max_response_bytes: 1048576}", "response body is larger than limits.max_response_bytes (1048576 bytes)"},
		{"plain body over the cap", mockapi.Options{},
			"limits: {max_response_bytes: 5000}", "response body is larger than limits.max_response_bytes (5000 bytes)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Records = 120
			tc.opts.MaxFaultStreak = 100
			_, api, err := runHostile(t, hostileCase{opts: tc.opts, retries: 2, limits: tc.limits})
			if err == nil {
				t.Fatal("run succeeded")
			}
			msg := err.Error()
			for _, want := range []string{"resource files: page 1", tc.want, "raise limits.max_response_bytes"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if st := api.Server.Stats(); st.DataRequests != 1 {
				t.Errorf("%d data requests, want 1 (not retried)", st.DataRequests)
			}
		})
	}
}

// TestPageCap: a cursor API that always answers a full page and a fresh
// cursor stops at limits.max_pages with an error that says so (issue 11,
// point 18).
func TestPageCap(t *testing.T) {
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"data":[{"id":%d}],"next":"c%d"}`, n, n)
	}))
	defer srv.Close()
	yml := `
pipeline: {name: endless, dataset: endless}
limits: {max_pages: 25}
source:
  client: {base_url: ` + srv.URL + `}
  resources:
    - name: items
      endpoint: {path: /items, data_selector: data, paginator: {type: cursor, cursor_path: next, cursor_param: c}}
`
	p, err := config.Parse("endless.yaml", []byte(yml), config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err = pipeline.Run(context.Background(), p, pipeline.Options{Destination: "duckdb:" + filepath.Join(dir, "e.duckdb"), WorkDir: dir})
	want := "resource items: page 25: GET " + srv.URL + "/items?c=c24: stopped after 25 pages (limits.max_pages); raise limits.max_pages if the API has more"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if n != 25 {
		t.Errorf("%d requests, want 25", n)
	}
}
