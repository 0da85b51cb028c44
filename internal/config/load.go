package config

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/restload/restload/internal/auth"
	"github.com/restload/restload/internal/paginate"
	"gopkg.in/yaml.v3"
)

// LoadOptions says where secrets come from. The zero value reads the
// default secrets file and the process environment.
type LoadOptions struct {
	// SecretsFile is a TOML file that ${secrets.NAME} falls back to when the
	// environment variable is not set. When empty, DefaultSecretsFile of the
	// pipeline file is used if it exists; an explicit file that is missing is
	// an error.
	SecretsFile string
	// LookupEnv reads environment variables (default os.LookupEnv).
	LookupEnv func(string) (string, bool)
	// IgnoreMissingSecrets makes an unset ${secrets.NAME} or ${env.NAME}
	// resolve to the reference text itself instead of being an error. Commands that only read the
	// pipeline's name, dataset and destination (info, schema) use it, so
	// they run without the API's credentials.
	IgnoreMissingSecrets bool
}

// Client defaults (the retry policy's are httpclient.DefaultPolicy's).
const (
	// DefaultTimeout is Client.Timeout when the file does not set it.
	DefaultTimeout = 60 * time.Second
	// DefaultIdleReadTimeout is Client.IdleReadTimeout when the file does
	// not set it.
	DefaultIdleReadTimeout = 30 * time.Second
)

// Load reads, decodes, defaults and validates the pipeline file at path.
// When the file is invalid the error is an Errors holding every problem
// found; other errors (the file cannot be read) are wrapped os errors.
func Load(path string, opts LoadOptions) (*Pipeline, error) {
	return LoadContext(context.Background(), path, opts)
}

// LoadContext is Load that stops when ctx ends, returning ctx's error.
func LoadContext(ctx context.Context, path string, opts LoadOptions) (*Pipeline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read pipeline file: %w", err)
	}
	return ParseContext(ctx, path, data, opts)
}

// Parse is Load for a file already in memory; file names it in errors, is
// where the default secrets file and pipeline name come from, and may be "".
func Parse(file string, data []byte, opts LoadOptions) (*Pipeline, error) {
	return ParseContext(context.Background(), file, data, opts)
}

// ParseContext is Parse that stops when ctx ends, returning ctx's error.
// Decoding is bounded whatever ctx: YAML aliases may add at most 100,000
// values to a file (see maxAliasExpansion).
func ParseContext(ctx context.Context, file string, data []byte, opts LoadOptions) (*Pipeline, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	probs := &problems{file: file}
	sec := newSecretResolver(file, opts, probs)

	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		probs.list = append(probs.list, syntaxError(file, data, err))
		return nil, probs.result(nil)
	}
	if len(doc.Content) == 0 {
		probs.list = append(probs.list, &Error{File: file, Msg: "file is empty"})
		return nil, probs.result(nil)
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		probs.add(Pos{file, root.Line, root.Column}, "", "want a mapping at the top level, got %s", describe(root))
		return nil, probs.result(nil)
	}

	p := &Pipeline{File: file}
	d := &decoder{probs: probs, file: file, at: map[string]Pos{"": {file, root.Line, root.Column}}, sec: sec, secretAt: map[string]bool{},
		ctx: ctx, budget: countNodes(&doc) + maxAliasExpansion}
	if isBareSource(root) {
		d.decode(root, reflect.ValueOf(&p.Source).Elem(), "")
	} else {
		p.srcPrefix = "source"
		d.decode(root, reflect.ValueOf(p).Elem(), "")
	}
	switch {
	case errors.Is(d.stop, errAliasBudget):
		return nil, probs.result(slices.Clone(sec.values))
	case d.stop != nil:
		return nil, fmt.Errorf("reading %s: %w", file, d.stop)
	}
	d.fillFromDlt(p)
	p.at = d.at
	p.dltFilled = d.filled
	p.dltDest = sec.dltDestinationURLs(cmp.Or(p.Pipeline.Name, nameFromFile(file)))
	p.credHeaders = d.credentialHeaders(p)
	p.warnings = sec.warnings
	p.secrets = slices.Clone(sec.values)
	p.origins = sec.origins
	slices.SortFunc(p.secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })

	v := &validator{probs: probs, at: d.at, src: p.srcPrefix, secret: d.secretAt}
	v.pipeline(p)
	if err := probs.result(p.secrets); err != nil {
		return nil, err
	}
	return p, nil
}

// isBareSource reports whether the top-level mapping is dlt's source dict
// itself rather than restload's {pipeline, source, retry, limits}.
func isBareSource(root *yaml.Node) bool {
	bare := false
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch root.Content[i].Value {
		case "pipeline", "source", "retry", "limits":
			return false
		case "client", "resources", "resource_defaults":
			bare = true
		}
	}
	return bare
}

// lineCol returns the 1-based line and column of the byte at offset off.
func lineCol(data []byte, off int) (line, col int) {
	if off > len(data) {
		off = len(data)
	}
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = off - bytes.LastIndexByte(before, '\n')
	return line, col
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a parse failure into an Error with a position. A file
// written as JSON (it starts with '{') gets encoding/json's account of the
// problem, which always has a position; YAML's parser often has none for
// JSON's kind of mistake.
func syntaxError(file string, data []byte, err error) *Error {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		var v any
		jerr := json.Unmarshal(data, &v)
		var se *json.SyntaxError
		if errors.As(jerr, &se) {
			// Offset counts the bytes read, the offending one included.
			line, col := lineCol(data, max(int(se.Offset)-1, 0))
			return &Error{File: file, Line: line, Col: col, Msg: "invalid JSON: " + se.Error()}
		}
	}
	msg := err.Error()
	if line, col, ok := tabIndent(data); ok && (strings.Contains(msg, "tab") || line <= yamlErrLine(msg)+1) {
		return &Error{File: file, Line: line, Col: col, Msg: "invalid YAML: a tab character indents this line; YAML indents with spaces only"}
	}
	bare := yamlMessage(msg)
	if line, col, ok := locateYAMLError(data, bare, yamlErrLine(msg)); ok {
		return &Error{File: file, Line: line, Col: col, Msg: "invalid YAML: " + bare}
	}
	if line := yamlErrLine(msg); line > 0 {
		return &Error{File: file, Line: line, Msg: "invalid YAML: " + bare}
	}
	return &Error{File: file, Msg: "invalid YAML: " + bare}
}

// yamlErrLine is the line a yaml.v3 error names, 0 when none. It is often
// the line where the enclosing block or flow collection starts, not the
// offending one (see locateYAMLError).
func yamlErrLine(msg string) int {
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// yamlMessage is a yaml.v3 error without its "yaml: line N: " prefix.
func yamlMessage(msg string) string {
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return m[2]
	}
	return strings.TrimPrefix(msg, "yaml: ")
}

// tabIndent finds the first line whose indentation holds a tab.
func tabIndent(data []byte) (line, col int, ok bool) {
	for i, l := range bytes.Split(data, []byte("\n")) {
		rest := bytes.TrimLeft(l, " \t")
		if len(bytes.TrimSpace(rest)) == 0 {
			continue // blank lines do not indent
		}
		if j := bytes.IndexByte(l[:len(l)-len(rest)], '\t'); j >= 0 {
			return i + 1, j + 1, true
		}
	}
	return 0, 0, false
}

// locateBudget bounds locateYAMLError's work: the bytes it parses in all
// (each try parses a prefix of the file), well under a second.
const locateBudget = 2 << 20

// locateYAMLError finds the offending line and column of a syntax error
// whose message (without position) is msg: the shortest prefix of the file
// that fails with the same message ends at it. yaml.v3 names the line where
// the enclosing collection starts instead (from), and never a column. The
// search starts at that line.
func locateYAMLError(data []byte, msg string, from int) (line, col int, ok bool) {
	budget := locateBudget
	fails := func(prefix []byte) bool {
		budget -= len(prefix)
		var n yaml.Node
		err := yaml.Unmarshal(prefix, &n)
		return err != nil && yamlMessage(err.Error()) == msg
	}
	start, i := 0, 0
	for ; i+1 < from && start < len(data); i++ {
		end := bytes.IndexByte(data[start:], '\n')
		if end < 0 {
			break
		}
		start += end + 1
	}
	for ; budget > 0 && start < len(data); i++ {
		end := bytes.IndexByte(data[start:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += start + 1
		}
		if fails(data[:end]) {
			lineText := data[start:end]
			for c := 1; c <= len(lineText) && budget > 0; c++ {
				if fails(data[:start+c]) {
					return i + 1, utf8.RuneCount(lineText[:c]), true
				}
			}
			return i + 1, 0, true
		}
		start = end
	}
	return 0, 0, false
}

// applyDefaults fills what the file left out. It runs after the file has
// been checked, so values it reads are known to be well formed.
func (p *Pipeline) applyDefaults() {
	if p.Pipeline.Name == "" {
		p.Pipeline.Name = nameFromFile(p.File)
	}
	if p.Pipeline.Dataset == "" {
		p.Pipeline.Dataset = p.Pipeline.Name + "_dataset"
	}
	c := &p.Source.Client
	if c.Timeout == 0 {
		c.Timeout = Duration(DefaultTimeout)
	}
	if c.IdleReadTimeout == 0 {
		c.IdleReadTimeout = Duration(DefaultIdleReadTimeout)
	}
	defaultAuth(c.Auth)
	if c.Paginator != nil {
		defaultPaginator(c.Paginator)
	}
	if rd := p.Source.ResourceDefaults; rd != nil && rd.Endpoint != nil && rd.Endpoint.Paginator != nil {
		defaultPaginator(rd.Endpoint.Paginator)
	}
	for i := range p.Source.Resources {
		r := &p.Source.Resources[i]
		if p.Source.ResourceDefaults != nil {
			*r = mergeResource(&p.Source.ResourceDefaults.Resource, r)
		}
		if r.Endpoint == nil {
			r.Endpoint = &Endpoint{}
		}
		e := r.Endpoint
		if e.Path == "" {
			e.Path = r.Name
		}
		e.Method = strings.ToUpper(e.Method)
		if e.Method == "" {
			e.Method = "GET"
		}
		if e.Paginator == nil && c.Paginator != nil {
			pg := *c.Paginator
			e.Paginator = &pg
		}
		if e.Paginator != nil {
			defaultPaginator(e.Paginator)
		}
		defaultAuth(e.Auth)
		if r.TableName == "" {
			r.TableName = r.Name
		}
		if r.WriteDisposition == nil {
			r.WriteDisposition = &WriteDisposition{Disposition: "append"}
		}
		if r.WriteDisposition.Disposition == "merge" && r.WriteDisposition.Strategy == "" {
			r.WriteDisposition.Strategy = "delete-insert"
		}
		e.parsed = parseTemplates(e)
	}
}

func defaultAuth(a *Auth) {
	if a != nil {
		auth.ApplyDefaults(a)
	}
}

func defaultPaginator(pg *Paginator) {
	paginate.ApplyDefaults(&pg.Config)
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// nameFromFile turns "configs/My-Pipeline.yaml" into "my_pipeline".
func nameFromFile(file string) string {
	base := filepath.Base(file)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	// Split camelCase before lower-casing.
	var b strings.Builder
	for i, c := range base {
		if i > 0 && c >= 'A' && c <= 'Z' {
			prev := base[i-1]
			if prev >= 'a' && prev <= 'z' || prev >= '0' && prev <= '9' {
				b.WriteByte('_')
			}
		}
		b.WriteRune(c)
	}
	name := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(b.String()), "_"), "_")
	if name == "" || file == "" {
		return "pipeline"
	}
	if name[0] >= '0' && name[0] <= '9' {
		name = "p_" + name
	}
	return name[:min(len(name), maxNameLen)]
}

// SecretValues returns every value that a ${secrets.NAME} reference resolved
// to, plus ${env.NAME} values used under an auth block or in headers, longest
// first, so callers can redact them from logs and errors. The slice is a
// copy.
func (p *Pipeline) SecretValues() []string {
	return slices.Clone(p.secrets)
}

// Warnings returns problems found while loading that do not make the file
// invalid, such as a secrets file readable by others. Commands print them.
func (p *Pipeline) Warnings() []string {
	return slices.Clone(p.warnings)
}

// CredentialHeaders returns the names of the headers (client headers,
// resource_defaults' and each endpoint's) whose value holds a resolved
// ${secrets.NAME}, or an ${env.NAME} (which counts as a secret in headers).
// Such a header is a credential: restload sends it only to the API's host.
func (p *Pipeline) CredentialHeaders() []string {
	return slices.Clone(p.credHeaders)
}

// Resource returns the resource called name, or nil.
func (p *Pipeline) Resource(name string) *Resource {
	for i := range p.Source.Resources {
		if p.Source.Resources[i].Name == name {
			return &p.Source.Resources[i]
		}
	}
	return nil
}

// DestinationURL returns the destination to load into: override when it is
// not empty (a command-line flag), else pipeline.destination from the file,
// else "duckdb:<pipeline name>.duckdb". A bare dlt destination name
// ("postgres", "duckdb") takes its credentials from dlt's configuration
// (DESTINATION__POSTGRES__CREDENTIALS or [destination.postgres.credentials]);
// when there are none, the name is returned as it is and opening it fails
// naming what to set (see DltDestinationError).
func (p *Pipeline) DestinationURL(override string) string {
	u := cmp.Or(override, p.Pipeline.Destination, "duckdb:"+p.Pipeline.Name+".duckdb")
	if d, ok := p.dltDest[u]; ok && d.err == nil {
		return d.url
	}
	return u
}

// DltDestinationError explains why dest, a bare dlt destination name, has
// no credentials; nil when dest is not such a name or has them.
func (p *Pipeline) DltDestinationError(dest string) error {
	return p.dltDest[dest].err
}

// FromDlt lists the keys the file left out that were filled from dlt's
// configuration (environment variables, .dlt/secrets.toml,
// .dlt/config.toml), each as "path from WHERE"; never a value.
func (p *Pipeline) FromDlt() []string {
	return slices.Clone(p.dltFilled)
}

// RetryPolicy returns the retry block with every field set from
// httpclient.DefaultPolicy (3 retries, backoff factor 2, 429 and
// 500/502/503/504, waits capped at 60s) unless the file says otherwise.
func (p *Pipeline) RetryPolicy() Retry {
	pol := p.Retry.Policy()
	return Retry{MaxRetries: &pol.MaxRetries, BackoffFactor: &pol.BackoffFactor,
		StatusCodes: slices.Clone(pol.StatusCodes), MaxDelay: Duration(pol.MaxDelay)}
}

// Position returns where a dotted field path (as used in Error.Path, e.g.
// "source.resources[0].processing_steps[1].map") was written in the file,
// for callers that find problems later, such as expressions that fail to
// compile. Paths of bare-dict files have no "source." prefix; use
// Pipeline.SourcePath to build them.
func (p *Pipeline) Position(path string) (Pos, bool) {
	pos, ok := p.at[path]
	return pos, ok
}

// SourcePath prefixes a path inside the source dict ("resources[0]") the way
// this file needs it: "source.resources[0]", or unchanged for a bare-dict
// file.
func (p *Pipeline) SourcePath(path string) string {
	return joinPath(p.srcPrefix, path)
}

func joinPath(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	case strings.HasPrefix(path, "["):
		return prefix + path
	}
	return prefix + "." + path
}
