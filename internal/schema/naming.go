package schema

import (
	"crypto/sha3"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIdentifierLength is the longest identifier, in bytes, that naming
// produces. It is PostgreSQL's limit (63), the tightest of the destinations
// restload writes to, so one dataset gets the same names everywhere.
const MaxIdentifierLength = 63

// PathSeparator joins the names of a nested path: an object field flattened
// into its parent (owner__email) or a list's child table (files__permissions).
const PathSeparator = "__"

var (
	// snakeBreak1 splits before a capitalised word: "URLId" -> "URL_Id".
	snakeBreak1 = regexp.MustCompile(`([^_])(\p{Lu}\p{Ll}+)`)
	// snakeBreak2 splits a lower case letter or digit from a following
	// capital: "sizeBytes" -> "size_Bytes".
	snakeBreak2 = regexp.MustCompile(`([\p{Ll}\p{Nd}])(\p{Lu})`)
	underscores = regexp.MustCompile(`_{2,}`)
)

// NormalizeIdentifier turns a source name (a JSON field, a resource name)
// into a snake_case identifier, following dlt's snake_case naming convention
// so tables look the way dlt users know them:
//
//   - surrounding white space is trimmed; an empty name becomes "_";
//   - "+" and "*" become "x", "-" becomes "_", "@" becomes "a", "|" becomes "l";
//   - every run of other characters that are not letters, digits or "_"
//     becomes one "_";
//   - camelCase is split into words: createdAt -> created_at, URLId -> url_id;
//   - everything is lower-cased;
//   - a leading digit gets a "_" prefix: 2fa -> _2fa;
//   - each trailing "_" becomes "x" (dlt does this so a name never ends in
//     the path separator): id_ -> idx;
//   - runs of "_" collapse to one, so "__" only ever separates a path;
//   - names longer than MaxIdentifierLength bytes are cut in the middle
//     around a 6-character tag hashed from the source name (dlt's scheme),
//     so long names stay distinct and stable.
//
// One deliberate difference from dlt: letters and digits outside ASCII are
// kept (lower-cased) instead of being replaced by "_", because replacing
// them would turn every all-Cyrillic or all-Japanese field name into the
// same column. Both DuckDB and PostgreSQL accept them in quoted identifiers.
func NormalizeIdentifier(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "_"
	}
	if isPlainIdentifier(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	prevUnderscore := false
	for _, r := range s {
		switch r {
		case '+', '*':
			r = 'x'
		case '-':
			r = '_'
		case '@':
			r = 'a'
		case '|':
			r = 'l'
		}
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
			if !prevUnderscore {
				b.WriteByte('_')
			}
			prevUnderscore = true
			continue
		}
		prevUnderscore = false
		b.WriteRune(r)
	}
	id := snakeBreak1.ReplaceAllString(b.String(), "${1}_${2}")
	id = snakeBreak2.ReplaceAllString(id, "${1}_${2}")
	id = strings.ToLower(id)
	if r, _ := utf8.DecodeRuneInString(id); unicode.IsDigit(r) {
		id = "_" + id
	}
	trimmed := strings.TrimRight(id, "_")
	id = trimmed + strings.Repeat("x", len(id)-len(trimmed))
	id = underscores.ReplaceAllString(id, "_")
	return shorten(id, s, MaxIdentifierLength)
}

// isPlainIdentifier reports whether s is already a normalized identifier of
// the common kind (lower-case ASCII, digits, single inner underscores), so
// NormalizeIdentifier can return it as is.
func isPlainIdentifier(s string) bool {
	if len(s) > MaxIdentifierLength || s[len(s)-1] == '_' || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '_':
			if i > 0 && s[i-1] == '_' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// JoinPath joins identifiers that are already normalized into one nested
// name with PathSeparator (owner, email -> owner__email), skipping empty
// ones, and shortens the result to MaxIdentifierLength the way
// NormalizeIdentifier does.
func JoinPath(parts ...string) string {
	var nonEmpty []string
	for _, p := range parts {
		if p != "" {
			nonEmpty = append(nonEmpty, p)
		}
	}
	p := strings.Join(nonEmpty, PathSeparator)
	return shorten(p, p, MaxIdentifierLength)
}

// ColumnPath is the column name of a nested source path before any
// collision handling: each segment normalized, then joined with JoinPath.
func ColumnPath(path ...string) string {
	if len(path) == 1 {
		return NormalizeIdentifier(path[0])
	}
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = NormalizeIdentifier(p)
	}
	return JoinPath(parts...)
}

// shorten cuts id to max bytes when it is longer, keeping its start and end
// and putting a tag hashed from source in the middle.
func shorten(id, source string, max int) string {
	if max <= 0 || len(id) <= max {
		return id
	}
	tag := nameTag(source)
	remaining := max - len(tag)
	head := remaining/2 + remaining%2
	tail := len(id) - remaining/2
	for head > 0 && !utf8.RuneStart(id[head]) {
		head--
	}
	for tail < len(id) && !utf8.RuneStart(id[tail]) {
		tail++
	}
	return id[:head] + tag + id[tail:]
}

// nameTag is dlt's identifier tag: 4 bytes of SHAKE-128 of the source name,
// base64 without padding, "/" and "+" replaced, lower-cased.
func nameTag(source string) string {
	sum := sha3.SumSHAKE128([]byte(source), 4)
	tag := strings.TrimRight(base64.StdEncoding.EncodeToString(sum), "=")
	tag = strings.NewReplacer("/", "a", "+", "b").Replace(tag)
	return strings.ToLower(tag)
}

// withSuffix appends "_<n>" to name, cutting name so the result stays
// within MaxIdentifierLength bytes.
func withSuffix(name string, n int) string {
	suffix := "_" + strconv.Itoa(n)
	if len(name)+len(suffix) > MaxIdentifierLength {
		cut := MaxIdentifierLength - len(suffix)
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut]
	}
	return name + suffix
}

// Namer hands out identifiers that are unique within a scope and remembers
// which source each was given to, so a source keeps its name and two sources
// that normalize to the same identifier (userName and user_name) get
// distinct names: the first to ask keeps user_name, the next gets
// user_name_1, then user_name_2, and a warning is recorded.
//
// A scope is a table name for column names, or "" for the table names of the
// whole schema. Seed a Namer with the schema loaded before, so names given
// in earlier runs stay put: a column whose name had to be changed records its
// source in Column.Source (Table.Source for tables), and names without a
// recorded source go to the first source that normalizes to them.
//
// A Namer is not safe for concurrent use. Callers that need names in a
// stable order across runs must ask in a stable order.
type Namer struct {
	scopes   map[string]*nameScope
	warnings []string
}

type nameScope struct {
	bySource map[string]string // source -> name
	owner    map[string]string // name -> source, or ownerUnknown / ownerReserved
}

const (
	ownerUnknown  = "\x00unknown"
	ownerReserved = "\x00reserved"
)

// NewNamer returns an empty Namer.
func NewNamer() *Namer {
	return &Namer{scopes: map[string]*nameScope{}}
}

func (n *Namer) scope(key string) *nameScope {
	sc := n.scopes[key]
	if sc == nil {
		sc = &nameScope{bySource: map[string]string{}, owner: map[string]string{}}
		n.scopes[key] = sc
	}
	return sc
}

// Seed records the tables and columns of s as taken. System columns are
// reserved; other names are mapped from their recorded Source, or claimed
// by the first source that normalizes to them.
func (n *Namer) Seed(s *Schema) {
	if s == nil {
		return
	}
	for _, t := range s.Tables {
		source := t.Source
		if t.Parent != "" && strings.HasPrefix(source, t.Parent+".") {
			source = t.Parent + "." + legacySource(strings.TrimPrefix(source, t.Parent+"."), t.Name, t.Parent)
		}
		n.seed("", t.Name, source, false)
		for _, c := range t.Columns {
			n.seed(t.Name, c.Name, legacySource(c.Source, c.Name, ""), c.System)
		}
	}
}

// legacySource reads a source recorded before SourcePath escaped field
// names, when sources were the path's names joined with "." as they were:
// "user.name" was the key "user.name" (column user_name) or the field name
// under user (user__name). The stored name tells which: the path reading is
// kept when it gives the name (or the name with a "_<n>" suffix), as every
// restload before the escape read it, else the single key's when that gives
// it. The result is in SourcePath's form, so an upgraded run asks for the
// same source and keeps the column. A source in SourcePath's form already
// comes back unchanged. parent is the parent table of a child table's
// source ("" for a column's).
func legacySource(source, name, parent string) string {
	if source == "" || strings.Contains(source, `\`) || strings.HasPrefix(source, "variant:") || !strings.ContainsAny(source, ".:") {
		return source
	}
	candidate := func(path ...string) string {
		if parent == "" {
			return ColumnPath(path...)
		}
		parts := []string{parent}
		for _, p := range path {
			parts = append(parts, NormalizeIdentifier(p))
		}
		return JoinPath(parts...)
	}
	parts := strings.Split(source, ".")
	if len(parts) > 1 && namedAs(name, candidate(parts...)) {
		return SourcePath(parts...)
	}
	if namedAs(name, candidate(source)) {
		return SourcePath(source)
	}
	return SourcePath(parts...)
}

// namedAs reports whether name is candidate or candidate made unique with
// a "_<n>" suffix (see withSuffix).
func namedAs(name, candidate string) bool {
	if name == candidate {
		return true
	}
	i := strings.LastIndexByte(name, '_')
	if i < 0 {
		return false
	}
	k, err := strconv.Atoi(name[i+1:])
	return err == nil && k > 0 && withSuffix(candidate, k) == name
}

func (n *Namer) seed(scope, name, source string, reserved bool) {
	sc := n.scope(scope)
	switch {
	case reserved:
		sc.owner[name] = ownerReserved
	case source != "":
		sc.owner[name] = source
		sc.bySource[source] = name
	default:
		if _, taken := sc.owner[name]; !taken {
			sc.owner[name] = ownerUnknown
		}
	}
}

// Reserve marks name as taken in scope so no source is given it; restload
// reserves the _dlt_* system columns this way.
func (n *Namer) Reserve(scope, name string) {
	n.scope(scope).owner[name] = ownerReserved
}

// Hold marks candidate as taken in scope without giving it to a source, as
// Seed does for a stored column with no recorded source: the first source
// that asks for candidate gets it. It reports false, changing nothing, when
// a source or a system column already owns candidate. Normalize holds the
// names of columns created from hints before any record is seen, so the
// hint "size_bytes" and the field sizeBytes end up in one column.
func (n *Namer) Hold(scope, candidate string) bool {
	sc := n.scope(scope)
	if owner, taken := sc.owner[candidate]; taken && owner != ownerUnknown {
		return false
	}
	sc.owner[candidate] = ownerUnknown
	return true
}

// Name returns the identifier for source in scope: the one it was given
// before, else candidate when that is free, else candidate with the
// smallest free "_<n>" suffix. renamed is true when the result differs from
// candidate.
func (n *Namer) Name(scope, source, candidate string) (name string, renamed bool) {
	sc := n.scope(scope)
	if name, ok := sc.bySource[source]; ok {
		return name, name != candidate
	}
	name = candidate
	if owner, taken := sc.owner[candidate]; taken && owner != ownerUnknown {
		for i := 1; ; i++ {
			name = withSuffix(candidate, i)
			if owner, taken := sc.owner[name]; !taken || owner == ownerUnknown {
				break
			}
		}
		n.warnings = append(n.warnings, collisionWarning(scope, source, name, candidate, owner))
	}
	sc.owner[name] = source
	sc.bySource[source] = name
	return name, name != candidate
}

func collisionWarning(scope, source, name, candidate, owner string) string {
	what := "column"
	where := fmt.Sprintf(" in table %q", scope)
	if scope == "" {
		what, where = "table", ""
	}
	by := "a system column"
	if owner != ownerReserved {
		by = fmt.Sprintf("%q", owner)
	}
	return fmt.Sprintf("source %q%s is named %s %q because %q is already taken by %s", source, where, what, name, candidate, by)
}

// Owner returns the source that owns name in scope, if a source does
// (not a system column, nor a name seeded without a source).
func (n *Namer) Owner(scope, name string) (string, bool) {
	owner, ok := n.scope(scope).owner[name]
	if !ok || owner == ownerUnknown || owner == ownerReserved {
		return "", false
	}
	return owner, true
}

// Steal gives name in scope to source and its owner (see Owner) the name
// with the smallest free "_<n>" suffix, which it returns; a warning is
// recorded. The caller renames what carried the name (a column nothing was
// loaded into yet) to the returned name.
func (n *Namer) Steal(scope, name, source string) string {
	sc := n.scope(scope)
	owner := sc.owner[name]
	moved := name
	for i := 1; ; i++ {
		moved = withSuffix(name, i)
		if o, taken := sc.owner[moved]; !taken || o == ownerUnknown {
			break
		}
	}
	sc.owner[moved], sc.bySource[owner] = owner, moved
	sc.owner[name], sc.bySource[source] = source, name
	n.warnings = append(n.warnings, collisionWarning(scope, owner, moved, name, source))
	return moved
}

// Column names the column for the nested source path (field names from the
// row down) in table: ColumnPath(path...) made unique. The source recorded
// is the path joined with ".".
func (n *Namer) Column(table string, path ...string) (name string, renamed bool) {
	return n.Name(table, SourcePath(path...), ColumnPath(path...))
}

// Table names the child table holding the list at the source path under
// parent (parent__field), unique among the schema's tables. The source
// recorded is the parent's name and the path joined with ".".
func (n *Namer) Table(parent string, path ...string) (name string, renamed bool) {
	parts := make([]string, 0, len(path)+1)
	parts = append(parts, parent)
	for _, p := range path {
		parts = append(parts, NormalizeIdentifier(p))
	}
	source := parent + "." + SourcePath(path...)
	return n.Name("", source, JoinPath(parts...))
}

// sourceEscaper escapes the bytes SourcePath gives a meaning.
var sourceEscaper = strings.NewReplacer(`\`, `\\`, ".", `\.`, ":", `\:`)

// SourcePath is the source name the Namer records for a nested field path:
// the field names joined with ".", each with "\", "." and ":" escaped by a
// "\". Field names are arbitrary JSON keys, so a plain join would give the
// key "a.b" and the path a -> b one source, and so one column; a key such as
// "variant:x:text" would read like a variant column's source. A path of
// keys without those bytes (nearly all) reads as the plain join, the form
// stored schemas have always recorded.
func SourcePath(path ...string) string {
	if len(path) == 1 && !strings.ContainsAny(path[0], `\.:`) {
		return path[0]
	}
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = sourceEscaper.Replace(p)
	}
	return strings.Join(parts, ".")
}

// ColumnSource is the Column.Source to record for a column named name from
// the nested source path: "" when name is the path itself joined with
// PathSeparator (user_name from user_name, owner__email from owner.email),
// else the path joined with "." (fooBar for foo_bar). Recording it whenever
// normalizing changed the name, not only on a collision, lets a later run
// give the column to the same source even when a field spelled like the
// name (foo_bar) arrives first: the stored schema decides, not arrival
// order. A column without a Source goes to the first source that asks for
// it, a field spelled like the name before others (see Seed).
func ColumnSource(name string, path ...string) string {
	if name == strings.Join(path, PathSeparator) {
		return ""
	}
	return SourcePath(path...)
}

// TableSource is ColumnSource for the child table named name holding the
// list at path under parent: "" when name is parent__path literally, else
// the source Namer.Table records.
func TableSource(name, parent string, path ...string) string {
	if name == parent+PathSeparator+strings.Join(path, PathSeparator) {
		return ""
	}
	return parent + "." + SourcePath(path...)
}

// Warnings returns one message per name that had to be changed to avoid a
// collision, in the order they happened.
func (n *Namer) Warnings() []string {
	return append([]string(nil), n.warnings...)
}

// NumWarnings returns how many warnings Warnings would return.
func (n *Namer) NumWarnings() int { return len(n.warnings) }

// WarningsSince returns the warnings after the first i.
func (n *Namer) WarningsSince(i int) []string {
	return append([]string(nil), n.warnings[i:]...)
}
