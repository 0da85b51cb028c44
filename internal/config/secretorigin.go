package config

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/restload/restload/internal/auth"
)

// SecretOrigin says where a resolved secret value came from (see
// auth.SecretOrigin: auth writes rotated tokens back there).
type SecretOrigin = auth.SecretOrigin

// SecretOrigin returns where value came from when a whole config string was
// one ${secrets.NAME} or ${env.NAME} reference that resolved to it; false
// when value was written in the pipeline file, assembled from several
// parts, or never resolved.
func (p *Pipeline) SecretOrigin(value string) (SecretOrigin, bool) {
	o, ok := p.origins[value]
	if ok {
		o.Keys = slices.Clone(o.Keys)
	}
	return o, ok
}

// wholeRef reports whether s is exactly one ${...} reference.
func wholeRef(s string) bool {
	return strings.HasPrefix(s, "${") && strings.IndexByte(s, '}') == len(s)-1
}

// noteOrigin records where v, the whole value of a config string, came from.
func (r *secretResolver) noteOrigin(v string, o SecretOrigin) {
	if v == "" || (r.ignoreMissing && strings.HasPrefix(v, "${")) {
		return
	}
	if r.origins == nil {
		r.origins = map[string]SecretOrigin{}
	}
	if _, seen := r.origins[v]; !seen {
		r.origins[v] = o
	}
}

// secretOrigin is where secret(name) found its value, following the same
// order: the environment variable, then the first secrets file holding it.
func (r *secretResolver) secretOrigin(name string) SecretOrigin {
	if _, ok := r.lookupEnv(SecretEnvVar(name)); ok {
		return SecretOrigin{EnvVar: SecretEnvVar(name)}
	}
	_, src, path, _ := r.find(name)
	if src == nil {
		src, path = r.tomlSource, strings.ToLower(name)
	}
	return src.origin(path)
}

// origin is the place of the value at key path in src: the file and every
// key with the same last name holding that value (a token rotated away is
// dead wherever it is written, so all of them are rewritten).
func (src *tomlSource) origin(path string) SecretOrigin {
	file := src.file
	if abs, err := filepath.Abs(file); err == nil {
		file = abs
	}
	v := src.byPath[path]
	leaf := path[strings.LastIndexByte(path, '.')+1:]
	var keys []string
	for _, p := range src.byLeaf[leaf] {
		if src.byPath[p] == v {
			keys = append(keys, p)
		}
	}
	slices.Sort(keys)
	return SecretOrigin{File: file, Keys: keys}
}
