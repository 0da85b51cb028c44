package mockapi

import (
	"net/url"
	"strings"
	"testing"
)

// TestRevokedRefreshTokenSaysSo checks that a rotated-away refresh token is
// refused as revoked (and an unknown one as invalid), and that Reauthorize
// hands out a new token while revoking the current one.
func TestRevokedRefreshTokenSaysSo(t *testing.T) {
	s := New(Options{RotateRefreshToken: true})
	refresh := func(rt string) (int, string) {
		rec := postToken(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
			"client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}})
		return rec.Code, rec.Body.String()
	}
	if code, body := refresh(DefaultRefreshToken); code != 200 {
		t.Fatalf("first refresh: %d %s", code, body)
	}
	if code, body := refresh(DefaultRefreshToken); code != 400 || !strings.Contains(body, `"invalid_grant"`) || !strings.Contains(body, "revoked") {
		t.Errorf("rotated-away token: %d %s, want 400 invalid_grant saying revoked", code, body)
	}
	if code, body := refresh("never-issued"); code != 400 || strings.Contains(body, "revoked") {
		t.Errorf("unknown token: %d %s, want 400 invalid_grant not saying revoked", code, body)
	}
	current := s.RefreshToken()
	fresh := s.Reauthorize()
	if fresh == current || fresh != s.RefreshToken() {
		t.Fatalf("Reauthorize gave %q (current was %q, now %q)", fresh, current, s.RefreshToken())
	}
	if code, body := refresh(current); code != 400 || !strings.Contains(body, "revoked") {
		t.Errorf("token replaced by Reauthorize: %d %s, want revoked", code, body)
	}
	if code, body := refresh(fresh); code != 200 {
		t.Errorf("reauthorized token: %d %s", code, body)
	}
}
