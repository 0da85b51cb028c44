package extract_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/restload/restload/internal/apitest"
	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/extract"
	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/paginate"
)

// TestWalkParentsDriveChildren: each page of a parent drives its child
// once per record (with the parent's value in the path and the field
// include_from_parent names); a child that fails stops its further runs
// and fails its own children, not its parent; a record the Record hook
// drops reaches neither the page nor the children.
func TestWalkParentsDriveChildren(t *testing.T) {
	api := apitest.New(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/users":
			fmt.Fprint(w, `[{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}, {"id": 4, "name": "d"}]`)
		case "/users/3/posts":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error": "gone"}`)
		default:
			fmt.Fprintf(w, `[{"pid": %q}]`, r.URL.Path)
		}
	})
	node := func(name, path string) *extract.Node {
		r := &config.Resource{Name: name, Endpoint: &config.Endpoint{Path: path}}
		return &extract.Node{
			Resource:  extract.Resource{Name: name, BaseURL: api.URL, Endpoint: r.Endpoint, Paginator: &config.Paginator{Config: paginate.Config{Type: "single_page"}}},
			Extractor: &extract.Extractor{Client: &httpclient.Client{HTTP: api.Client()}},
			Refs:      extract.ParentRefs(r),
		}
	}
	var mu sync.Mutex
	got := map[string][]string{}
	collect := func(n *extract.Node) {
		n.Page = func(ctx context.Context, page int, recs []map[string]any) error {
			mu.Lock()
			defer mu.Unlock()
			for _, rec := range recs {
				got[n.Resource.Name] = append(got[n.Resource.Name], fmt.Sprintf("%v %v %v", rec["id"], rec["pid"], rec["_users_name"]))
			}
			return nil
		}
	}
	users, posts, likes := node("users", "users"), node("posts", "users/{resources.users.id}/posts"), node("likes", "likes/{resources.posts.pid}")
	users.Record = func(page, index int, rec map[string]any) (map[string]any, error) {
		if rec["name"] == "b" {
			return nil, nil
		}
		return rec, nil
	}
	posts.IncludeFromParent = []string{"name"}
	for _, n := range []*extract.Node{users, posts, likes} {
		collect(n)
	}
	users.AddChild(posts)
	posts.AddChild(likes)
	extract.Walk(context.Background(), users)

	if err := users.Err(); err != nil || users.Pages() != 1 {
		t.Errorf("users: %v, %d pages; want no error, one page", err, users.Pages())
	}
	if want := "1 <nil> <nil>|3 <nil> <nil>|4 <nil> <nil>"; strings.Join(got["users"], "|") != want {
		t.Errorf("users pages: %q, want %q", got["users"], want)
	}
	if want := "<nil> /users/1/posts a"; strings.Join(got["posts"], "|") != want {
		t.Errorf("posts pages: %q, want only user 1's (user 2 dropped, user 3 failed and stopped the rest)", got["posts"])
	}
	if err := posts.Err(); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("posts error: %v, want the 404", err)
	}
	if err := likes.Err(); err == nil || err.Error() != "resource likes: parent posts failed" {
		t.Errorf("likes error: %v, want its parent's failure", err)
	}
	if n := len(api.Requests("/users/4/posts")); n != 0 {
		t.Errorf("user 4's posts were requested %d times after the child failed", n)
	}
	if !posts.SubtreeFailed() || !users.SubtreeFailed() {
		t.Error("SubtreeFailed does not see the failed child")
	}
}
