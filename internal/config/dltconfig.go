package config

import (
	"cmp"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/restload/restload/internal/auth"
)

// dlt's configuration conventions, read alongside restload's own secrets
// file: its providers (the environment, then .dlt/secrets.toml, then
// .dlt/config.toml), its environment variable names (sections joined with
// "__", upper-cased) and its lookup order (the pipeline name as the first
// section, then without it; within each, section paths from the most
// specific to the least). A value written in the pipeline file always
// wins, as an explicit argument does in dlt; these fill what it leaves out.

// DefaultSourceName is the section dlt's rest_api_source reads its
// credentials under when not given a name (sources.rest_api...).
const DefaultSourceName = "rest_api"

// dltDirs returns the .dlt directories read, most specific first: the one
// DLT_PROJECT_DIR names when it is set (dlt's rule), else the one beside
// the pipeline file and the one in the working directory.
func dltDirs(pipelineFile string, lookupEnv func(string) (string, bool)) []string {
	if dir, ok := lookupEnv("DLT_PROJECT_DIR"); ok && dir != "" {
		return []string{filepath.Join(dir, ".dlt")}
	}
	var dirs []string
	add := func(dir string) {
		abs, err := filepath.Abs(filepath.Join(dir, ".dlt"))
		if err == nil && !slices.Contains(dirs, abs) {
			dirs = append(dirs, abs)
		}
	}
	if pipelineFile != "" {
		add(filepath.Dir(pipelineFile))
	}
	if wd, err := os.Getwd(); err == nil {
		add(wd)
	}
	return dirs
}

// readDltFiles reads name (secrets.toml or config.toml) from each of dirs
// that has it; problems go to probs.
func readDltFiles(dirs []string, name string, secret bool, probs *problems) []*tomlSource {
	var out []*tomlSource
	for _, d := range dirs {
		if src := readTOML(filepath.Join(d, name), false, probs); src.present {
			src.secret = secret
			out = append(out, src)
		}
	}
	return out
}

// dltFound is a value found by dltLookup and where.
type dltFound struct {
	value  string
	origin SecretOrigin
	// key is the environment variable or dotted TOML key it was found as.
	key string
}

// dltLookup finds key under the first of paths (section lists, most
// specific first) that holds it, asking each provider in dlt's order: the
// environment, the secrets files, then, unless secret, the config files.
// pipeline, when not "", is tried as a leading section first.
func (r *secretResolver) dltLookup(pipeline string, paths [][]string, key string, secret bool) (dltFound, bool) {
	var prefixes [][]string
	if pipeline != "" {
		prefixes = append(prefixes, []string{pipeline})
	}
	prefixes = append(prefixes, nil)
	for _, pre := range prefixes {
		for _, p := range paths {
			full := append(append(slices.Clone(pre), p...), key)
			if v, ok := r.lookupEnv(dltEnvName(full)); ok {
				return dltFound{v, SecretOrigin{EnvVar: dltEnvName(full)}, dltEnvName(full)}, true
			}
		}
		for _, src := range r.dltFiles(secret) {
			for _, p := range paths {
				dotted := strings.ToLower(strings.Join(append(append(slices.Clone(pre), p...), key), "."))
				if v, ok := src.byPath[dotted]; ok {
					return dltFound{v, src.origin(dotted), dotted + " in " + src.file}, true
				}
			}
		}
	}
	return dltFound{}, false
}

// dltFiles lists the TOML providers in dlt's order; config.toml only for
// values that are not secrets (dlt refuses a secret found there).
func (r *secretResolver) dltFiles(secret bool) []*tomlSource {
	if secret {
		return r.dltSecrets
	}
	return append(slices.Clone(r.dltSecrets), r.dltConfigs...)
}

// dltEnvName is dlt's environment variable for a key path: sections and
// key upper-cased, joined with "__".
func dltEnvName(path []string) string {
	return strings.ToUpper(strings.Join(path, "__"))
}

// credentialPaths are the section paths dlt resolves a rest_api auth's
// fields under, most specific first, for the source called name: the
// auth block's own place in the source dict (sources.rest_api.client.auth,
// which restload also reads), then dlt's credentials sections
// (sources.rest_api.<name>.credentials, sources.rest_api.credentials,
// sources.<name>.credentials, sources.credentials, credentials).
func credentialPaths(name string) [][]string {
	var paths [][]string
	for _, p := range [][]string{
		{"sources", "rest_api", name, "client", "auth"},
		{"sources", "rest_api", "client", "auth"},
		{"sources", "rest_api", name, "credentials"},
		{"sources", "rest_api", "credentials"},
		{"sources", name, "credentials"},
		{"sources", "credentials"},
		{"credentials"},
	} {
		if !slices.ContainsFunc(paths, func(q []string) bool { return slices.Equal(p, q) }) {
			paths = append(paths, p)
		}
	}
	return paths
}

// secretAuthKeys are the auth keys whose values are credentials.
var secretAuthKeys = []string{"token", "api_key", "password", "client_id", "client_secret", "refresh_token"}

// fillAuthFromDlt fills the keys of auth block a (at path) that the file
// left out from dlt's providers, as dlt resolves an auth configuration.
func (d *decoder) fillAuthFromDlt(a *Auth, path, pipeline, source string, keys []string) {
	if a == nil {
		return
	}
	rv := reflect.ValueOf(a).Elem()
	fs := fieldsOf(rv.Type())
	for _, key := range keys {
		i := slices.IndexFunc(fs, func(f field) bool { return f.key == key })
		if i < 0 {
			continue
		}
		fv := rv.FieldByIndex(fs[i].index)
		kp := pathKey(path, key)
		if !fv.IsZero() || d.probs.bad[kp] || d.written(kp) {
			continue
		}
		secret := slices.Contains(secretAuthKeys, key)
		found, ok := d.sec.dltLookup(pipeline, credentialPaths(source), key, secret)
		if !ok {
			continue
		}
		switch fv.Kind() {
		case reflect.String:
			fv.SetString(found.value)
		case reflect.Int:
			n, err := strconv.Atoi(strings.TrimSpace(found.value))
			if err != nil {
				d.probs.add(d.at[path], kp, "%s: want a whole number", found.key)
				d.probs.markBad(kp)
				continue
			}
			fv.SetInt(int64(n))
		default:
			continue
		}
		d.at[kp] = d.at[path]
		d.filled = append(d.filled, kp+" from "+found.key)
		if secret {
			d.sec.remember(found.value)
			d.secretAt[kp] = true
			d.sec.noteOrigin(found.value, found.origin)
		}
	}
}

// written reports whether path was written in the file.
func (d *decoder) written(path string) bool {
	_, ok := d.at[path]
	return ok
}

// fillFromDlt fills what the auth blocks of p leave out from dlt's
// providers (see fillAuthFromDlt).
func (d *decoder) fillFromDlt(p *Pipeline) {
	pipeline := p.Pipeline.Name
	if pipeline == "" {
		pipeline = nameFromFile(p.File)
	}
	source := cmp.Or(p.Pipeline.SourceName, DefaultSourceName)
	each := func(a *Auth, path string) {
		if a == nil {
			return
		}
		k, ok := auth.Lookup(cmp.Or(a.Type, auth.DefaultType))
		if !ok {
			return
		}
		d.fillAuthFromDlt(a, joinPath(p.srcPrefix, path), pipeline, source, append(slices.Clone(k.Required), k.Optional...))
	}
	if _, ok, err := d.sec.dltDestinationURL(p.Pipeline.Destination, pipeline); ok && err != nil {
		d.probs.add(d.at["pipeline.destination"], "pipeline.destination", "%v", err)
		d.probs.markBad("pipeline.destination")
	}
	each(p.Source.Client.Auth, "client.auth")
	if rd := p.Source.ResourceDefaults; rd != nil && rd.Endpoint != nil {
		each(rd.Endpoint.Auth, "resource_defaults.endpoint.auth")
	}
	for i := range p.Source.Resources {
		if e := p.Source.Resources[i].Endpoint; e != nil {
			each(e.Auth, fmt.Sprintf("resources[%d].endpoint.auth", i))
		}
	}
}

// dltAuthHint names where dlt (and restload) look for an auth key the
// file left out, for the missing-key message.
func dltAuthHint(source, key string) string {
	sections := []string{"sources", "rest_api", "credentials"}
	if source != "" && source != DefaultSourceName {
		sections = []string{"sources", "rest_api", source, "credentials"}
	}
	return fmt.Sprintf("or, as dlt reads it, set %s or %s under [%s] in .dlt/secrets.toml",
		dltEnvName(append(slices.Clone(sections), key)), key, strings.Join(sections, "."))
}

// dltDestinations are the dlt destination names a pipeline's destination
// may be written as, and the scheme restload opens them with.
var dltDestinations = map[string]string{"postgres": "postgres", "duckdb": "duckdb"}

// dltDest is a bare dlt destination name resolved: its URL, or why it
// has none.
type dltDest struct {
	url string
	err error
}

// dltDestinationURLs resolves every bare dlt destination name.
func (r *secretResolver) dltDestinationURLs(pipeline string) map[string]dltDest {
	m := map[string]dltDest{}
	for name := range dltDestinations {
		u, _, err := r.dltDestinationURL(name, pipeline)
		m[name] = dltDest{u, err}
		if pu, perr := url.Parse(u); err == nil && perr == nil && pu.User != nil {
			if pw, ok := pu.User.Password(); ok {
				r.remember(pw) // masked in logs and errors
			}
		}
	}
	return m
}

// dltDestinationURL turns a bare dlt destination name ("postgres",
// "duckdb") into a destination URL from dlt's credentials for it
// (DESTINATION__POSTGRES__CREDENTIALS as a connection string, or its
// parts, or [destination.postgres.credentials] in .dlt/secrets.toml). ok
// is false when name is not such a name. A postgres destination without
// credentials is an error; duckdb defaults to <pipeline>.duckdb, as dlt's.
func (r *secretResolver) dltDestinationURL(name, pipeline string) (string, bool, error) {
	scheme, ok := dltDestinations[name]
	if !ok {
		return "", false, nil
	}
	paths := [][]string{{"destination", name}, {"destination"}, nil}
	if f, ok := r.dltLookup(pipeline, paths, "credentials", true); ok {
		v := f.value
		if scheme == "duckdb" {
			return "duckdb:" + v, true, nil
		}
		return v, true, nil
	}
	cred := [][]string{{"destination", name, "credentials"}, {"destination", "credentials"}, {"credentials"}}
	part := func(key string, secret bool) string {
		f, _ := r.dltLookup(pipeline, cred, key, secret)
		return f.value
	}
	if scheme == "duckdb" {
		return "duckdb:" + pipeline + ".duckdb", true, nil
	}
	host := part("host", false)
	if host == "" {
		return "", true, fmt.Errorf("destination %s: no credentials: set DESTINATION__%s__CREDENTIALS to a connection string, or its parts (DESTINATION__%s__CREDENTIALS__HOST, __DATABASE, __USERNAME, __PASSWORD, __PORT), or [destination.%s.credentials] in .dlt/secrets.toml",
			name, strings.ToUpper(name), strings.ToUpper(name), name)
	}
	u := url.URL{Scheme: "postgresql", Host: host, Path: "/" + part("database", false)}
	if port := part("port", false); port != "" {
		u.Host += ":" + port
	}
	if user := part("username", true); user != "" {
		if pw := part("password", true); pw != "" {
			u.User = url.UserPassword(user, pw)
		} else {
			u.User = url.User(user)
		}
	}
	return u.String(), true, nil
}

// pythonCall matches a Python call or subscripted call written as text:
// SinglePagePaginator(), HttpBasicAuth("u", "p"), repositories(),
// dlt.sources.incremental[str]("id").
var pythonCall = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*(\[[^\]]*\])?\(.*\)$`)

// pythonCode reports whether s is Python code a dlt config may hold as an
// object (a class instance, a lambda, a dlt resource or incremental) that
// a YAML or JSON file can only hold as text.
func pythonCode(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "lambda ") || strings.HasPrefix(s, "lambda:") || pythonCall.MatchString(s)
}

// refusePython reports s at path when it is Python code: restload cannot
// run Python, so such a value is refused with what to write instead.
func (v *validator) refusePython(path, s, instead string) bool {
	if !pythonCode(s) {
		return false
	}
	v.errorf(path, "%s is a Python object, which restload cannot run (a YAML or JSON pipeline holds no Python); %s", v.show(path, s), instead)
	return true
}
