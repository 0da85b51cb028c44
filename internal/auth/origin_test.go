package auth

import (
	"net/http"
	"testing"
)

// captureRT records the last request it was given and answers 200.
type captureRT struct{ last *http.Request }

func (c *captureRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.last = r
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
}

// TestCredentialsOnlyToBaseURLOrigin: with allowedHost from HostOf, auth
// goes only where scheme, host and port all match base_url's: not to plain
// http on the same host, nor to another port.
func TestCredentialsOnlyToBaseURLOrigin(t *testing.T) {
	origin, err := HostOf("https://API.example.com/v1")
	if err != nil {
		t.Fatal(err)
	}
	rec := &captureRT{}
	rt, err := New(&Config{Type: "bearer", Token: "tok-123456"}, rec, origin, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for u, want := range map[string]bool{
		"https://api.example.com/v1/x":     true,
		"https://api.example.com:443/x":    true,
		"http://api.example.com/v1/x":      false,
		"https://api.example.com:8443/x":   false,
		"https://api.example.com.evil/x":   false,
		"https://other.example.com/v1/x":   false,
		"https://api.example.com@evil.io/": false,
	} {
		req, _ := http.NewRequest("GET", u, nil)
		if _, err := rt.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if got := rec.last.Header.Get("Authorization") != ""; got != want {
			t.Errorf("%s: credentials sent = %v, want %v", u, got, want)
		}
	}
}
