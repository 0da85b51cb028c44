package mockapi

import "github.com/restload/restload/internal/jsontext"

// Records are generated on demand from (seed, resource, index): nothing is
// stored, so a million-record resource costs no memory, and the same inputs
// always produce the same bytes. Each record draws from its own splitmix64
// stream; the draw order is fixed by the code below, so changing the order of
// fields changes the data (and the determinism golden in the tests).

const (
	resFiles = iota
	resConnections
	resDatasets
	resMembers
	resTeams
	resTemplates
	resWorkspaces
	resWorkbooks
	numResources
)

// resourceNames lists the resources in the seed config's order.
var resourceNames = [numResources]string{
	"files", "connections", "datasets", "members", "teams", "templates", "workspaces", "workbooks",
}

// sigmaKeys are the per-resource primary keys of Sigma Computing's API.
var sigmaKeys = [numResources]string{
	"id", "connectionId", "datasetId", "memberId", "teamId", "templateId", "workspaceId", "workbookId",
}

func resourceIndex(name string) int {
	for i, n := range resourceNames {
		if n == name {
			return i
		}
	}
	return -1
}

// Index-based quirks, documented on Server so tests elsewhere can rely on them.
const (
	driftSizeMod, driftSizeRem       = 50, 37 // sizeBytes is a string like "12 KB"
	driftVersionMod, driftVersionRem = 40, 23 // version is a float like 3.5
	trickyNameMod, trickyNameRem     = 97, 41 // name holds a quote, a backslash and a newline
)

const (
	baseMs = 1546300800000           // 2019-01-01T00:00:00Z
	spanMs = 5 * 365 * 86400000      // createdAt falls within five years of baseMs
	yearMs = 365 * 86400000          // updatedAt is within a year after createdAt
	mask48 = uint64(1)<<48 - 1       // low 48 bits of a key embed the index
	oddMul = uint64(0x5DEECE66D) | 1 // bijective multiplier modulo 2^48
)

type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix(r.s)
}

// intn returns a value in [0, n); n must be positive.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// pct reports true with probability p percent.
func (r *rng) pct(p int) bool { return r.intn(100) < p }

func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// ident is the hash every per-record value derives from.
func (s *Server) ident(res, i int) uint64 {
	return mix(s.seedMix ^ mix(uint64(res+1)<<56^uint64(i)))
}

// appendKey appends the quoted UUID-shaped key of record i of res. The last
// 48 bits are a bijection of i, so keys never collide within a resource.
func (s *Server) appendKey(b []byte, res, i int) []byte {
	h := s.ident(res, i)
	h2 := mix(h ^ 0x1234567)
	low := (uint64(i)*oddMul + s.seedMix + uint64(res)*0x9e3779b97f4a7c15) & mask48
	b = append(b, '"')
	b = appendHex(b, h>>32, 8)
	b = append(b, '-')
	b = appendHex(b, h>>16, 4)
	b = append(b, '-')
	b = appendHex(b, 0x4000|h&0x0fff, 4)
	b = append(b, '-')
	b = appendHex(b, 0x8000|h2&0x3fff, 4)
	b = append(b, '-')
	b = appendHex(b, low, 12)
	return append(b, '"')
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// appendURLID appends a short opaque id (unquoted) like Sigma's urlId.
func (s *Server) appendURLID(b []byte, res, i int) []byte {
	h := mix(s.ident(res, i) ^ 0xabcdef)
	for k := 0; k < 10; k++ {
		b = append(b, base62[h%62])
		h /= 62
	}
	// Disambiguate with the index so urlIds are unique within a resource.
	for v := uint64(i) + 1; v > 0; v /= 62 {
		b = append(b, base62[v%62])
	}
	return b
}

// appendHex appends the low n (<= 16) hex digits of v.
func appendHex(b []byte, v uint64, n int) []byte {
	var tmp [16]byte
	for k := n - 1; k >= 0; k-- {
		tmp[k] = hexDigits[v&0xf]
		v >>= 4
	}
	return append(b, tmp[:n]...)
}

type namePart struct{ display, slug string }

var (
	adjectives = []string{"Quarterly", "Regional", "Weekly", "Annual", "Executive", "Café", "Überblick",
		"Résumé", "Señal", "Ångström", "Global", "Données", "Prévision", "Jährlich", "Naïve", "Crème"}
	nouns = []string{"Revenue", "Forecast", "Funnel", "Churn", "Cohorts", "Inventory", "売上", "数据看板",
		"ダッシュボード", "Отчёт", "매출", "Bestellungen", "Ventas", "Métricas", "Pipeline", "KPIs"}
	emojis    = []string{"🚀", "📊", "✨", "🔥", "✅"}
	tagPool   = []string{"finance", "marketing", "sales", "ops", "pii", "q1", "q2", "prod", "staging", "légal", "日本", "beta"}
	roles     = []string{"view", "explore", "edit", "admin"}
	acctTypes = []string{"Admin", "Creator", "Explorer", "Viewer", "Lite"}
	fileTypes = []string{"workbook", "dataset", "folder", "template", "data-model"}
	connTypes = []string{"snowflake", "bigquery", "databricks", "redshift", "postgres", "mysql"}
	connPorts = []int64{443, 0, 443, 5439, 5432, 3306}
	domains   = []string{"example.com", "example.org", "acme.example"}
	timezones = []string{"UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney"}
	locales   = []string{"en-US", "fr-FR", "de-DE", "ja-JP", "pt-BR"}
	folders   = []string{"Shared", "Finance", "Marketing", "Sales Ops", "Équipe Données", "個人"}
	crons     = []string{"0 * * * *", "0 6 * * *", "*/15 * * * *", "0 0 * * 1"}
	regions   = []string{"us-east-1", "eu-west-1", "ap-northeast-1"}
	firsts    = []namePart{{"José", "jose"}, {"Zoë", "zoe"}, {"François", "francois"}, {"Björn", "bjorn"},
		{"Siobhán", "siobhan"}, {"美咲", "misaki"}, {"Łukasz", "lukasz"}, {"Ana", "ana"}, {"John", "john"},
		{"Priya", "priya"}, {"Chloé", "chloe"}, {"Mateo", "mateo"}, {"Aiko", "aiko"}, {"Olúwaseun", "oluwaseun"},
		{"Sven", "sven"}, {"Fatima", "fatima"}}
	lasts = []namePart{{"García", "garcia"}, {"Müller", "muller"}, {"O'Brien", "obrien"}, {"Nguyễn", "nguyen"},
		{"田中", "tanaka"}, {"Smith", "smith"}, {"Kowalski", "kowalski"}, {"Øberg", "oberg"}, {"Dubois", "dubois"},
		{"Patel", "patel"}, {"Rossi", "rossi"}, {"Kim", "kim"}, {"Silva", "silva"}, {"Novák", "novak"},
		{"Haddad", "haddad"}, {"Johansson", "johansson"}}
)

const trickyName = "Budget \"v2\" \\ draft\nnotes"

// member returns the name parts of member j; they depend only on (seed, j),
// so owners embedded elsewhere agree with the members resource.
func (s *Server) member(j int) (first, last namePart, domain string) {
	h := mix(s.ident(resMembers, j) ^ 0x77)
	return firsts[h%uint64(len(firsts))], lasts[(h>>16)%uint64(len(lasts))], domains[(h>>32)%uint64(len(domains))]
}

func (s *Server) appendEmail(b []byte, j int) []byte {
	first, last, domain := s.member(j)
	b = append(b, '"')
	b = append(b, first.slug...)
	b = append(b, '.')
	b = append(b, last.slug...)
	b = appendUint(b, uint64(j))
	b = append(b, '@')
	b = append(b, domain...)
	return append(b, '"')
}

func appendUint(b []byte, v uint64) []byte {
	var tmp [20]byte
	n := len(tmp)
	for {
		n--
		tmp[n] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, tmp[n:]...)
}

// ref picks a record index of res for a reference field.
func (s *Server) ref(r *rng, res int) int {
	n := s.counts[res]
	if n <= 0 {
		n = 1
	}
	return r.intn(n)
}

func (s *Server) refKey(w *jw, k string, res, j int) {
	w.key(k)
	w.b = s.appendKey(w.b, res, j)
}

// appendRecord appends record i of res as one compact JSON object.
func (s *Server) appendRecord(b []byte, res, i int) []byte {
	r := rng{s: s.ident(res, i)}
	w := jw{b: append(b, '{')}
	s.refKey(&w, s.keyNames[res], res, i)
	if res != resMembers {
		s.name(&w, &r, i)
	}

	switch res {
	case resFiles:
		s.fileFields(&w, &r, i)
	case resConnections:
		s.connectionFields(&w, &r, i)
	case resDatasets:
		s.datasetFields(&w, &r, i)
	case resMembers:
		s.memberFields(&w, &r, i)
	case resTeams:
		s.teamFields(&w, &r)
	case resTemplates:
		s.templateFields(&w, &r, i)
	case resWorkspaces:
		s.workspaceFields(&w, &r)
	case resWorkbooks:
		s.workbookFields(&w, &r, i)
	}

	if res != resMembers {
		switch d := r.intn(10); {
		case d < 4:
			w.key("description")
			w.b = append(w.b, `"Maintained by the `...)
			w.b = append(w.b, folders[r.intn(len(folders))]...)
			w.b = append(w.b, ` team — refreshed `...)
			w.b = append(w.b, crons[r.intn(len(crons))]...)
			w.b = append(w.b, '"')
		case d == 4:
			w.null("description")
		}
	}
	created := baseMs + int64(r.next()%spanMs)
	updated := created + int64(r.next()%yearMs)
	s.refKey(&w, "createdBy", resMembers, s.ref(&r, resMembers))
	s.refKey(&w, "updatedBy", resMembers, s.ref(&r, resMembers))
	w.time("createdAt", created)
	w.time("updatedAt", updated)
	if r.pct(8) {
		w.time("archivedAt", updated)
	}
	w.end('}')
	return w.b
}

func (s *Server) name(w *jw, r *rng, i int) {
	w.key("name")
	if i%trickyNameMod == trickyNameRem {
		w.b = jsontext.AppendString(w.b, trickyName)
		return
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, adjectives[r.intn(len(adjectives))]...)
	w.b = append(w.b, ' ')
	w.b = append(w.b, nouns[r.intn(len(nouns))]...)
	if r.pct(8) {
		w.b = append(w.b, ' ')
		w.b = append(w.b, emojis[r.intn(len(emojis))]...)
	}
	w.b = append(w.b, '"')
}

func (s *Server) owner(w *jw, r *rng) {
	j := s.ref(r, resMembers)
	first, last, _ := s.member(j)
	w.object("owner")
	s.refKey(w, "memberId", resMembers, j)
	w.key("email")
	w.b = s.appendEmail(w.b, j)
	w.key("name")
	w.b = append(w.b, '"')
	w.b = append(w.b, first.display...)
	w.b = append(w.b, ' ')
	w.b = append(w.b, last.display...)
	w.b = append(w.b, '"')
	w.end('}')
}

func (s *Server) tags(w *jw, r *rng) {
	w.array("tags")
	n := r.intn(5)
	start := r.intn(len(tagPool))
	for k := 0; k < n; k++ {
		w.elemString(tagPool[(start+k)%len(tagPool)])
	}
	w.end(']')
}

func (s *Server) permissions(w *jw, r *rng) {
	w.array("permissions")
	n := r.intn(4)
	for k := 0; k < n; k++ {
		w.elemObject()
		s.refKey(w, "teamId", resTeams, s.ref(r, resTeams))
		w.str("role", roles[r.intn(len(roles))])
		w.end('}')
	}
	w.end(']')
}

func (s *Server) path(w *jw, r *rng) {
	w.object("path")
	s.refKey(w, "workspaceId", resWorkspaces, s.ref(r, resWorkspaces))
	w.str("folder", folders[r.intn(len(folders))])
	w.int("depth", int64(1+r.intn(4)))
	w.end('}')
}

func (s *Server) urlID(w *jw, k string, res, i int) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = s.appendURLID(w.b, res, i)
	w.b = append(w.b, '"')
}

func (s *Server) appURL(w *jw, kind string, res, i int) {
	w.key("url")
	w.b = append(w.b, `"https://app.example.com/acme/`...)
	w.b = append(w.b, kind...)
	w.b = append(w.b, '/')
	w.b = s.appendURLID(w.b, res, i)
	w.b = append(w.b, '"')
}

// sizeBytes is an integer except at indexes ≡ driftSizeRem (mod driftSizeMod),
// where it is a human-readable string.
func sizeBytes(w *jw, r *rng, i int) {
	v := int64(r.next() % (1 << 34))
	if i%driftSizeMod == driftSizeRem {
		w.key("sizeBytes")
		w.b = append(w.b, '"')
		w.b = appendUint(w.b, uint64(v>>10))
		w.b = append(w.b, ` KB"`...)
		return
	}
	w.int("sizeBytes", v)
}

// version is an integer except at indexes ≡ driftVersionRem (mod
// driftVersionMod), where it is a non-integral float.
func version(w *jw, latest int64, i int) {
	if i%driftVersionMod == driftVersionRem {
		w.float("version", float64(latest)+0.5)
		return
	}
	w.int("version", latest)
}

func (s *Server) fileFields(w *jw, r *rng, i int) {
	s.urlID(w, "urlId", resFiles, i)
	w.str("type", fileTypes[r.intn(len(fileTypes))])
	if i == 0 || r.pct(15) {
		w.null("parentId")
		w.null("parentUrlId")
	} else {
		p := r.intn(i)
		s.refKey(w, "parentId", resFiles, p)
		s.urlID(w, "parentUrlId", resFiles, p)
	}
	s.path(w, r)
	sizeBytes(w, r, i)
	w.boolean("isArchived", r.pct(5))
	s.owner(w, r)
	s.tags(w, r)
	s.permissions(w, r)
}

func (s *Server) connectionFields(w *jw, r *rng, i int) {
	t := r.intn(len(connTypes))
	w.str("type", connTypes[t])
	w.boolean("isSample", i%7 == 0)
	if connPorts[t] == 0 {
		w.null("host")
		w.null("port")
	} else {
		w.key("host")
		w.b = append(w.b, `"db-`...)
		w.b = appendUint(w.b, uint64(i))
		w.b = append(w.b, `.example.internal"`...)
		w.int("port", connPorts[t])
	}
	w.str("database", folders[r.intn(len(folders))])
	if r.pct(20) {
		w.null("lastSyncedAt")
	} else {
		w.time("lastSyncedAt", baseMs+int64(r.next()%spanMs))
	}
	w.object("settings")
	w.int("timeoutSecs", int64(30*(1+r.intn(10))))
	w.str("region", regions[r.intn(len(regions))])
	if connTypes[t] == "snowflake" {
		w.str("warehouse", "COMPUTE_WH")
	}
	w.end('}')
	s.tags(w, r)
}

func (s *Server) datasetFields(w *jw, r *rng, i int) {
	s.urlID(w, "urlId", resDatasets, i)
	s.appURL(w, "dataset", resDatasets, i)
	s.refKey(w, "connectionId", resConnections, s.ref(r, resConnections))
	w.int("rowCount", int64(r.next()%50_000_000))
	sizeBytes(w, r, i)
	if r.pct(25) {
		w.null("lastRunAt")
	} else {
		w.time("lastRunAt", baseMs+int64(r.next()%spanMs))
	}
	if r.pct(50) {
		w.null("schedule")
	} else {
		w.object("schedule")
		w.str("cron", crons[r.intn(len(crons))])
		w.str("timezone", timezones[r.intn(len(timezones))])
		w.end('}')
	}
	s.owner(w, r)
	s.tags(w, r)
	s.permissions(w, r)
}

func (s *Server) memberFields(w *jw, r *rng, i int) {
	first, last, _ := s.member(i)
	w.key("email")
	w.b = s.appendEmail(w.b, i)
	w.str("firstName", first.display)
	w.str("lastName", last.display)
	t := r.intn(len(acctTypes))
	w.str("memberType", acctTypes[t])
	w.boolean("isGuest", r.pct(5))
	s.refKey(w, "homeFolderId", resFiles, s.ref(r, resFiles))
	if r.pct(30) {
		w.null("lastLoginAt")
	} else {
		w.time("lastLoginAt", baseMs+int64(r.next()%spanMs))
	}
	w.array("teamIds")
	for k, n := 0, r.intn(4); k < n; k++ {
		w.sep()
		w.b = s.appendKey(w.b, resTeams, s.ref(r, resTeams))
	}
	w.end(']')
	w.object("preferences")
	w.str("locale", locales[r.intn(len(locales))])
	w.str("timezone", timezones[r.intn(len(timezones))])
	if r.pct(50) {
		w.null("theme")
	} else {
		w.str("theme", "dark")
	}
	w.end('}')
}

func (s *Server) teamFields(w *jw, r *rng) {
	w.str("visibility", [...]string{"public", "private"}[r.intn(2)])
	n := r.intn(6)
	w.int("memberCount", int64(n))
	w.array("members")
	for k := 0; k < n; k++ {
		w.elemObject()
		s.refKey(w, "memberId", resMembers, s.ref(r, resMembers))
		w.str("role", [...]string{"member", "admin"}[r.intn(2)])
		w.end('}')
	}
	w.end(']')
	s.tags(w, r)
}

func (s *Server) templateFields(w *jw, r *rng, i int) {
	s.urlID(w, "urlId", resTemplates, i)
	s.appURL(w, "template", resTemplates, i)
	latest := int64(1 + r.intn(30))
	w.int("latestVersion", latest)
	version(w, latest, i)
	w.boolean("isShared", r.pct(40))
	s.path(w, r)
	s.owner(w, r)
	s.tags(w, r)
}

func (s *Server) workspaceFields(w *jw, r *rng) {
	s.owner(w, r)
	s.permissions(w, r)
	s.tags(w, r)
	w.object("settings")
	if r.pct(30) {
		w.null("defaultConnectionId")
	} else {
		s.refKey(w, "defaultConnectionId", resConnections, s.ref(r, resConnections))
	}
	w.boolean("allowExports", r.pct(70))
	w.end('}')
}

func (s *Server) workbookFields(w *jw, r *rng, i int) {
	s.urlID(w, "workbookUrlId", resWorkbooks, i)
	s.appURL(w, "workbook", resWorkbooks, i)
	s.path(w, r)
	latest := int64(1 + r.intn(200))
	w.int("latestVersion", latest)
	version(w, latest, i)
	sizeBytes(w, r, i)
	w.boolean("isArchived", r.pct(5))
	if r.pct(35) {
		w.null("lastPublishedAt")
	} else {
		w.time("lastPublishedAt", baseMs+int64(r.next()%spanMs))
	}
	s.owner(w, r)
	s.tags(w, r)
	s.permissions(w, r)
}
