package conformance

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestAuth checks each auth type's bytes on the wire, and that a next link
// to another host gets none of them: the API's first page links to a second
// server, which must see no secret anywhere in its request.
func TestAuth(t *testing.T) {
	const token = "at-7f3e9c"
	cases := []struct {
		name    string
		auth    string
		env     map[string]string
		secrets []string // values that must never reach the other host
		// data checks a data request to the API; tokenReq checks the token
		// request (nil: there must be none).
		data     func(s seen) error
		tokenReq func(s seen, form url.Values) error
	}{
		{
			name:    "bearer",
			auth:    `{type: bearer, token: "${secrets.api_token}"}`,
			env:     map[string]string{"API_TOKEN": "tok-bearer-123"},
			secrets: []string{"tok-bearer-123"},
			data:    header("Authorization", "Bearer tok-bearer-123"),
		},
		{
			name:    "api_key in a header",
			auth:    `{type: api_key, name: X-API-Key, api_key: "${secrets.key}", location: header}`,
			env:     map[string]string{"KEY": "key-header-456"},
			secrets: []string{"key-header-456"},
			data:    header("X-API-Key", "key-header-456"),
		},
		{
			name:    "api_key in the query",
			auth:    `{type: api_key, name: api_key, api_key: "${secrets.key}", location: query}`,
			env:     map[string]string{"KEY": "key-query-789"},
			secrets: []string{"key-query-789"},
			data: func(s seen) error {
				if got := s.Param("api_key"); got != "key-query-789" {
					return fmt.Errorf("query api_key=%q, want key-query-789 (query %q)", got, s.RawQuery)
				}
				return nil
			},
		},
		{
			name:    "api_key in a cookie",
			auth:    `{type: api_key, name: session, api_key: "${secrets.key}", location: cookie}`,
			env:     map[string]string{"KEY": "key-cookie-012"},
			secrets: []string{"key-cookie-012"},
			data:    header("Cookie", "session=key-cookie-012"),
		},
		{
			name:    "http_basic",
			auth:    `{type: http_basic, username: alice, password: "${secrets.password}"}`,
			env:     map[string]string{"PASSWORD": "pw-basic-345"},
			secrets: []string{"pw-basic-345", base64.StdEncoding.EncodeToString([]byte("alice:pw-basic-345"))},
			data:    header("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:pw-basic-345"))),
		},
		{
			name: "oauth2_client_credentials with dlt's keys",
			auth: `{type: oauth2_client_credentials, access_token_url: "{{API}}/token", client_id: cid-1,
              client_secret: "${secrets.client_secret}", access_token_request_data: {audience: "https://api.example"}}`,
			env:     map[string]string{"CLIENT_SECRET": "cs-occ-678"},
			secrets: []string{"cs-occ-678", token},
			data:    header("Authorization", "Bearer "+token),
			tokenReq: func(s seen, form url.Values) error {
				// dlt's OAuth2ClientCredentials: all in the form, no header.
				if got := s.Header.Get("Authorization"); got != "" {
					return fmt.Errorf("token request Authorization %q, want none (dlt sends the credentials in the form)", got)
				}
				if want := "client_id=cid-1&client_secret=cs-occ-678&grant_type=client_credentials&audience=https%3A%2F%2Fapi.example"; s.Body != want {
					return fmt.Errorf("token request body %q, want %q", s.Body, want)
				}
				if form.Get("grant_type") != "client_credentials" || form.Get("audience") != "https://api.example" {
					return fmt.Errorf("token request form %q, want grant_type=client_credentials and audience", s.Body)
				}
				return nil
			},
		},
		{
			name: "the seed's oauth2 refresh token",
			auth: `{type: oauth2, token_url: "{{API}}/token", client_id: cid-2, client_secret: "${secrets.client_secret}",
              refresh_token: "${secrets.refresh_token}"}`,
			env:     map[string]string{"CLIENT_SECRET": "cs-rt-901", "REFRESH_TOKEN": "rt-234"},
			secrets: []string{"cs-rt-901", "rt-234", token},
			data:    header("Authorization", "Bearer "+token),
			tokenReq: func(s seen, form url.Values) error {
				want := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt-234"}, "client_id": {"cid-2"}, "client_secret": {"cs-rt-901"}}
				for k := range want {
					if form.Get(k) != want.Get(k) {
						return fmt.Errorf("token request form %q, want %q", s.Body, want.Encode())
					}
				}
				return nil
			},
		},
		{
			name:    "the seed's oauth2 without a refresh token: client_credentials",
			auth:    `{type: oauth2, token_url: "{{API}}/token", client_id: cid-3, client_secret: "${secrets.client_secret}"}`,
			env:     map[string]string{"CLIENT_SECRET": "cs-cc-567"},
			secrets: []string{"cs-cc-567", token},
			data:    header("Authorization", "Bearer "+token),
			tokenReq: func(s seen, form url.Values) error {
				if form.Get("grant_type") != "client_credentials" || form.Get("client_id") != "cid-3" || form.Get("client_secret") != "cs-cc-567" {
					return fmt.Errorf("token request form %q, want client_credentials with client_id and client_secret", s.Body)
				}
				return nil
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			other := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, map[string]any{"data": recs(3, 4), "next": nil})
			})
			var a *api
			a = newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if r.URL.Path == "/token" {
					writeJSON(w, map[string]any{"access_token": token, "token_type": "bearer", "expires_in": 3600})
					return
				}
				reqs := a.Requests(r.URL.Path)
				if err := tc.data(reqs[len(reqs)-1]); err != nil {
					http.Error(w, err.Error(), http.StatusUnauthorized)
					return
				}
				writeJSON(w, map[string]any{"data": recs(1, 2), "next": other.URL + "/more"})
			})
			src := `pipeline: {name: conformance, dataset: conformance}
source:
  client:
    base_url: "{{API}}"
    auth: ` + tc.auth + `
  resources:
    - {name: items, endpoint: {path: /items, paginator: json_link}}
`
			res := mustRun(t, src, a.URL, tc.env)
			if got := res.ids(t, "items"); !slices.Equal(got, seq(1, 4)) {
				t.Errorf("ids %v, want 1..4 (from both hosts)", got)
			}
			tokReqs := a.Requests("/token")
			switch {
			case tc.tokenReq == nil && len(tokReqs) > 0:
				t.Errorf("%d token requests, want none", len(tokReqs))
			case tc.tokenReq != nil && len(tokReqs) != 1:
				t.Errorf("%d token requests, want 1", len(tokReqs))
			case tc.tokenReq != nil:
				form, _ := url.ParseQuery(tokReqs[0].Body)
				if tokReqs[0].Method != http.MethodPost {
					t.Errorf("token request method %s, want POST", tokReqs[0].Method)
				}
				if err := tc.tokenReq(tokReqs[0], form); err != nil {
					t.Error(err)
				}
			}
			more := other.Requests("/more")
			if len(more) != 1 {
				t.Fatalf("%d requests to the other host, want 1", len(more))
			}
			wire := fmt.Sprintf("%s %v %s", more[0].RawQuery, more[0].Header, more[0].Body)
			for _, s := range tc.secrets {
				if strings.Contains(wire, s) {
					t.Errorf("the other host received the secret %q: %s", s, wire)
				}
			}
			for _, h := range []string{"Authorization", "Cookie", "X-Api-Key"} {
				if v := more[0].Header.Get(h); v != "" {
					t.Errorf("the other host received %s: %s", h, v)
				}
			}
		})
	}
}

// header checks that a request carries header name with exactly value.
func header(name, value string) func(s seen) error {
	return func(s seen) error {
		if got := s.Header.Values(name); len(got) != 1 || got[0] != value {
			return fmt.Errorf("%s %q, want %q", name, got, value)
		}
		return nil
	}
}

// TestAuthPerEndpoint overrides the client's bearer auth with an api_key on
// one endpoint: that endpoint gets only the key, the others only the token.
func TestAuthPerEndpoint(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, recs(1, 2)) })
	src := `pipeline: {name: conformance, dataset: conformance}
source:
  client:
    base_url: "{{API}}"
    auth: {type: bearer, token: "${secrets.token}"}
    paginator: single_page
  resources:
    - {name: plain, endpoint: {path: /plain}}
    - name: keyed
      endpoint:
        path: /keyed
        auth: {type: api_key, name: X-Key, api_key: "${secrets.key}"}
`
	mustRun(t, src, a.URL, map[string]string{"TOKEN": "tok-client", "KEY": "key-endpoint"})
	plain, keyed := a.Requests("/plain"), a.Requests("/keyed")
	if len(plain) != 1 || len(keyed) != 1 {
		t.Fatalf("requests: %d to /plain and %d to /keyed, want 1 each", len(plain), len(keyed))
	}
	if err := header("Authorization", "Bearer tok-client")(plain[0]); err != nil {
		t.Errorf("/plain: %v", err)
	}
	if v := plain[0].Header.Get("X-Key"); v != "" {
		t.Errorf("/plain got X-Key %q", v)
	}
	if err := header("X-Key", "key-endpoint")(keyed[0]); err != nil {
		t.Errorf("/keyed: %v", err)
	}
	if v := keyed[0].Header.Get("Authorization"); v != "" {
		t.Errorf("/keyed got the client's Authorization %q as well as its own key", v)
	}
}

// TestAuthRedirect: a redirect to another host carries no credentials,
// whichever way they are sent.
func TestAuthRedirect(t *testing.T) {
	auths := map[string]string{
		"bearer":        `{type: bearer, token: tok-redirect-1}`,
		"api_key":       `{type: api_key, name: X-Key, api_key: key-redirect-2}`,
		"query":         `{type: api_key, name: key, api_key: key-redirect-3, location: query}`,
		"cookie":        `{type: api_key, name: sid, api_key: key-redirect-4, location: cookie}`,
		"http_basic":    `{type: http_basic, username: bob, password: pw-redirect-5}`,
		"oauth2 (seed)": `{type: oauth2, token_url: "{{API}}/token", client_id: c, client_secret: cs-redirect-6}`,
	}
	for name, auth := range auths {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			other := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, recs(1, 2)) })
			a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if r.URL.Path == "/token" {
					writeJSON(w, map[string]any{"access_token": "at-redirect-7", "token_type": "bearer", "expires_in": 3600})
					return
				}
				http.Redirect(w, r, other.URL+"/moved", http.StatusTemporaryRedirect)
			})
			src := `pipeline: {name: conformance, dataset: conformance}
source:
  client: {base_url: "{{API}}", auth: ` + auth + `}
  resources:
    - {name: items, endpoint: {path: /items, paginator: single_page}}
`
			res := mustRun(t, src, a.URL, nil)
			if got := res.ids(t, "items"); !slices.Equal(got, []int{1, 2}) {
				t.Errorf("ids %v, want [1 2]", got)
			}
			if n := len(a.Requests("/items")); n != 1 {
				t.Fatalf("%d requests to the API, want 1", n)
			}
			moved := other.Requests("/moved")
			if len(moved) != 1 {
				t.Fatalf("%d requests to the other host, want 1", len(moved))
			}
			wire := fmt.Sprintf("%s %v", moved[0].RawQuery, moved[0].Header)
			for _, s := range []string{"redirect-", base64.StdEncoding.EncodeToString([]byte("bob:pw-redirect-5"))} {
				if strings.Contains(wire, s) {
					t.Errorf("the other host received a credential (%q): %s", s, wire)
				}
			}
		})
	}
}
