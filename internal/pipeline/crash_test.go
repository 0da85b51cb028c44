package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/destination/duckdb"
	_ "github.com/restload/restload/internal/destination/postgres"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/mockapi"
	"github.com/restload/restload/internal/pipeline"
	"github.com/restload/restload/internal/schema"
)

// gate is the mock API behind a counter of data requests, reset before
// each run. Armed with stopAt n, it holds the n-th data request open (the
// process stays in the middle of extraction) and closes reached; held
// requests end when their client dies. onFirst, when set, runs before the
// first data request of the run is served.
type gate struct {
	api *mockapi.Server
	mu  sync.Mutex
	cur *gateRun
	// open counts the server's open connections (connState).
	open atomic.Int64
}

// connState keeps g.open.
func (g *gate) connState(_ net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		g.open.Add(1)
	case http.StateClosed, http.StateHijacked:
		g.open.Add(-1)
	}
}

// quiet waits until a killed process's connections are all gone: a
// request it wrote just before it died may sit in the listen backlog and
// be accepted after the next run began, where connRun would stamp it with
// that run. Open connections must stay at zero for a while to count.
func (g *gate) quiet(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	still := 0
	for still < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("the killed run's %d connections were still open after 10 s", g.open.Load())
		}
		time.Sleep(20 * time.Millisecond)
		if g.open.Load() == 0 {
			still++
		} else {
			still = 0
		}
	}
}

type gateRun struct {
	data    atomic.Int64
	stopAt  int64
	reached chan struct{}
	once    sync.Once
	onFirst func()
}

// runKey is the context key of the run a connection was accepted for.
type runKey struct{}

// connRun stamps each new connection with the run current when it was
// accepted: a request a killed process sent just before it died can reach
// the handler after the next run began, and must not count for it.
func (g *gate) connRun(ctx context.Context, _ net.Conn) context.Context {
	g.mu.Lock()
	defer g.mu.Unlock()
	return context.WithValue(ctx, runKey{}, g.cur)
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	run, _ := r.Context().Value(runKey{}).(*gateRun)
	if run == nil {
		g.mu.Lock()
		run = g.cur
		g.mu.Unlock()
	}
	if !strings.HasSuffix(r.URL.Path, "/auth/token") {
		n := run.data.Add(1)
		if n == 1 && run.onFirst != nil {
			run.onFirst()
		}
		if run.stopAt > 0 && n >= run.stopAt {
			run.once.Do(func() { close(run.reached) })
			<-r.Context().Done()
			return
		}
	}
	g.api.ServeHTTP(w, r)
}

// reset starts counting a new run's requests.
func (g *gate) reset(stopAt int64, onFirst func()) *gateRun {
	run := &gateRun{stopAt: stopAt, reached: make(chan struct{}), onFirst: onFirst}
	g.mu.Lock()
	g.cur = run
	g.mu.Unlock()
	return run
}

// crashEnv is what every crash case shares: the restload binary, built
// once, and the mock API.
type crashEnv struct {
	bin  string
	api  *mockapi.Server
	gate *gate
	url  string
}

// restloadRun is one `restload run` process.
type restloadRun struct {
	cmd     *exec.Cmd
	out     strings.Builder
	summary string
	done    chan error
}

// start starts `restload run` of file into dest; killAt sets the test hook.
func (e *crashEnv) start(t *testing.T, file, dest, killAt string) *restloadRun {
	t.Helper()
	r := &restloadRun{summary: filepath.Join(t.TempDir(), "summary.json"), done: make(chan error, 1)}
	r.cmd = exec.Command(e.bin, "run", file, "--dest", dest, "--summary-json", r.summary)
	env := []string{
		"CLIENT_ID=" + mockapi.DefaultClientID,
		"CLIENT_SECRET=" + mockapi.DefaultClientSecret,
		"CLIENT_REFRESH_TOKEN=" + mockapi.DefaultRefreshToken,
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, load.KillEnv+"=") {
			env = append(env, kv)
		}
	}
	if killAt != "" {
		env = append(env, load.KillEnv+"="+killAt)
	}
	r.cmd.Env = env
	r.cmd.Stdout = &r.out
	r.cmd.Stderr = &r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start restload: %v", err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	return r
}

// wantKilled waits for r and fails unless SIGKILL ended it.
func (r *restloadRun) wantKilled(t *testing.T) {
	t.Helper()
	err := <-r.done
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("restload was not killed (wait: %v); output:\n%s", err, r.out.String())
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("restload ended with %v, want SIGKILL; output:\n%s", err, r.out.String())
	}
}

// wantOK waits for r, fails unless it succeeded, and returns its summary.
func (r *restloadRun) wantOK(t *testing.T) *pipeline.Summary {
	t.Helper()
	if err := <-r.done; err != nil {
		t.Fatalf("restload run: %v; output:\n%s", err, r.out.String())
	}
	b, err := os.ReadFile(r.summary)
	if err != nil {
		t.Fatal(err)
	}
	var s pipeline.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary %s: %v", b, err)
	}
	return &s
}

// pipelineFile writes a copy of the example pipeline pointed at the mock
// API, for dataset, with every resource's write disposition set to
// disposition.
func (e *crashEnv) pipelineFile(t *testing.T, dataset, disposition string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "analytics", "pipeline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for old, new := range map[string]string{
		"http://127.0.0.1:8080}/v2": e.url + "}/v2", // the default of ${env.ANALYTICS_URL:-...}
		"dataset: analytics":        "dataset: " + dataset,
		"write_disposition: merge":  "write_disposition: " + disposition,
	} {
		if !strings.Contains(s, old) {
			t.Fatalf("example pipeline no longer contains %q", old)
		}
		s = strings.ReplaceAll(s, old, new)
	}
	path := filepath.Join(t.TempDir(), "pipeline.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// packages lists the load packages on disk beside file (a missing folder
// holds none).
func packages(file string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(filepath.Dir(file), ".restload", "analytics", "packages"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out, err
}

func mustPackages(t *testing.T, file string) []string {
	t.Helper()
	p, err := packages(file)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// expected is what the API serves: per root table the ids of its records,
// per child table of a top-level list the number of its rows.
type expected struct {
	ids      map[string][]string
	children map[string]int
}

func apiRecords(api *mockapi.Server) expected {
	ex := expected{ids: map[string][]string{}, children: map[string]int{}}
	for _, res := range api.Resources() {
		for i := range api.Count(res) {
			rec := api.Record(res, i)
			ex.ids[res] = append(ex.ids[res], rec["id"].(string))
			for k, v := range rec {
				if list, ok := v.([]any); ok {
					ex.children[res+"__"+schema.NormalizeIdentifier(k)] += len(list)
				}
			}
		}
	}
	return ex
}

// checkOnce fails unless every root table holds each of the API's records
// exactly once per load in loadIDs (every row's load id is one of them),
// and every child table the rows of those records.
func checkOnce(t *testing.T, d destination.Destination, ex expected, loadIDs int) {
	t.Helper()
	ctx := context.Background()
	for table, ids := range ex.ids {
		seen := map[string]int{}
		loads := map[string]bool{}
		err := d.Read(ctx, table, func(row map[string]any) error {
			id, _ := row["id"].(string)
			seen[id]++
			l, _ := row[schema.ColLoadID].(string)
			loads[l] = true
			return nil
		})
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		if len(seen) != len(ids) {
			t.Errorf("table %s holds %d distinct ids, the API serves %d", table, len(seen), len(ids))
		}
		if len(loads) != loadIDs {
			t.Errorf("table %s holds rows of %d loads, want %d", table, len(loads), loadIDs)
		}
		for _, id := range ids {
			if seen[id] != loadIDs {
				t.Errorf("table %s: record %s appears %d times, want %d", table, id, seen[id], loadIDs)
				break
			}
		}
	}
	for table, want := range ex.children {
		n := 0
		err := d.Read(ctx, table, func(map[string]any) error { n++; return nil })
		if err != nil && !(errors.Is(err, destination.ErrNoTable) && want == 0) {
			t.Fatalf("read %s: %v", table, err)
		}
		if n != want*loadIDs {
			t.Errorf("child table %s has %d rows, want %d", table, n, want*loadIDs)
		}
	}
}

// crashDest is a destination the crash cases run against.
type crashDest struct {
	name string
	// url returns the destination URL for a fresh dataset, registering its
	// cleanup.
	url func(t *testing.T, dataset string) string
}

func crashDests() []crashDest {
	return []crashDest{
		{"duckdb", func(t *testing.T, _ string) string {
			return "duckdb:" + filepath.Join(t.TempDir(), "crash.duckdb")
		}},
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
	}
}

// TestCrashAndResume kills `restload run` with SIGKILL at several points of
// a run against the mock API, runs it again, and checks that the second run
// ends with exactly the API's records, once each (once per load for
// append), in DuckDB, PostgreSQL and MySQL; and that a package sealed before the
// kill is loaded before the API is called again.
func TestCrashAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the restload binary")
	}
	bin := filepath.Join(t.TempDir(), "restload")
	build := exec.Command("go", "build", "-tags", duckdb.BuildTags, "-o", bin, "./cmd/restload")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	api := mockapi.New(mockapi.Options{
		Records:    230, // three pages of 100 per resource
		RecordsPer: map[string]int{"teams": 40, "templates": 101},
	})
	g := &gate{api: api}
	g.reset(0, nil)
	srv := httptest.NewUnstartedServer(g)
	srv.Config.ConnContext = g.connRun
	srv.Config.ConnState = g.connState
	srv.Start()
	defer srv.Close()
	env := &crashEnv{bin: bin, api: api, gate: g, url: srv.URL}
	ex := apiRecords(api)

	cases := []struct {
		name        string
		disposition string
		// killAt is the test hook's kill point; "" kills from outside
		// while the stopAt-th data request is held open.
		killAt string
		stopAt int64
		// sealed: a package survives the kill and must be loaded first.
		sealed bool
		// rowLoads is how many loads' rows each table ends with (merge
		// keeps the newest row per key); loads the length of the loads
		// table.
		rowLoads, loads int
	}{
		{name: "merge_mid_extract", disposition: schema.Merge, stopAt: 7, rowLoads: 1, loads: 1},
		{name: "merge_before_load", disposition: schema.Merge, killAt: load.KillBeforeLoad, sealed: true, rowLoads: 1, loads: 2},
		{name: "merge_mid_load", disposition: schema.Merge, killAt: load.KillMidLoad, sealed: true, rowLoads: 1, loads: 2},
		{name: "append_mid_extract", disposition: schema.Append, stopAt: 12, rowLoads: 1, loads: 1},
		{name: "append_mid_load", disposition: schema.Append, killAt: load.KillMidLoad, sealed: true, rowLoads: 2, loads: 2},
		// Committed but not removed: the loads table must stop a second
		// load of the same package.
		{name: "append_after_commit", disposition: schema.Append, killAt: load.KillAfterCommit, sealed: true, rowLoads: 2, loads: 2},
	}
	for _, dst := range crashDests() {
		t.Run(dst.name, func(t *testing.T) {
			// A clean run: how many data requests one extraction makes.
			ds := destinationtest.Dataset(t)
			file := env.pipelineFile(t, ds, schema.Merge)
			clean := g.reset(0, nil)
			env.start(t, file, dst.url(t, ds), "").wantOK(t)
			perRun := clean.data.Load()

			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					ds := destinationtest.Dataset(t)
					url := dst.url(t, ds)
					file := env.pipelineFile(t, ds, c.disposition)

					first := g.reset(c.stopAt, nil)
					run := env.start(t, file, url, c.killAt)
					if c.killAt == "" {
						select {
						case <-first.reached:
						case err := <-run.done:
							t.Fatalf("restload ended (%v) before making %d data requests; output:\n%s", err, c.stopAt, run.out.String())
						}
						if err := run.cmd.Process.Kill(); err != nil {
							t.Fatal(err)
						}
					}
					run.wantKilled(t)

					left := mustPackages(t, file)
					if c.sealed && len(left) != 1 {
						t.Fatalf("after the kill the work dir holds packages %v, want the one sealed package", left)
					}
					// Whether the pending package is still on disk when the
					// next run first calls the API.
					var pendingAtFirstCall atomic.Value
					onFirst := func() {
						p, err := packages(file)
						pendingAtFirstCall.Store(fmt.Sprint(p, err))
					}
					g.quiet(t)
					second := g.reset(0, onFirst)
					sum := env.start(t, file, url, "").wantOK(t)

					if c.sealed {
						if len(sum.Pending) != 1 || sum.Pending[0] != left[0] {
							t.Errorf("second run loaded pending packages %v first, want [%s]", sum.Pending, left[0])
						}
						if got, _ := pendingAtFirstCall.Load().(string); got == "" || strings.Contains(got, left[0]) {
							t.Errorf("the second run called the API while package %s was still pending (packages then: %s)", left[0], got)
						}
					} else if len(sum.Pending) != 0 {
						t.Errorf("second run loaded pending packages %v; the killed run had sealed none", sum.Pending)
					}
					if got := second.data.Load(); got != perRun {
						t.Errorf("second run made %d data requests, one extraction makes %d", got, perRun)
					}
					if left := mustPackages(t, file); len(left) != 0 {
						t.Errorf("packages left after a successful run: %v", left)
					}

					d, err := destination.Open(context.Background(), url, ds)
					if err != nil {
						t.Fatal(err)
					}
					defer d.Close()
					checkOnce(t, d, ex, c.rowLoads)
					loads, err := load.Loads(context.Background(), d)
					if err != nil {
						t.Fatal(err)
					}
					if len(loads) != c.loads {
						t.Errorf("loads table has %d loads, want %d: %+v", len(loads), c.loads, loads)
					}
					seen := map[string]bool{}
					for _, l := range loads {
						if seen[l.LoadID] {
							t.Errorf("load %s recorded twice", l.LoadID)
						}
						seen[l.LoadID] = true
					}
					if c.sealed && !seen[left[0]] {
						t.Errorf("the pending load %s is not in the loads table %+v", left[0], loads)
					}
				})
			}
		})
	}
}
