package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// maxTokenResponse bounds a token endpoint's answer.
const maxTokenResponse = 1 << 20

// dltClientCredentialsForm is the body dlt's OAuth2ClientCredentials posts:
// client_id, client_secret and grant_type=client_credentials, then
// access_token_request_data, whose keys replace those three in place
// (a Python dict update) and otherwise follow them. restload's scopes come
// after grant_type as "scope". Extra keys follow in name order: a Go map
// has no written order (dlt keeps the order written).
func dltClientCredentialsForm(cfg *Config) string {
	type kv struct{ k, v string }
	form := []kv{{"client_id", cfg.ClientID}, {"client_secret", cfg.ClientSecret}, {"grant_type", "client_credentials"}}
	if len(cfg.Scopes) > 0 {
		form = append(form, kv{"scope", strings.Join(cfg.Scopes, " ")})
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.AccessTokenRequestData)) {
		v := cfg.AccessTokenRequestData[k]
		if i := slices.IndexFunc(form, func(p kv) bool { return p.k == k }); i >= 0 {
			form[i].v = v
			continue
		}
		form = append(form, kv{k, v})
	}
	var b strings.Builder
	for i, p := range form {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.k) + "=" + url.QueryEscape(p.v))
	}
	return b.String()
}

// postTokenForm posts form to tokenURL through hc and reads the token from
// the JSON answer. A non-2xx answer is an *oauth2.RetrieveError carrying
// the OAuth2 error code, as x/oauth2 reports it.
func postTokenForm(ctx context.Context, hc *http.Client, tokenURL, form string) (*oauth2.Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	if err != nil {
		return nil, fmt.Errorf("read token response: %w", err)
	}
	var v struct {
		AccessToken      string          `json:"access_token"`
		TokenType        string          `json:"token_type"`
		RefreshToken     string          `json:"refresh_token"`
		ExpiresIn        json.RawMessage `json:"expires_in"`
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
		ErrorURI         string          `json:"error_uri"`
	}
	jerr := json.Unmarshal(body, &v)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &oauth2.RetrieveError{Response: resp, Body: body, ErrorCode: v.Error, ErrorDescription: v.ErrorDescription, ErrorURI: v.ErrorURI}
	}
	if jerr != nil {
		return nil, fmt.Errorf("token response is not JSON: %w", jerr)
	}
	if v.AccessToken == "" {
		return nil, &oauth2.RetrieveError{Response: resp, Body: body, ErrorCode: v.Error, ErrorDescription: "server response missing access_token"}
	}
	tok := &oauth2.Token{AccessToken: v.AccessToken, TokenType: v.TokenType, RefreshToken: v.RefreshToken}
	// expires_in as a number or a numeric string (dlt takes int() of either).
	if s := strings.Trim(string(v.ExpiresIn), `"`); s != "" && s != "null" {
		if n, err := strconv.ParseFloat(s, 64); err == nil && n > 0 {
			tok.ExpiresIn = int64(n)
		}
	}
	return tok, nil
}
