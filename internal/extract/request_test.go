package extract

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/restload/restload/internal/config"
)

func TestRender(t *testing.T) {
	b := Bindings{"resources.a.id": "7", "id": "x"}
	tests := []struct{ in, want, err string }{
		{"a/{resources.a.id}/b", "a/7/b", ""},
		{"{{literal}} {id}", "{literal} x", ""},
		{"query { users { id } }", "query { users { id } }", ""},
		{`{"json": 1}`, `{"json": 1}`, ""},
		{"a/{nope}", "", "placeholder {nope} has no value"},
	}
	for _, tc := range tests {
		got, err := render(tc.in, b, nil)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("render(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("render(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNewRequest(t *testing.T) {
	tests := []struct {
		name string
		ep   config.Endpoint
		b    Bindings
		url  string
		body string
		ct   string
	}{
		{"params bound into the path leave the query", config.Endpoint{Path: "users/{id}/x", Params: map[string]any{"id": 5, "q": "a b"}},
			nil, "http://api/v1/users/5/x?q=a+b", "", ""},
		{"resolve param not in the path is a query param", config.Endpoint{Path: "items", Params: map[string]any{"owner": map[string]any{"type": "resolve", "resource": "u", "field": "id"}}},
			Bindings{"owner": "9"}, "http://api/v1/items?owner=9", "", ""},
		{"absolute path replaces base_url", config.Endpoint{Path: "https://other.example/{resources.p.path}"},
			Bindings{"resources.p.path": "z"}, "https://other.example/z", "", ""},
		{"incremental start_param and shorthand", config.Endpoint{Path: "e", Params: map[string]any{"since": map[string]any{"type": "incremental"}},
			Incremental: &config.Incremental{StartParam: "from", EndParam: "to"}},
			Bindings{StartValue: "1", EndValue: "2"}, "http://api/v1/e?from=1&since=1&to=2", "", ""},
		{"form data", config.Endpoint{Path: "f", Method: "post", Data: map[string]any{"a": 1, "b": "x y"}},
			nil, "http://api/v1/f", "a=1&b=x+y", "application/x-www-form-urlencoded"},
		{"json with placeholders in keys and values", config.Endpoint{Path: "j", Method: "POST", JSON: map[string]any{"k_{resources.p.id}": []any{"{resources.p.id}", 1}}},
			Bindings{"resources.p.id": "4"}, "http://api/v1/j", `{"k_4":["4",1]}`, "application/json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := tc.ep
			req, err := newRequest(Resource{Name: "r", BaseURL: "http://api/v1/", Endpoint: &ep, Bindings: tc.b})
			if err != nil {
				t.Fatal(err)
			}
			hr, err := toHTTP(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if hr.URL.String() != tc.url {
				t.Errorf("url %s, want %s", hr.URL, tc.url)
			}
			var body string
			if hr.Body != nil {
				b, _ := io.ReadAll(hr.Body)
				body = string(b)
			}
			if body != tc.body || hr.Header.Get("Content-Type") != tc.ct {
				t.Errorf("body %q (%s), want %q (%s)", body, hr.Header.Get("Content-Type"), tc.body, tc.ct)
			}
		})
	}
}

func TestParentRefsAndBindings(t *testing.T) {
	r := &config.Resource{Name: "c", Endpoint: &config.Endpoint{
		Path:    "x/{resources.p.id}",
		Params:  map[string]any{"legacy": map[string]any{"type": "resolve", "resource": "p", "field": "meta.slug"}},
		Headers: map[string]string{"X": "{resources.p.$.tags[0]}"},
	}}
	refs := ParentRefs(r)
	if len(refs) != 3 {
		t.Fatalf("refs %v, want 3", refs)
	}
	rec := map[string]any{"id": 1, "meta": map[string]any{"slug": "s"}, "tags": []any{"t0"}}
	b, err := ParentBindings("p", refs, rec)
	if err != nil {
		t.Fatal(err)
	}
	if b["resources.p.id"] != "1" || b["legacy"] != "s" || b["resources.p.$.tags[0]"] != "t0" {
		t.Errorf("bindings %v", b)
	}
	if _, err := ParentBindings("p", refs, map[string]any{"id": nil, "meta": rec["meta"], "tags": rec["tags"]}); err == nil || !strings.Contains(err.Error(), `parent p record has a null "id"`) {
		t.Errorf("null field error %v", err)
	}
}
