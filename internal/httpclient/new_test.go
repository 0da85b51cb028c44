package httpclient_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/restload/restload/internal/apitest"
	"github.com/restload/restload/internal/httpclient"
)

// TestNewWiresGuardAuthAndTokens: a client from New sends auth and the
// credential headers to the API's origin only (a redirect elsewhere gets
// neither, nor a Referer), and tokens its auth obtains through the token
// client are masked by the redactor.
func TestNewWiresGuardAuthAndTokens(t *testing.T) {
	other := apitest.New(t, func(w http.ResponseWriter, r *http.Request, n int) { _, _ = io.WriteString(w, "[]") })
	api := apitest.New(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/token":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"access_token": "tok-obtained-123", "token_type": "bearer"}`)
		case "/data":
			http.Redirect(w, r, other.URL+"/elsewhere?x=1", http.StatusFound)
		}
	})
	red := httpclient.NewRedactor("key-secret-456")
	c, err := httpclient.New(httpclient.Options{Origin: api.URL, CredentialHeaders: []string{"X-Key"}, Redactor: red,
		Auth: func(rt http.RoundTripper, tokens *http.Client) (http.RoundTripper, error) {
			resp, err := tokens.Get(api.URL + "/token")
			if err != nil {
				return nil, err
			}
			_, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				r = r.Clone(r.Context())
				r.Header.Set("Authorization", "Bearer tok-obtained-123")
				return rt.RoundTrip(r)
			}), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, api.URL+"/data", nil)
	req.Header.Set("X-Key", "key-secret-456")
	resp, body, err := c.DoRead(context.Background(), req)
	if err != nil || resp.StatusCode != 200 || string(body) != "[]" {
		t.Fatalf("DoRead: %v %v %q", resp, err, body)
	}
	got := api.Requests("/data")
	if len(got) != 1 || got[0].Header.Get("Authorization") != "Bearer tok-obtained-123" || got[0].Header.Get("X-Key") != "key-secret-456" {
		t.Errorf("the API got %+v, want auth and X-Key", got)
	}
	off := other.Requests("")
	if len(off) != 1 || off[0].Header.Get("Authorization") != "" || off[0].Header.Get("X-Key") != "" || off[0].Header.Get("Referer") != "" {
		t.Errorf("the other origin got %+v, want no credentials and no Referer", off)
	}
	if s := red.String("token tok-obtained-123"); strings.Contains(s, "tok-obtained-123") {
		t.Errorf("redactor does not mask the obtained token: %q", s)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
