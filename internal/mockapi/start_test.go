package mockapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestStartServesOverTCP(t *testing.T) {
	r, err := Start(context.Background(), "127.0.0.1:0", Options{Flavor: FlavorSigma, Records: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !strings.HasPrefix(r.URL, "http://127.0.0.1:") || !strings.HasSuffix(r.URL, "/v2") || r.TokenURL != r.URL+"/auth/token" {
		t.Fatalf("URL %q TokenURL %q", r.URL, r.TokenURL)
	}
	resp, err := http.PostForm(r.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {DefaultRefreshToken},
		"client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	var tr tokenResponse
	err = json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}

	// Concurrent pages over real connections.
	var wg sync.WaitGroup
	errs := make(chan error, len(r.Server.Resources()))
	for _, res := range r.Server.Resources() {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, r.URL+"/"+res+"?limit=10", nil)
			req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var e envelope
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || len(e.Entries) != 10 {
				errs <- &url.Error{Op: "GET " + res, URL: req.URL.String(), Err: io.ErrUnexpectedEOF}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := r.Server.Stats(); st.DataRequests != 8 || st.TokenRequests != 1 {
		t.Errorf("stats %+v", st)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get(r.URL + "/files"); err == nil {
		t.Error("server still answering after Close")
	}
}

func TestStartStopsWhenContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Start(ctx, "127.0.0.1:0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	<-r.done // Serve has returned
	if _, err := http.Get(r.URL + "/files"); err == nil {
		t.Error("server still answering after its context was cancelled")
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	if _, err := Start(context.Background(), "127.0.0.1:0", Options{Flavor: "x"}); err == nil {
		t.Error("Start accepted an unknown flavor")
	}
	if _, err := Start(context.Background(), "256.0.0.1:0", Options{}); err == nil {
		t.Error("Start accepted a bad address")
	}
}
