package auth

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestClientCredentialsWireAsDlt: oauth2_client_credentials sends the
// token request dlt's OAuth2ClientCredentials sends: a form body of
// client_id, client_secret and grant_type=client_credentials, then
// access_token_request_data (which may replace grant_type in place), with
// no Authorization header.
func TestClientCredentialsWireAsDlt(t *testing.T) {
	fakeClock(t)
	for _, tc := range []struct {
		name string
		data map[string]string
		want string
	}{
		{"request data after the credentials", map[string]string{"audience": "api"},
			"client_id=cid&client_secret=c+s%26x%3D&grant_type=client_credentials&audience=api"},
		{"grant_type replaced in place", map[string]string{"grant_type": "account_credentials"},
			"client_id=cid&client_secret=c+s%26x%3D&grant_type=account_credentials"},
		{"no request data", nil,
			"client_id=cid&client_secret=c+s%26x%3D&grant_type=client_credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var body, ctype, authz []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/token" {
					b, _ := io.ReadAll(r.Body)
					mu.Lock()
					body = append(body, string(b))
					ctype = append(ctype, r.Header.Get("Content-Type"))
					authz = append(authz, r.Header.Get("Authorization"))
					mu.Unlock()
					w.Header().Set("Content-Type", "application/json")
					io.WriteString(w, `{"access_token":"tok1","expires_in":"3600"}`)
					return
				}
				if r.Header.Get("Authorization") != "Bearer tok1" {
					w.WriteHeader(401)
					return
				}
				io.WriteString(w, `[]`)
			}))
			t.Cleanup(srv.Close)
			rt, err := New(&Config{Type: "oauth2_client_credentials", ClientID: "cid", ClientSecret: "c s&x=",
				AccessTokenURL: srv.URL + "/token", AccessTokenRequestData: tc.data}, nil, host(srv), withClock(t, Options{}))
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if resp := get(t, rt, srv.URL+"/a"); resp.StatusCode != 200 {
					t.Fatalf("data request: status %d", resp.StatusCode)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(body) != 1 {
				t.Fatalf("%d token requests for 2 data requests, want 1", len(body))
			}
			if body[0] != tc.want {
				t.Errorf("token request body\n got %s\nwant %s", body[0], tc.want)
			}
			if ctype[0] != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type %q", ctype[0])
			}
			if authz[0] != "" {
				t.Errorf("token request has an Authorization header %q; dlt sends none", authz[0])
			}
		})
	}
}
