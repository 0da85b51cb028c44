package mockapi

// revokedMax bounds how many rotated-away refresh tokens the mock
// remembers, to tell "revoked" from "never issued".
const revokedMax = 1024

// revokeLocked records refresh token t as revoked; s.mu must be held.
func (s *Server) revokeLocked(t string) {
	if s.revoked == nil || len(s.revoked) >= revokedMax {
		s.revoked = map[string]bool{}
	}
	s.revoked[t] = true
}

// refreshRejection is the invalid_grant description for a refresh token
// that is not the current one; s.mu must be held.
func (s *Server) refreshRejection(t string) string {
	if s.revoked[t] {
		return "refresh token was revoked: it was rotated and replaced by a newer one"
	}
	return "refresh token is invalid or was rotated"
}

// RefreshToken returns the refresh token the token endpoint accepts now.
func (s *Server) RefreshToken() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.refreshToken
}

// Reauthorize issues a new refresh token and revokes the current one, as a
// person authorizing the client again at the provider does. It returns the
// new token.
func (s *Server) Reauthorize() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeLocked(s.refreshToken)
	s.refreshToken = s.newTokenLocked("rt_")
	return s.refreshToken
}
