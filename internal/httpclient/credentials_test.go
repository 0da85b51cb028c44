package httpclient

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/restload/restload/internal/apitest"
)

// newRecorder is an apitest server (it records every request) answering
// with h, or {} when h is nil.
func newRecorder(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *apitest.Server {
	t.Helper()
	return apitest.New(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if h != nil {
			h(w, r)
			return
		}
		io.WriteString(w, `{}`)
	})
}

// guardedClient is the API client as pipelines build it: a CredentialGuard
// for origin under the auth-like headers a test sets per request.
func guardedClient(origin string, red *Redactor, credHeaders ...string) *Client {
	o, err := ParseOrigin(origin)
	if err != nil {
		panic(err)
	}
	g := &CredentialGuard{Origin: o, Headers: credHeaders, Redactor: red}
	return &Client{HTTP: &http.Client{Transport: g, CheckRedirect: RedirectPolicy(nil)}, Redactor: red}
}

func credentialRequest(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Custom", "s3cr3t-header-value")
	req.Header.Set("X-Api-Key", "literal-key-1234")
	req.Header.Set("Authorization", "Bearer tok-abcdef")
	req.Header.Set("Cookie", "session=cookie-val-99")
	req.Header.Set("Accept", "application/json")
	return req
}

var credentialNames = []string{"X-Custom", "X-Api-Key", "Authorization", "Cookie"}

// TestCredentialsOnlyToOrigin: a request to the API's origin carries every
// credential; one to another host (127.0.0.1 on another port counts), sent
// directly (a next link) or reached by a redirect, carries none of them and
// no Referer, but still goes out with its other headers.
func TestCredentialsOnlyToOrigin(t *testing.T) {
	other := newRecorder(t, nil)
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-other":
			http.Redirect(w, r, other.URL+"/landed?x=1", http.StatusFound)
		case "/to-self":
			http.Redirect(w, r, "/landed", http.StatusTemporaryRedirect)
		default:
			io.WriteString(w, `{}`)
		}
	})
	c := guardedClient(api.URL+"/v1", NewRedactor(), "x-custom")
	for _, u := range []string{api.URL + "/data?api_key=q-secret", api.URL + "/to-other?token=q-secret", other.URL + "/next", api.URL + "/to-self?token=q-secret"} {
		resp, err := c.Do(context.Background(), credentialRequest(t, u))
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		resp.Body.Close()
	}
	apiGot, otherGot := api.Requests(""), other.Requests("")
	if len(apiGot) != 4 || len(otherGot) != 2 {
		t.Fatalf("api got %d requests, other %d; want 4 and 2", len(apiGot), len(otherGot))
	}
	for i, req := range apiGot {
		for _, name := range credentialNames {
			if req.Header.Get(name) == "" {
				t.Errorf("API request %d (%s) lacks %s", i, req.Path, name)
			}
		}
		if ref := req.Header.Get("Referer"); ref != "" {
			t.Errorf("API request %d (%s) sent Referer %q", i, req.Path, ref)
		}
	}
	for i, req := range otherGot {
		for _, name := range append(credentialNames, "Referer") {
			if v := req.Header.Get(name); v != "" {
				t.Errorf("other host request %d (%s) got %s: %q", i, req.Path, name, v)
			}
		}
		if req.Header.Get("Accept") != "application/json" {
			t.Errorf("other host request %d lost its ordinary headers: %v", i, req.Header)
		}
	}
}

// TestCredentialHeaderBySecretValue: a header whose value holds a secret the
// Redactor knows is a credential whatever its name.
func TestCredentialHeaderBySecretValue(t *testing.T) {
	other := newRecorder(t, nil)
	c := guardedClient("https://api.example.com", NewRedactor("the-secret-value"))
	req, _ := http.NewRequest("GET", other.URL+"/x", nil)
	req.Header.Set("X-Plain", "prefix the-secret-value")
	req.Header.Set("X-Fine", "public")
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := other.Requests("")[0].Header
	if h.Get("X-Plain") != "" || h.Get("X-Fine") != "public" {
		t.Errorf("other host got X-Plain %q, X-Fine %q; want none and public", h.Get("X-Plain"), h.Get("X-Fine"))
	}
}

func TestOriginContains(t *testing.T) {
	o, _ := ParseOrigin("https://API.example.com/v1")
	bare, _ := ParseOrigin("api.example.com")
	port, _ := ParseOrigin("api.example.com:8443")
	tests := []struct {
		o    Origin
		u    string
		want bool
	}{
		{o, "https://api.example.com/x", true},
		{o, "https://api.example.com:443/x", true},
		{o, "http://api.example.com/x", false},
		{o, "https://api.example.com:8443/x", false},
		{o, "https://evil.example.com/x", false},
		{o, "https://api.example.com.evil.test/x", false},
		{o, "https://api.example.com@evil.test/x", false},
		{bare, "http://api.example.com:1234/x", true},
		{port, "https://api.example.com:8443/x", true},
		{port, "https://api.example.com/x", false},
		{Origin{}, "https://api.example.com/x", false},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.u)
		if got := tt.o.Contains(u); got != tt.want {
			t.Errorf("%s contains %s = %v", tt.o, tt.u, got)
		}
	}
}

// TestEchoedCredentialsRedacted: an API that echoes the request's headers
// in an error body shows neither the Basic value, nor the password it
// encodes, nor a bearer token obtained at run time.
func TestEchoedCredentialsRedacted(t *testing.T) {
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		user, pw, _ := r.BasicAuth()
		fmt.Fprintf(w, "%s denied: %s | %s | %s:%s | %s", r.Header.Get("Cookie"), r.Header.Get("Authorization"), r.Header.Get("Proxy-Authorization"), user, pw,
			base64.RawURLEncoding.EncodeToString([]byte(pw)))
	})
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:pa55word!"))
	red := NewRedactor()
	c := guardedClient(api.URL, red)
	req, _ := http.NewRequest("GET", api.URL+"/x", nil)
	req.Header.Set("Authorization", basic)
	req.Header.Set("Proxy-Authorization", "Bearer runtime-access-token")
	req.Header.Set("Cookie", "consent=true; session=cookie-session-42")
	_, err := c.Do(context.Background(), req)
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a StatusError", err)
	}
	msg := err.Error()
	for _, leak := range []string{"pa55word", "runtime-access-token", strings.TrimPrefix(basic, "Basic "), "cookie-session-42"} {
		if strings.Contains(msg, leak) {
			t.Errorf("error shows %q: %s", leak, msg)
		}
	}
	if got := red.String("consent=true"); got != "consent=true" {
		t.Errorf("a short cookie flag is masked: %s", got)
	}
	if want := "denied: " + Mask + " | " + Mask + " | " + Mask + " | " + Mask; !strings.HasSuffix(msg, want) {
		t.Errorf("error = %s, want the body with the credentials masked", msg)
	}
}

// TestCheckRedirectLimit: redirects stop after MaxRedirects.
func TestCheckRedirectLimit(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+r.URL.Path+"x", http.StatusFound)
	}))
	defer srv.Close()
	c := guardedClient(srv.URL, nil)
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	_, err := c.Do(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Fatalf("err = %v, want stopped after 10 redirects", err)
	}
}
