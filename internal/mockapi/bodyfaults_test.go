package mockapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// startFaulty starts a mock with opts and returns it with an access token.
func startFaulty(t *testing.T, opts Options) (*Running, string) {
	t.Helper()
	api, err := Start(context.Background(), "127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = api.Close() })
	resp, err := http.PostForm(api.TokenURL, url.Values{"grant_type": {"client_credentials"},
		"client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		t.Fatal(err)
	}
	return api, tr.AccessToken
}

// fetchPage GETs path with the token and reads the whole body.
func fetchPage(c *http.Client, api *Running, tok, path string) (*http.Response, []byte, error) {
	req, _ := http.NewRequest(http.MethodGet, api.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestBodyFaults(t *testing.T) {
	tests := []struct {
		fault string
		// check looks at the faulted try.
		check func(t *testing.T, resp *http.Response, body []byte, err error)
	}{
		{FaultCut, func(t *testing.T, _ *http.Response, _ []byte, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("cut body: err = %v, want unexpected EOF", err)
			}
		}},
		{FaultReset, func(t *testing.T, _ *http.Response, _ []byte, err error) {
			if err == nil {
				t.Error("reset body read without error")
			}
		}},
		{FaultHugeLength, func(t *testing.T, resp *http.Response, _ []byte, err error) {
			if err == nil || resp == nil || resp.ContentLength != HugeContentLength {
				t.Errorf("huge length: resp %v, err %v", resp, err)
			}
		}},
		{FaultStall, func(t *testing.T, _ *http.Response, _ []byte, err error) {
			if err == nil || !strings.Contains(err.Error(), "Client.Timeout") {
				t.Errorf("stall: err = %v, want a client timeout", err)
			}
		}},
		{FaultTrickle, func(t *testing.T, _ *http.Response, body []byte, err error) {
			if err == nil || len(body) == 0 || len(body) > 10 {
				t.Errorf("trickle: %d bytes in 300ms, err %v; want a few bytes then a timeout", len(body), err)
			}
		}},
		{FaultGzipBomb, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || !resp.Uncompressed || len(body) < 8<<20 || strings.TrimSpace(string(body))[0] != '{' {
				t.Errorf("gzip bomb: %d bytes, err %v", len(body), err)
			}
		}},
		{FaultRedirect, func(t *testing.T, resp *http.Response, body []byte, err error) {
			// net/http drops Authorization on a redirect to another host,
			// and the other host wants a token like the first.
			if err != nil || resp.StatusCode != 401 || resp.Request.URL.Host == resp.Request.Response.Request.URL.Host {
				t.Errorf("redirect: err %v, resp %v", err, resp)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.fault, func(t *testing.T) {
			api, tok := startFaulty(t, Options{Records: 30, BodyFault: tc.fault, BodyFaultPage: 2, MaxFaultStreak: 1,
				TrickleInterval: 50 * time.Millisecond, GzipBombBytes: 8 << 20})
			c := &http.Client{Timeout: 300 * time.Millisecond}
			if tc.fault == FaultGzipBomb {
				c.Timeout = 20 * time.Second
			}
			if _, _, err := fetchPage(c, api, tok, "/files?limit=10&page=1"); err != nil {
				t.Fatalf("page 1 is not faulted: %v", err)
			}
			resp, body, err := fetchPage(c, api, tok, "/files?limit=10&page=2")
			tc.check(t, resp, body, err)
			// The retry of the same request is served normally.
			resp, body, err = fetchPage(c, api, tok, "/files?limit=10&page=2")
			if err != nil || resp.StatusCode != 200 || resp.Request.URL.String() != api.URL+"/files?limit=10&page=2" {
				t.Fatalf("retry: err %v", err)
			}
			var e envelope
			if err := json.Unmarshal(body, &e); err != nil || len(e.Entries) != 10 {
				t.Fatalf("retry: %d entries, %v", len(e.Entries), err)
			}
			if st := api.Server.Stats(); st.ServedBodyFaults != 1 {
				t.Errorf("ServedBodyFaults = %d, want 1", st.ServedBodyFaults)
			}
			if tc.fault == FaultRedirect {
				hs := api.Server.OtherHostHeaders()
				if len(hs) != 1 || hs[0].Get("Referer") == "" {
					t.Errorf("other host saw %v", hs)
				}
				if !strings.HasPrefix(api.OtherURL, "http://127.0.0.2:") {
					t.Logf("other host is %s (127.0.0.2 not available)", api.OtherURL)
				}
			}
		})
	}
}

func TestBodyFaultOptionsValidate(t *testing.T) {
	for _, o := range []Options{{BodyFault: "explode"}, {BodyFaultEvery: -1}, {RedirectURL: "ftp://x"}} {
		if _, err := Start(context.Background(), "127.0.0.1:0", o); err == nil {
			t.Errorf("Start(%+v) accepted", o)
		}
	}
}
