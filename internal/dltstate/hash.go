package dltstate

import (
	"bytes"
	"compress/zlib"
	"crypto/sha3"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sort"
)

// SchemaVersionHash is dlt's version hash of a stored schema
// (generate_version_hash): SHA3-256 over the schema's JSON with sorted
// keys, leaving out version, version_hash, imported_version_hash and
// previous_hashes, then each table name (sorted) followed by its column
// names in their stored order; base64 of the digest.
func SchemaVersionHash(s *Object) (string, error) {
	c := s.Clone()
	for _, k := range []string{"version", "version_hash", "imported_version_hash", "previous_hashes"} {
		c.Delete(k)
	}
	content, err := Marshal(c, true)
	if err != nil {
		return "", err
	}
	h := sha3.New256()
	h.Write(content)
	if tables := c.Obj("tables"); tables != nil {
		names := append([]string(nil), tables.Keys()...)
		sort.Strings(names)
		for _, tn := range names {
			h.Write([]byte(tn))
			if t := tables.Obj(tn); t != nil {
				for _, cn := range t.Obj("columns").Keys() {
					h.Write([]byte(cn))
				}
			}
		}
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// BumpSchemaVersion recomputes s's version_hash as dlt's
// bump_version_if_modified does: a schema without a hash gets version 1
// (or keeps its version); a changed one gets version+1 and its previous
// hash first in previous_hashes (at most 10). It returns the version and
// hash.
func BumpSchemaVersion(s *Object) (int64, string, error) {
	h, err := SchemaVersionHash(s)
	if err != nil {
		return 0, "", err
	}
	prev := s.Str("version_hash")
	version := s.Int("version")
	switch {
	case prev == "":
		if version == 0 {
			version = 1
		}
	case prev != h:
		version++
		hashes, _ := s.Get("previous_hashes")
		list, _ := hashes.([]any)
		found := false
		for _, x := range list {
			if x == prev {
				found = true
			}
		}
		if !found {
			list = append([]any{prev}, list...)
			if len(list) > 10 {
				list = list[:10]
			}
		}
		s.Set("previous_hashes", list)
	}
	if _, ok := s.Get("previous_hashes"); !ok {
		s.Set("previous_hashes", []any{})
	}
	s.Set("version", int64(version))
	s.Set("version_hash", h)
	return version, h, nil
}

// stateHashExcluded are the keys dlt leaves out of a pipeline state's
// hash (generate_state_version_hash, with the pipeline's "_local").
var stateHashExcluded = []string{"_state_version", "_state_engine_version", "_version_hash", "_local"}

// StateVersionHash is dlt's version hash of a pipeline state: SHA3-256
// over its JSON with sorted keys, without the version keys and "_local";
// base64 of the digest.
func StateVersionHash(state *Object) (string, error) {
	c := state.Clone()
	for _, k := range stateHashExcluded {
		c.Delete(k)
	}
	content, err := Marshal(c, true)
	if err != nil {
		return "", err
	}
	sum := sha3.Sum256(content)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// BumpStateVersion recomputes state's _version_hash as dlt's
// bump_state_version_if_modified does: _state_version goes up by one when
// the content changed since the stored hash (not when there was none).
func BumpStateVersion(state *Object) (int64, string, error) {
	h, err := StateVersionHash(state)
	if err != nil {
		return 0, "", err
	}
	v := state.Int("_state_version")
	if prev := state.Str("_version_hash"); prev != "" && prev != h {
		v++
	}
	state.Set("_state_version", v)
	state.Set("_version_hash", h)
	return v, h, nil
}

// maxState bounds a decompressed state: it is read from a database.
const maxState = 256 << 20

// CompressState is dlt's compress_state: the state's JSON, zlib level 9,
// base64. (The bytes differ from Python's zlib; dlt only decompresses.)
func CompressState(state *Object) (string, error) {
	raw, err := Marshal(state, false)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	w.Write(raw)
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b.Bytes()), nil
}

// DecompressState is dlt's decompress_state: base64 then zlib; a string
// that is not base64 is the state's plain JSON (as dlt accepts it too).
func DecompressState(s string) (*Object, error) {
	raw, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		raw = []byte(s)
	} else {
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("decompress state: %w", err)
		}
		raw, err = io.ReadAll(io.LimitReader(zr, maxState+1))
		if err != nil {
			return nil, fmt.Errorf("decompress state: %w", err)
		}
		if len(raw) > maxState {
			return nil, errors.New("decompress state: larger than 256 MiB")
		}
	}
	v, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	o, ok := v.(*Object)
	if !ok {
		return nil, errors.New("decode state: not a JSON object")
	}
	return o, nil
}

// Digest128 is dlt's digest128: base64 (unpadded) of the first 15 bytes
// of SHAKE-128 over s. dlt's incremental keeps these of the records at
// the cursor's last value (unique_hashes).
func Digest128(s string) string {
	return base64.RawStdEncoding.EncodeToString(sha3.SumSHAKE128([]byte(s), 15))
}

// UniqueHash is the unique_hashes entry dlt computes for a record
// (compute_unique_value): Digest128 of the JSON (sorted keys) of the
// primary key's value (one column) or values (several), or of the whole
// record when there is no primary key.
func UniqueHash(rec map[string]any, primaryKey []string) string {
	var v any = rec
	switch len(primaryKey) {
	case 0:
	case 1:
		v = rec[primaryKey[0]]
	default:
		vals := make([]any, len(primaryKey))
		for i, k := range primaryKey {
			vals[i] = rec[k]
		}
		v = vals
	}
	b, err := Marshal(v, true)
	if err != nil {
		return ""
	}
	return Digest128(string(b))
}
