package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/pipeline"
)

// forge is a small GitHub-like API written for the parent/child,
// incremental, processing-step and response-action tests:
//
//	GET  /orgs                                  [{login}]
//	GET  /orgs/{login}/repos                    [{id, name, archived, updated_at}]
//	GET  /repos/{id}/issues?since=&page=        {"items": [...], "next": url|null}, 2 per page
//	GET  /repos/{id}/issues/{number}/comments   [{id, body}]
//	GET  /repos/{id}/topics                     {"names": [...]}
//	GET  /labels?repo={id}                      [{name}]
//	POST /search {"repo_id": id}                {"results": [{hit}]}
//	GET  /stats  (header X-Repo: id)            {stars}
//	GET  /events                                204 No Content
//	GET  /reports                               200 {"status": "report not ready"}
//	GET  /quota                                 400 {"message": "quota exhausted"}
//	GET  /forbidden                             403 {"message": "no access"}
//
// Repo 3 is listed but deleted: everything under /repos/3 and every child
// endpoint asked about repo 3 answers 404. Every request is logged.
type forge struct {
	*httptest.Server
	mu     sync.Mutex
	log    []forgeRequest
	issues map[int][]map[string]any // by repo id
	// failPage, when set, makes that page of every issues list answer 403.
	failPage int
	// holdComments makes each comments request wait (up to a few seconds)
	// until another one is in flight, so a test can see parallel fetches.
	holdComments bool
	inflight     int
	peak         int
	release      chan struct{}
}

type forgeRequest struct {
	Method, Path string
	Query        map[string]string
	Repo         string // X-Repo header
	Body         string
}

func newForge(t *testing.T) *forge {
	t.Helper()
	f := &forge{issues: map[int][]map[string]any{}, release: make(chan struct{})}
	for _, repo := range []int{1, 2, 3} {
		n := 5
		if repo == 2 {
			n = 1
		}
		for i := 1; i <= n; i++ {
			f.issues[repo] = append(f.issues[repo], map[string]any{
				"number": repo*100 + i, "title": fmt.Sprintf("issue %d of repo %d", i, repo),
				"state": []string{"open", "closed"}[i%2], "updated_at": fmt.Sprintf("2024-01-%02dT00:00:00Z", i),
			})
		}
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// addIssue adds an issue to repo, updated on day (of January 2024).
func (f *forge) addIssue(repo, number, day int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.issues[repo] = append(f.issues[repo], map[string]any{
		"number": number, "title": fmt.Sprintf("issue %d", number), "state": "open",
		"updated_at": fmt.Sprintf("2024-01-%02dT00:00:00Z", day),
	})
}

// requests returns the logged requests whose path starts with prefix, and
// clears the log when reset is set.
func (f *forge) requests(prefix string) []forgeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []forgeRequest
	for _, r := range f.log {
		if strings.HasPrefix(r.Path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func (f *forge) resetLog() {
	f.mu.Lock()
	f.log = nil
	f.mu.Unlock()
}

func (f *forge) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	q := map[string]string{}
	for k := range r.URL.Query() {
		q[k] = r.URL.Query().Get(k)
	}
	f.mu.Lock()
	f.log = append(f.log, forgeRequest{Method: r.Method, Path: r.URL.Path, Query: q, Repo: r.Header.Get("X-Repo"), Body: string(body)})
	f.mu.Unlock()

	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	notFound := func() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"message": "Not Found"}`)
	}
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/orgs":
		reply([]any{map[string]any{"login": "acme"}})
	case len(seg) == 3 && seg[0] == "orgs" && seg[2] == "repos":
		if seg[1] != "acme" {
			notFound()
			return
		}
		reply([]any{
			map[string]any{"id": 1, "name": "widgets", "archived": false, "updated_at": "2024-01-01T00:00:00Z"},
			map[string]any{"id": 2, "name": "gadgets", "archived": true, "updated_at": "2024-01-02T00:00:00Z"},
			map[string]any{"id": 3, "name": "deleted", "archived": false, "updated_at": "2024-01-03T00:00:00Z"},
		})
	case seg[0] == "repos" && len(seg) >= 3:
		repo, _ := strconv.Atoi(seg[1])
		if repo == 3 || repo == 0 {
			notFound()
			return
		}
		switch {
		case len(seg) == 3 && seg[2] == "issues":
			f.serveIssues(w, r, repo, reply)
		case len(seg) == 5 && seg[2] == "issues" && seg[4] == "comments":
			num, _ := strconv.Atoi(seg[3])
			f.hold()
			reply([]any{
				map[string]any{"id": num*10 + 1, "body": "first"},
				map[string]any{"id": num*10 + 2, "body": "second"},
			})
		case len(seg) == 3 && seg[2] == "topics":
			reply(map[string]any{"names": []any{fmt.Sprintf("topic-%d", repo)}})
		default:
			notFound()
		}
	case r.URL.Path == "/labels":
		repo := r.URL.Query().Get("repo")
		if repo == "3" || repo == "" {
			notFound()
			return
		}
		reply([]any{map[string]any{"name": "bug-" + repo}, map[string]any{"name": "docs-" + repo}})
	case r.URL.Path == "/search" && r.Method == http.MethodPost:
		var req map[string]any
		if err := json.Unmarshal(body, &req); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, `{"message": "want a JSON body"}`, http.StatusBadRequest)
			return
		}
		id := fmt.Sprint(req["repo_id"])
		if id == "3" {
			notFound()
			return
		}
		reply(map[string]any{"results": []any{map[string]any{"hit": "repo-" + id, "query": req["q"]}}})
	case r.URL.Path == "/stats":
		repo := r.Header.Get("X-Repo")
		if repo == "3" || repo == "" {
			notFound()
			return
		}
		n, _ := strconv.Atoi(repo)
		reply(map[string]any{"stars": n * 10})
	case r.URL.Path == "/events":
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/reports":
		reply(map[string]any{"status": "report not ready"})
	case r.URL.Path == "/quota":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"message": "quota exhausted"}`)
	case r.URL.Path == "/forbidden":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"message": "no access"}`)
	default:
		notFound()
	}
}

// hold counts a comments request in flight and, with holdComments, waits
// for a second one (or gives up after a few seconds, which the test then
// reports as no parallelism).
func (f *forge) hold() {
	f.mu.Lock()
	f.inflight++
	f.peak = max(f.peak, f.inflight)
	if f.holdComments && f.inflight >= 2 {
		select {
		case <-f.release:
		default:
			close(f.release)
		}
	}
	hold := f.holdComments
	f.mu.Unlock()
	if hold {
		select {
		case <-f.release:
		case <-time.After(3 * time.Second):
		}
	}
	f.mu.Lock()
	f.inflight--
	f.mu.Unlock()
}

// serveIssues answers one page (2 issues) of a repo's issues updated at or
// after ?since, sorted by updated_at, with a json "next" link.
func (f *forge) serveIssues(w http.ResponseWriter, r *http.Request, repo int, reply func(any)) {
	since := r.URL.Query().Get("since")
	f.mu.Lock()
	var list []map[string]any
	for _, is := range f.issues[repo] {
		if since == "" || is["updated_at"].(string) >= since {
			list = append(list, is)
		}
	}
	f.mu.Unlock()
	sort.SliceStable(list, func(i, j int) bool { return list[i]["updated_at"].(string) < list[j]["updated_at"].(string) })
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page < 1 {
		page = 1
	}
	if page == f.failPage {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"message": "rate limit for this token"}`)
		return
	}
	const per = 2
	lo := min((page-1)*per, len(list))
	hi := min(lo+per, len(list))
	var next any
	if hi < len(list) {
		u := *r.URL
		qq := u.Query()
		qq.Set("page", strconv.Itoa(page+1))
		u.RawQuery = qq.Encode()
		next = u.String()
	}
	items := make([]any, 0, hi-lo)
	for _, is := range list[lo:hi] {
		items = append(items, is)
	}
	reply(map[string]any{"items": items, "next": next})
}

var forgeEnv = map[string]string{"FORGE_KEY": "sekrit-key-4711"}

// forgePipeline parses src, a pipeline file whose base_url is BASE, against
// f.
func forgePipeline(t *testing.T, f *forge, src string) *config.Pipeline {
	t.Helper()
	src = strings.ReplaceAll(src, "BASE", f.URL)
	p, err := config.Parse(filepath.Join(t.TempDir(), "forge.yaml"), []byte(src), config.LoadOptions{
		LookupEnv: func(k string) (string, bool) { v, ok := forgeEnv[k]; return v, ok },
	})
	if err != nil {
		t.Fatalf("parse pipeline:\n%v", err)
	}
	return p
}

// runForge runs p into the DuckDB file dest.
func runForge(t *testing.T, p *config.Pipeline, dest string) (*pipeline.Summary, error) {
	t.Helper()
	return pipeline.Run(context.Background(), p, pipeline.Options{
		Destination: "duckdb:" + dest,
		WorkDir:     filepath.Join(filepath.Dir(dest), "work"),
	})
}

// rows reads table from the DuckDB file dest, each row as column -> text,
// sorted.
func rows(t *testing.T, dest, dataset, table string, cols ...string) []string {
	t.Helper()
	d, err := destination.Open(context.Background(), "duckdb:"+dest, dataset)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var out []string
	err = d.Read(context.Background(), table, func(row map[string]any) error {
		parts := make([]string, len(cols))
		for i, c := range cols {
			parts[i] = fmt.Sprint(row[c])
		}
		out = append(out, strings.Join(parts, " "))
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	slices.Sort(out)
	return out
}

// hasTable reports whether table exists in dest.
func hasTable(t *testing.T, dest, dataset, table string) bool {
	t.Helper()
	d, err := destination.Open(context.Background(), "duckdb:"+dest, dataset)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	return d.Read(context.Background(), table, func(map[string]any) error { return nil }) == nil
}
