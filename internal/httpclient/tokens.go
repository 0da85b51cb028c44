package httpclient

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
)

// TokenRecorder is an http.RoundTripper for OAuth2 token requests: it
// registers the tokens a successful response carries (access_token,
// refresh_token, id_token; JSON or form-encoded) with Redactor before the
// caller reads them, so a token restload obtained, a rotated refresh token
// included, is masked wherever it shows up later. The body the caller reads
// is unchanged. RoundTrip is safe for concurrent use.
type TokenRecorder struct {
	// Base sends the requests; nil is http.DefaultTransport.
	Base http.RoundTripper
	// Redactor learns the tokens; nil records nothing.
	Redactor *Redactor
}

var _ http.RoundTripper = (*TokenRecorder)(nil)

// maxTokenResponse is the most of a token response read to find tokens;
// token responses are a few hundred bytes.
const maxTokenResponse = 64 << 10

// tokenFields are the response fields that hold tokens.
var tokenFields = []string{"access_token", "refresh_token", "id_token"}

// RoundTrip sends req and records the tokens in its response.
func (tr *TokenRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	base := tr.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil || tr.Redactor == nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, err
	}
	head, rerr := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	tr.Redactor.Add(tokensIn(head)...)
	rest := io.Reader(resp.Body)
	if rerr != nil {
		rest = &errReader{rerr}
	}
	resp.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(head), rest), Closer: resp.Body}
	return resp, nil
}

// tokensIn returns the token fields of a JSON or form-encoded token
// response.
func tokensIn(body []byte) []string {
	var out []string
	var obj map[string]any
	if json.Unmarshal(body, &obj) == nil {
		for _, f := range tokenFields {
			if s, ok := obj[f].(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	if q, err := url.ParseQuery(string(body)); err == nil {
		for _, f := range tokenFields {
			out = append(out, q[f]...)
		}
	}
	return out
}

type replayBody struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }
