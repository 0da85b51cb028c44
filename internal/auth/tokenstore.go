package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Store keeps OAuth2 tokens between runs of one pipeline: a rotated refresh
// token that could not be written back where it came from (an environment
// variable), the hashes of the refresh tokens it replaced, and the last
// access token with its expiry. One JSON file per pipeline and client id
// (mode 0600) in Dir (mode 0700), each guarded by a lock file (flock) that
// is held while a token is renewed, so processes sharing the store never
// send a refresh token another one has rotated away.
//
// Set the fields before first use; Rotations is safe for concurrent use.
type Store struct {
	// Dir is the store directory, created when first written.
	Dir string
	// Pipeline names the files (with the client id's hash).
	Pipeline string
	// Origin says where a configured refresh token came from
	// (config.Pipeline.SecretOrigin); nil means unknown, and a rotated
	// token then lives in the store.
	Origin func(value string) (SecretOrigin, bool)
	// Logger receives a notice when a lock is slow to come; nil discards.
	Logger *slog.Logger

	mu        sync.Mutex
	rotations map[string]*Rotation
}

// Rotation reports that a refresh token was rotated during a run and where
// the new one was saved. It holds a path, never a token.
type Rotation struct {
	// SavedTo is the secrets file or token store file that holds the new
	// refresh token.
	SavedTo string `json:"saved_to"`
	// Count is how many times it was rotated in this run.
	Count int `json:"rotations"`
	// At is when it was last rotated.
	At time.Time `json:"rotated_at"`
}

// Rotations lists the refresh-token rotations of this run, by path.
func (s *Store) Rotations() []Rotation {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Rotation, 0, len(s.rotations))
	for _, r := range s.rotations {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Rotation) int { return strings.Compare(a.SavedTo, b.SavedTo) })
	return out
}

func (s *Store) noteRotation(path string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rotations == nil {
		s.rotations = map[string]*Rotation{}
	}
	r := s.rotations[path]
	if r == nil {
		r = &Rotation{SavedTo: path}
		s.rotations[path] = r
	}
	r.Count++
	r.At = at.UTC()
}

// DefaultStoreDir is the token store beside the default work dir:
// .restload/tokens in the pipeline file's directory.
func DefaultStoreDir(pipelineFile string) string {
	return filepath.Join(filepath.Dir(pipelineFile), ".restload", "tokens")
}

// storeRecord is one store file.
type storeRecord struct {
	// RefreshToken is the refresh token in use, when it is kept here
	// because it could not be written back where it came from.
	RefreshToken string `json:"refresh_token,omitempty"`
	// Replaced holds SHA-256 hashes (hex) of refresh tokens that were
	// rotated away, newest first; a configured value among them means
	// RefreshToken (or the secrets file) holds its successor.
	Replaced []string `json:"replaced_sha256,omitempty"`
	// AccessToken is the last access token, valid until Expiry and worth
	// reusing until RenewAt, for the refresh token whose hash is For.
	AccessToken string    `json:"access_token,omitempty"`
	TokenType   string    `json:"token_type,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"`
	RenewAt     time.Time `json:"renew_at,omitzero"`
	For         string    `json:"access_token_for_sha256,omitempty"`
	// RotatedAt and SavedTo say when the refresh token was last rotated and
	// where the new one went (restload info shows them).
	RotatedAt time.Time `json:"rotated_at,omitzero"`
	SavedTo   string    `json:"saved_to,omitempty"`
	Rotations int       `json:"rotations,omitempty"`
}

// maxReplaced bounds the hashes kept per store file.
const maxReplaced = 16

// maxStoreFile bounds what is read of a store file.
const maxStoreFile = 1 << 20

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// replaces reports whether the record says value was rotated away.
func (r *storeRecord) replaces(value string) bool {
	return slices.Contains(r.Replaced, hashToken(value))
}

// addReplaced records hashes of rotated-away tokens, newest first.
func (r *storeRecord) addReplaced(values ...string) {
	for _, v := range values {
		if v == "" {
			continue
		}
		h := hashToken(v)
		r.Replaced = slices.DeleteFunc(r.Replaced, func(x string) bool { return x == h })
		r.Replaced = append([]string{h}, r.Replaced...)
	}
	if len(r.Replaced) > maxReplaced {
		r.Replaced = r.Replaced[:maxReplaced]
	}
}

// file returns the store file for a client id.
func (s *Store) file(clientID string) string {
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, s.Pipeline)
	if name == "" {
		name = "pipeline"
	}
	return filepath.Join(s.Dir, name+"-"+hashToken(clientID)[:16]+".json")
}

// readRecord reads a store file; a missing file is an empty record.
func readRecord(path string) (*storeRecord, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return &storeRecord{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("token store: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStoreFile+1))
	if err != nil {
		return nil, fmt.Errorf("token store: %w", err)
	}
	var rec storeRecord
	if len(b) > maxStoreFile || json.Unmarshal(b, &rec) != nil {
		return nil, fmt.Errorf("token store %s is not a token store file (remove it to start over)", path)
	}
	return &rec, nil
}

// writeRecord writes rec atomically with mode 0600, creating the directory
// (mode 0700) when needed.
func writeRecord(path string, rec *storeRecord) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("token store: %w", err)
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("token store: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory is written, synced and given mode, then renamed over path, and
// the directory is synced. A crash leaves the old file or the new one.
// A symlink at path is followed: its target is replaced.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	tmp := filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(suffix[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if st, err := os.Stat(path); err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			_ = f.Chown(int(sys.Uid), int(sys.Gid)) // keep the owner when allowed
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// lockFile takes an exclusive flock on path (created, mode 0600), waiting
// until it is free or ctx ends. The returned function releases it.
func lockFile(ctx context.Context, path string, log *slog.Logger) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !told && time.Since(start) > 5*time.Second && log != nil {
			log.Warn("waiting for another process renewing the OAuth2 token", "lock", path)
			told = true
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
		case <-t.C:
		}
	}
}

// TokenInfo is what `restload info` shows of one store file: places and
// times, never a token.
type TokenInfo struct {
	// File is the store file.
	File string `json:"file"`
	// RotatedAt is when the refresh token was last rotated (zero: never
	// seen rotated); SavedTo is where the new one went.
	RotatedAt time.Time `json:"rotated_at,omitzero"`
	SavedTo   string    `json:"saved_to,omitempty"`
	Rotations int       `json:"rotations,omitempty"`
	// HoldsRefreshToken says the store file itself holds the refresh token
	// in use (its origin, an environment variable, cannot be changed).
	HoldsRefreshToken bool `json:"holds_refresh_token"`
	// AccessTokenExpiry is when the kept access token expires.
	AccessTokenExpiry time.Time `json:"access_token_expiry,omitzero"`
}

// Info describes the store files of the pipeline in dir, sorted by file.
// A missing directory has none.
func Info(dir, pipeline string) ([]TokenInfo, error) {
	s := &Store{Dir: dir, Pipeline: pipeline}
	prefix := strings.TrimSuffix(filepath.Base(s.file("")), hashToken("")[:16]+".json")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("token store: %w", err)
	}
	var out []TokenInfo
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, prefix) || !strings.HasSuffix(n, ".json") || len(n) != len(prefix)+16+len(".json") {
			continue
		}
		path := filepath.Join(dir, n)
		rec, err := readRecord(path)
		if err != nil {
			return nil, err
		}
		out = append(out, TokenInfo{File: path, RotatedAt: rec.RotatedAt, SavedTo: rec.SavedTo, Rotations: rec.Rotations,
			HoldsRefreshToken: rec.RefreshToken != "", AccessTokenExpiry: rec.Expiry})
	}
	return out, nil
}

// StoreDir is the token store of the pipeline read from pipelineFile:
// override (the --token-store flag) when set, else tokenStore (the file's
// pipeline.token_store, relative to the pipeline file), else
// DefaultStoreDir.
func StoreDir(pipelineFile, tokenStore, override string) string {
	switch {
	case override != "":
		return override
	case tokenStore != "" && filepath.IsAbs(tokenStore):
		return tokenStore
	case tokenStore != "":
		return filepath.Join(filepath.Dir(pipelineFile), tokenStore)
	}
	return DefaultStoreDir(pipelineFile)
}
