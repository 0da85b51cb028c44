package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"golang.org/x/oauth2"

	"github.com/restload/restload/internal/httpclient"
)

// refreshGrant is the seed's refresh-token grant. Without a Store it keeps
// a rotated refresh token for the rest of the process. With one, every
// renewal happens under a file lock: the latest refresh token is read again
// (another process may have rotated it), a still-valid access token another
// run obtained is reused, and a rotated refresh token is saved (the secrets
// file it came from, rewritten in place, or the store) before the new access
// token is handed out.
//
// fetch is called under the token cache's mutex, which guards the fields.
type refreshGrant struct {
	exchange      func(ctx context.Context, refresh string) (*oauth2.Token, error)
	configured    string // the refresh token the pipeline file resolved to
	current       string // the refresh token in use
	redactor      *httpclient.Redactor
	defaultExpiry time.Duration
	log           *slog.Logger
	now           func() time.Time

	store     *Store
	storeFile string
	origin    SecretOrigin
	hasOrigin bool
}

// originText says where the configured refresh token came from.
func (g *refreshGrant) originText() string {
	if g.hasOrigin {
		return g.origin.String()
	}
	return "refresh_token in the pipeline's auth block"
}

// fromFile reports whether the refresh token came from a secrets file that
// can be rewritten.
func (g *refreshGrant) fromFile() bool {
	return g.hasOrigin && g.origin.File != "" && len(g.origin.Keys) > 0
}

func (g *refreshGrant) fetch(ctx context.Context, refused *oauth2.Token) (*oauth2.Token, time.Time, error) {
	if g.store == nil {
		return g.exchangeAndKeep(ctx, g.current, g.originText())
	}
	// The lock guards the credential: the secrets file when the token
	// lives there (pipelines sharing the file), else the store file.
	unlock, err := g.lock(ctx)
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, time.Time{}, fmt.Errorf("oauth2 token store: %w", err)
	case err != nil:
		// A store that cannot even be locked (a read-only directory) does
		// not stop a provider that never rotates; one that rotates fails
		// below, when the new token cannot be saved.
		g.logger().Warn("cannot lock the OAuth2 token store; going on without the lock", "error", err)
		unlock = func() {}
	}
	defer unlock()
	rec, err := readRecord(g.storeFile)
	if err != nil {
		return nil, time.Time{}, err
	}
	refresh, from := g.latest(rec)
	g.redactor.Add(refresh)
	if rec.AccessToken != "" && rec.For == hashToken(refresh) && g.now().Before(rec.RenewAt) &&
		(refused == nil || refused.AccessToken != rec.AccessToken) {
		// Another run (or an earlier one) renewed: use its token.
		g.current = refresh
		g.redactor.Add(rec.AccessToken)
		tok := &oauth2.Token{AccessToken: rec.AccessToken, TokenType: rec.TokenType, Expiry: rec.Expiry, RefreshToken: refresh}
		return tok, rec.RenewAt, nil
	}
	start := g.now()
	tok, err := g.exchange(ctx, refresh)
	if err != nil {
		return nil, time.Time{}, &refreshFrom{from: from, err: err}
	}
	g.redactor.Add(tok.AccessToken)
	renewAt := renewTime(start, tok, g.defaultExpiry)
	savedInStore := false
	if tok.RefreshToken != "" && tok.RefreshToken != refresh {
		g.redactor.Add(tok.RefreshToken)
		at := g.now()
		savedTo := g.saveToFile(rec, tok.RefreshToken)
		if savedTo == "" {
			rec.RefreshToken, savedTo, savedInStore = tok.RefreshToken, g.storeFile, true
		}
		rec.addReplaced(g.configured, refresh)
		rec.RotatedAt, rec.SavedTo, rec.Rotations = at.UTC(), savedTo, rec.Rotations+1
		if !savedInStore {
			g.store.noteRotation(savedTo, at)
		}
		refresh = tok.RefreshToken
	}
	rec.AccessToken, rec.TokenType, rec.Expiry, rec.RenewAt, rec.For = tok.AccessToken, tok.Type(), tok.Expiry, renewAt, hashToken(refresh)
	if err := writeRecord(g.storeFile, rec); err != nil {
		if savedInStore {
			g.current = refresh // the old one is revoked: this process keeps the new one
			return nil, time.Time{}, &TokenError{
				msg: fmt.Sprintf("oauth2: the token endpoint rotated the refresh token read from %s, and the new one could not be saved, so the next run will need a new refresh token there: %v", from, err),
				err: err,
			}
		}
		// Only the access token is lost: the next run asks for another.
		g.logger().Warn("could not keep the OAuth2 access token for the next run", "error", err)
	} else if savedInStore {
		g.store.noteRotation(g.storeFile, g.now())
	}
	g.current = refresh
	return tok, renewAt, nil
}

// exchangeAndKeep renews with refresh and keeps a rotated refresh token in
// memory (no store).
func (g *refreshGrant) exchangeAndKeep(ctx context.Context, refresh, from string) (*oauth2.Token, time.Time, error) {
	start := g.now()
	tok, err := g.exchange(ctx, refresh)
	if err != nil {
		return nil, time.Time{}, &refreshFrom{from: from, err: err}
	}
	g.redactor.Add(tok.AccessToken)
	if tok.RefreshToken != "" && tok.RefreshToken != refresh {
		g.redactor.Add(tok.RefreshToken)
		g.current = tok.RefreshToken
	}
	return tok, renewTime(start, tok, g.defaultExpiry), nil
}

// latest returns the refresh token to send and where it was read from: the
// secrets file's value as it is now (another process may have rotated it),
// else the one in use; replaced by the store's when the store says it was
// rotated away.
func (g *refreshGrant) latest(rec *storeRecord) (string, string) {
	refresh, from := g.current, g.originText()
	if g.fromFile() {
		if data, err := os.ReadFile(g.origin.File); err == nil {
			if v, ok := lookupTOMLString(data, g.origin.Keys[0]); ok && v != "" {
				refresh = v
			}
		}
	}
	if rec.RefreshToken != "" && (rec.RefreshToken == refresh || rec.replaces(refresh)) {
		return rec.RefreshToken, "token store " + g.storeFile + " (it holds the successor of the rotated-away value of " + g.originText() + ")"
	}
	return refresh, from
}

// saveToFile writes a rotated refresh token into the secrets file it came
// from and returns the file's path, or "" when the token did not come from
// a file or the file cannot be rewritten (it then goes to the store).
func (g *refreshGrant) saveToFile(rec *storeRecord, refresh string) string {
	if !g.fromFile() {
		return ""
	}
	err := rewriteSecret(g.origin.File, g.origin.Keys, refresh)
	if err != nil {
		g.logger().Warn("could not write the rotated OAuth2 refresh token back into the secrets file; it is kept in the token store instead",
			"file", g.origin.File, "store", g.storeFile, "error", g.redactor.String(err.Error()))
		return ""
	}
	rec.RefreshToken = "" // the file holds it
	return g.origin.File
}

// rewriteSecret sets keys of the TOML file at path to value, in place and
// atomically, keeping its mode, comments and other keys.
func rewriteSecret(path string, keys []string, value string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := setTOMLString(data, keys, value)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return writeFileAtomic(path, out, st.Mode().Perm())
}

// lock takes the credential's lock: beside the secrets file the refresh
// token came from, or beside the store file.
func (g *refreshGrant) lock(ctx context.Context) (func(), error) {
	if g.fromFile() {
		unlock, err := lockFile(ctx, g.origin.File+".lock", g.log)
		if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return unlock, err
		}
		// A read-only secrets directory: the store's lock still keeps
		// this pipeline's runs apart.
		g.logger().Warn("cannot lock the secrets file; locking the token store instead", "error", err)
	}
	return lockFile(ctx, g.storeFile+".lock", g.log)
}

func (g *refreshGrant) logger() *slog.Logger {
	if g.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return g.log
}
