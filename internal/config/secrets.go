package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"
)

// tomlSource is one TOML file of secrets or settings, flattened.
type tomlSource struct {
	// file is the file looked in; present is false when it does not exist.
	file    string
	present bool
	// secret is true for a file that may hold secrets (dlt's config.toml
	// may not).
	secret bool
	// byPath maps lower-cased dotted paths ("sources.rest_api.client_id")
	// to values; byLeaf maps lower-cased last keys to the paths holding
	// them.
	byPath map[string]string
	byLeaf map[string][]string
	// warning is set when the file may be read by others.
	warning string
}

// secretResolver looks up ${secrets.NAME} and ${env.NAME} references and
// dlt's configuration (see dltconfig.go), and remembers every secret value
// it hands out, so others can redact them.
type secretResolver struct {
	lookupEnv func(string) (string, bool)
	// tomlSource is restload's secrets file (LoadOptions.SecretsFile or
	// .restload/secrets.toml).
	*tomlSource
	// dltSecrets and dltConfigs are dlt's .dlt/secrets.toml and
	// .dlt/config.toml files that exist, most specific first.
	dltSecrets, dltConfigs []*tomlSource
	values                 []string
	// warnings are problems that do not stop the load.
	warnings []string
	// ignoreMissing resolves unset references to "" (LoadOptions.IgnoreMissingSecrets).
	ignoreMissing bool
	// origins maps a value that was a whole reference to where it came from.
	origins map[string]SecretOrigin
}

// newSecretResolver reads the secrets file named by opts (or the default one
// beside pipelineFile) and dlt's .dlt files, and reports their problems to
// probs.
func newSecretResolver(pipelineFile string, opts LoadOptions, probs *problems) *secretResolver {
	r := &secretResolver{lookupEnv: opts.LookupEnv, ignoreMissing: opts.IgnoreMissingSecrets}
	if r.lookupEnv == nil {
		r.lookupEnv = os.LookupEnv
	}
	explicit := opts.SecretsFile != ""
	file := opts.SecretsFile
	if !explicit {
		file = DefaultSecretsFile(pipelineFile)
	}
	r.tomlSource = readTOML(file, explicit, probs)
	dirs := dltDirs(pipelineFile, r.lookupEnv)
	r.dltSecrets = readDltFiles(dirs, "secrets.toml", true, probs)
	r.dltConfigs = readDltFiles(dirs, "config.toml", false, probs)
	for _, src := range append([]*tomlSource{r.tomlSource}, r.dltSecrets...) {
		if src.warning != "" {
			r.warnings = append(r.warnings, src.warning)
		}
	}
	return r
}

// readTOML reads and flattens a TOML file. A missing file is a problem only
// when explicit.
func readTOML(file string, explicit bool, probs *problems) *tomlSource {
	src := &tomlSource{file: file, secret: true, byPath: map[string]string{}, byLeaf: map[string][]string{}}
	data, err := os.ReadFile(file)
	switch {
	case err == nil:
		src.present = true
		src.checkMode()
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return src
	default:
		probs.list = append(probs.list, &Error{File: file, Msg: fmt.Sprintf("cannot read secrets file: %v", errors.Unwrap(err))})
		return src
	}
	var tree map[string]any
	if _, err := toml.Decode(string(data), &tree); err != nil {
		e := &Error{File: file, Msg: "invalid TOML"}
		var perr toml.ParseError
		if errors.As(err, &perr) {
			e.Line, e.Col = perr.Position.Line, perr.Position.Col
			// The message may quote the offending text; keep only the
			// description up to the first quote.
			e.Msg = "invalid TOML: " + safeTOMLMessage(perr.Message)
		}
		probs.list = append(probs.list, e)
		return src
	}
	src.flatten("", tree)
	return src
}

// checkMode warns, as ssh does for a private key, when the secrets file may
// be read by its group or by others.
func (r *tomlSource) checkMode() {
	st, err := os.Stat(r.file)
	if err != nil {
		return
	}
	if mode := st.Mode().Perm(); mode&0o077 != 0 {
		r.warning = fmt.Sprintf("secrets file %s is readable by others (mode %04o); restrict it with: chmod 600 %s", r.file, mode, r.file)
	}
}

// safeTOMLMessage trims a TOML parser message at the first quoted excerpt,
// since that excerpt may be part of a secret.
func safeTOMLMessage(msg string) string {
	if i := strings.IndexAny(msg, `"'`); i > 0 {
		msg = strings.TrimRight(msg[:i], " :")
	}
	return msg
}

func (r *tomlSource) flatten(prefix string, tree map[string]any) {
	for k, v := range tree {
		p := strings.ToLower(k)
		if prefix != "" {
			p = prefix + "." + p
		}
		switch v := v.(type) {
		case map[string]any:
			r.flatten(p, v)
		case []map[string]any:
			// Arrays of tables have no single value for a name.
		default:
			r.byPath[p] = fmt.Sprint(v)
			leaf := strings.ToLower(k)
			r.byLeaf[leaf] = append(r.byLeaf[leaf], p)
		}
	}
}

// DefaultSecretsFile is the secrets file Load reads when
// LoadOptions.SecretsFile is empty: .restload/secrets.toml in the directory
// of the pipeline file.
func DefaultSecretsFile(pipelineFile string) string {
	return filepath.Join(filepath.Dir(pipelineFile), ".restload", "secrets.toml")
}

// SecretEnvVar is the environment variable ${secrets.NAME} reads: NAME
// upper-cased, with dots turned into "__" (dlt's convention) and other
// characters that are not letters or digits turned into "_".
func SecretEnvVar(name string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(strings.ReplaceAll(name, ".", "__")) {
		if (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// lookup finds a secret name in src: its exact key path, else, for a name
// without dots, the key of that name in any table when all hold the same
// value. path is the key path found.
func (src *tomlSource) lookup(name string) (v, path string, found bool, err error) {
	ln := strings.ToLower(name)
	if v, ok := src.byPath[ln]; ok {
		return v, ln, true, nil
	}
	if strings.Contains(ln, ".") {
		return "", "", false, nil
	}
	paths := src.byLeaf[ln]
	distinct := map[string]bool{}
	for _, p := range paths {
		distinct[src.byPath[p]] = true
	}
	switch {
	case len(distinct) == 1:
		return src.byPath[paths[0]], paths[0], true, nil
	case len(distinct) > 1:
		paths = slices.Sorted(slices.Values(paths))
		return "", "", false, fmt.Errorf("secret %q has different values in %s (%s); name one as ${secrets.%s}",
			name, src.file, strings.Join(paths, ", "), paths[0])
	}
	return "", "", false, nil
}

// find looks a secret name up in restload's secrets file, then in dlt's
// .dlt/secrets.toml files.
func (r *secretResolver) find(name string) (v string, src *tomlSource, path string, err error) {
	for _, src := range append([]*tomlSource{r.tomlSource}, r.dltSecrets...) {
		v, path, ok, err := src.lookup(name)
		if err != nil || ok {
			return v, src, path, err
		}
	}
	return "", nil, "", nil
}

// secret resolves a secret name: the environment variable, restload's
// secrets file, then dlt's .dlt/secrets.toml. The error message names
// where it looked and never contains a value.
func (r *secretResolver) secret(name string) (string, error) {
	if v, ok := r.lookupEnv(SecretEnvVar(name)); ok {
		return v, nil
	}
	v, src, _, err := r.find(name)
	if err != nil {
		return "", err
	}
	if src != nil {
		return v, nil
	}
	if r.ignoreMissing {
		// Keep the reference itself: required-key checks still pass, and
		// nothing pretends to be a real value.
		return "${secrets." + name + "}", nil
	}
	where := r.file
	if !r.present {
		where += " (file not found)"
	}
	for _, d := range r.dltSecrets {
		where += " or " + d.file
	}
	return "", fmt.Errorf("secret %q is not set: set the environment variable %s or add %s to %s",
		name, SecretEnvVar(name), name, where)
}

func (r *secretResolver) remember(v string) {
	if r.ignoreMissing && strings.HasPrefix(v, "${") {
		return // an unresolved reference kept as text, not a secret
	}
	if v != "" && !slices.Contains(r.values, v) {
		r.values = append(r.values, v)
	}
}

// sensitiveEnv reports whether v, the value of an ${env.NAME} reference
// in the setting at path, after the text before (the setting's value up to
// the reference, expanded), is a credential: anything in headers, and
// anything under an auth block but the settings that only say where a
// credential goes or how it is asked for (authLocators). A token URL from
// the environment shares its host with the API's base URL, often from the
// same variable (the seed's ${env.ANALYTICS_URL}); were it a secret, every
// logged and reported URL of the API would lose its host to redaction. A
// reference in a token URL's query or fragment, or a value carrying one or
// user information ("?", "#", "@"), stays a secret.
func sensitiveEnv(path, before, v string) bool {
	p := "." + path + "."
	if strings.Contains(p, ".headers.") || strings.Contains(p, ".headers[") {
		return true
	}
	i := strings.LastIndex(p, ".auth.")
	if i < 0 {
		return false
	}
	field := p[i+len(".auth."):]
	if j := strings.IndexAny(field, ".["); j >= 0 {
		field = field[:j]
	}
	switch {
	case !authLocators[field]:
		return true
	case strings.HasSuffix(field, "token_url"):
		return strings.ContainsAny(before, "?#") || strings.ContainsAny(v, "?#@")
	}
	return false
}

// authLocators are the auth settings that are not credentials: the auth
// type, where an API key goes, the token endpoints, the scopes asked for
// and a token's default lifetime.
var authLocators = map[string]bool{
	"type": true, "name": true, "location": true, "token_url": true, "access_token_url": true,
	"scopes": true, "default_token_expiration": true,
}

// expand replaces ${secrets.NAME}, ${env.NAME} and ${env.NAME:-default}
// in s; "$${" stands for a literal "${". Problems are reported at n under path, and false is returned.
func (d *decoder) expand(s string, n *yaml.Node, path string) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	ok := true
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			d.errAt(n, path, "unclosed ${ (write $${ for a literal ${)")
			d.probs.markBad(path)
			return s, false
		}
		ref := strings.TrimSpace(s[i+2 : i+end])
		i += end + 1
		ns, name, _ := strings.Cut(ref, ".")
		name, def, hasDef := strings.Cut(name, ":-")
		name = strings.TrimSpace(name)
		switch {
		case hasDef && ns != "env":
			d.errAt(n, path, "%s: only ${env.NAME:-default} takes a default", strconv.Quote("${"+ref+"}"))
			d.probs.markBad(path)
			ok = false
		case ns == "secrets" && name != "":
			v, err := d.sec.secret(name)
			if err != nil {
				d.errAt(n, path, "%v", err)
				d.probs.markBad(path)
				ok = false
				continue
			}
			d.sec.remember(v)
			d.secretAt[path] = true
			if wholeRef(s) {
				d.sec.noteOrigin(v, d.sec.secretOrigin(name))
			}
			b.WriteString(v)
		case ns == "env" && name != "":
			v, found := d.sec.lookupEnv(name)
			fromEnv := found && (v != "" || !hasDef)
			if hasDef && !fromEnv {
				// As a POSIX shell's ${NAME:-default}: unset or empty.
				v, found = def, true
			}
			if !found && d.sec.ignoreMissing {
				v, found = "${env."+name+"}", true
			}
			if !found {
				d.errAt(n, path, "environment variable %s is not set", name)
				d.probs.markBad(path)
				ok = false
				continue
			}
			if sensitiveEnv(path, b.String(), v) {
				d.sec.remember(v)
				d.secretAt[path] = true
			}
			if fromEnv && wholeRef(s) {
				d.sec.noteOrigin(v, SecretOrigin{EnvVar: name})
			}
			b.WriteString(v)
		default:
			d.errAt(n, path, "unknown reference %s: want ${secrets.NAME} or ${env.NAME}", strconv.Quote("${"+ref+"}"))
			d.probs.markBad(path)
			ok = false
		}
	}
	return b.String(), ok
}

// credentialHeaders lists the names of the headers whose values hold a
// resolved secret, in the client block, resource_defaults and every endpoint.
func (d *decoder) credentialHeaders(p *Pipeline) []string {
	var names []string
	add := func(path string, headers map[string]string) {
		for k := range headers {
			if d.secretAt[pathKey(joinPath(p.srcPrefix, path), k)] && !slices.Contains(names, k) {
				names = append(names, k)
			}
		}
	}
	add("client.headers", p.Source.Client.Headers)
	if rd := p.Source.ResourceDefaults; rd != nil && rd.Endpoint != nil {
		add("resource_defaults.endpoint.headers", rd.Endpoint.Headers)
	}
	for i, r := range p.Source.Resources {
		if r.Endpoint != nil {
			add(fmt.Sprintf("resources[%d].endpoint.headers", i), r.Endpoint.Headers)
		}
	}
	slices.Sort(names)
	return names
}
