package cli_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// pokeAPI is a stand-in for PokéAPI as its description says it behaves:
// every /api/v2/<kind>/ list pages with offset and limit and answers
// {count, next, previous, results: [{name, url}]}.
func pokeAPI(t *testing.T, perKind int) *httptest.Server {
	list := regexp.MustCompile(`^/api/v2/([a-z-]+)/$`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := list.FindStringSubmatch(r.URL.Path)
		if m == nil {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		off, _ := strconv.Atoi(q.Get("offset"))
		lim, err := strconv.Atoi(q.Get("limit"))
		if err != nil {
			lim = 20
		}
		results := []any{}
		for i := off; i < off+lim && i < perKind; i++ {
			results = append(results, map[string]any{"name": fmt.Sprintf("%s-%d", m[1], i), "url": fmt.Sprintf("https://pokeapi.co/api/v2/%s/%d/", m[1], i+1)})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"count": perKind, "next": nil, "previous": nil, "results": results})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// petstore is a stand-in for the Swagger Petstore (OpenAPI 3): pets by
// status and by tag, each a JSON list; the api_key header is required.
func petstore(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("api_key") != "special-key" {
			http.Error(w, "api_key", http.StatusUnauthorized)
			return
		}
		var pets []any
		switch r.URL.Path {
		case "/api/v3/pet/findByStatus":
			for i := range 12 {
				pets = append(pets, map[string]any{"id": i, "name": "pet" + strconv.Itoa(i), "status": r.URL.Query().Get("status"),
					"category": map[string]any{"id": 1, "name": "Dogs"}, "photoUrls": []string{"u"}, "tags": []any{map[string]any{"id": 1, "name": "t"}}})
			}
		case "/api/v3/pet/findByTags":
			pets = []any{map[string]any{"id": 99, "name": "tagged", "photoUrls": []string{}}}
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(pets)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestInitRealSpecsRun generates pipelines from two vendored public
// descriptions and runs each against a local stand-in that behaves as the
// description says: every list endpoint loads every record.
func TestInitRealSpecsRun(t *testing.T) {
	t.Run("pokeapi", func(t *testing.T) {
		const perKind = 130 // two pages of the 100 the file asks for
		srv := pokeAPI(t, perKind)
		file, text := initFile(t, "--openapi", filepath.Join(specDir, "real/pokeapi.openapi.yaml"), "--base-url", srv.URL)
		checkGenerated(t, file, text)
		dest := runInto(t, file)
		names := regexp.MustCompile(`(?m)^    - name: (\S+)$`).FindAllStringSubmatch(text, -1)
		if len(names) < 40 {
			t.Fatalf("only %d resources written", len(names))
		}
		for _, n := range names {
			if got := countIn(t, dest, "poke_api_dataset", n[1]); got != perKind {
				t.Errorf("table %s: %d rows, want %d", n[1], got, perKind)
			}
		}
	})
	t.Run("swagger-petstore", func(t *testing.T) {
		srv := petstore(t)
		file, text := initFile(t, "--openapi", filepath.Join(specDir, "real/swagger-petstore.openapi.yaml"), "--base-url", srv.URL+"/api/v3")
		checkGenerated(t, file, text)
		t.Setenv("API_KEY", "special-key")
		dest := runInto(t, file)
		for table, want := range map[string]int{"find_by_status": 12, "find_by_tags": 1, "find_by_status__tags": 12} {
			if got := countIn(t, dest, "swagger_petstore_open_api_3_0_dataset", table); got != want {
				t.Errorf("table %s: %d rows, want %d", table, got, want)
			}
		}
		if !strings.Contains(text, "api_key: ${secrets.api_key}") {
			t.Errorf("no api_key auth:\n%s", text)
		}
	})
}
