package httpclient

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestTokenRecorder: the tokens of a JSON or form-encoded token response are
// masked from then on, and the caller reads the response unchanged.
func TestTokenRecorder(t *testing.T) {
	tests := []struct{ kind, ctype, body string }{
		{"json", "application/json", `{"access_token":"at-json-123456","refresh_token":"rt-json-654321","id_token":"id-json-777777","token_type":"bearer"}`},
		{"form", "application/x-www-form-urlencoded", `access_token=at-form-123456&refresh_token=rt-form-654321&id_token=id-form-777777&token_type=bearer`},
	}
	for _, tt := range tests {
		srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", tt.ctype)
			io.WriteString(w, tt.body)
		})
		red := NewRedactor()
		c := &http.Client{Transport: &TokenRecorder{Redactor: red}}
		resp, err := c.Post(srv.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=refresh_token"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(got) != tt.body {
			t.Errorf("%s: caller read %q, %v; want the body unchanged", tt.ctype, got, err)
		}
		kind := tt.kind
		msg := "echo at-" + kind + "-123456 rt-" + kind + "-654321 id-" + kind + "-777777"
		if masked := red.String(msg); masked != "echo "+Mask+" "+Mask+" "+Mask {
			t.Errorf("%s: tokens not masked afterwards: %s", tt.ctype, masked)
		}
	}
}
