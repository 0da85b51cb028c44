package schema

import (
	"strings"
	"testing"
)

func TestNormalizeIdentifier(t *testing.T) {
	tests := []struct{ in, want string }{
		{"id", "id"},
		{"createdAt", "created_at"},
		{"URLId", "url_id"},
		{"sizeBytes", "size_bytes"},
		{"DealFlow", "deal_flow"},
		{"HTTPResponseCode", "http_response_code"},
		{"already_snake", "already_snake"},
		{"User Name", "user_name"},
		{"  padded  ", "padded"},
		{"a.b/c", "a_b_c"},
		{"e-mail", "e_mail"},
		{"a+b", "axb"},
		{"a*b", "axb"},
		{"me@home", "meahome"},
		{"a|b", "alb"},
		{"2fa", "_2fa"},
		{"123", "_123"},
		{"id_", "idx"},
		{"id__", "idxx"},
		{"a__b", "a_b"},
		{"_links", "_links"},
		{"", "_"},
		{"   ", "_"},
		{"%%", "x"},
		{"Größe", "größe"},
		{"名前", "名前"},
		{"ÜberSicht", "über_sicht"},
		{"v2Name", "v2_name"},
	}
	for _, tt := range tests {
		if got := NormalizeIdentifier(tt.in); got != tt.want {
			t.Errorf("NormalizeIdentifier(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeIdentifierLong(t *testing.T) {
	a := strings.Repeat("veryLongFieldName", 10)
	b := strings.Repeat("veryLongFieldName", 10) + "X"
	na, nb := NormalizeIdentifier(a), NormalizeIdentifier(b)
	if len(na) != MaxIdentifierLength || len(nb) != MaxIdentifierLength {
		t.Fatalf("lengths %d and %d, want %d", len(na), len(nb), MaxIdentifierLength)
	}
	if na == nb {
		t.Errorf("two long names shortened to the same %q", na)
	}
	if NormalizeIdentifier(a) != na {
		t.Error("shortening is not stable")
	}
	if !strings.HasPrefix(na, "very_long_field_name") {
		t.Errorf("shortened name %q lost its start", na)
	}
	// Multi-byte names are cut on rune boundaries.
	u := NormalizeIdentifier(strings.Repeat("名前", 40))
	if len(u) > MaxIdentifierLength || !isValidUTF8(u) {
		t.Errorf("unicode name shortened badly: %q (%d bytes)", u, len(u))
	}
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestJoinPath(t *testing.T) {
	if got := JoinPath("owner", "", "email"); got != "owner__email" {
		t.Errorf("JoinPath = %q", got)
	}
	if got := ColumnPath("owner", "firstName"); got != "owner__first_name" {
		t.Errorf("ColumnPath = %q", got)
	}
	long := JoinPath(strings.Repeat("a", 40), strings.Repeat("b", 40))
	if len(long) != MaxIdentifierLength {
		t.Errorf("JoinPath did not shorten: %q", long)
	}
}

func TestNamer(t *testing.T) {
	n := NewNamer()
	n.Reserve("users", ColID)
	steps := []struct {
		source, want string
	}{
		{"userName", "user_name"},
		{"user_name", "user_name_1"},
		{"userName", "user_name"}, // remembered
		{"USER_NAME", "user_name_2"},
		{"_dlt_id", "_dlt_id_1"},
		{"email", "email"},
	}
	for _, s := range steps {
		got, _ := n.Column("users", s.source)
		if got != s.want {
			t.Errorf("Column(users, %q) = %q, want %q", s.source, got, s.want)
		}
	}
	if got, _ := n.Column("other", "user_name"); got != "user_name" {
		t.Errorf("scopes leak: %q", got)
	}
	if w := n.Warnings(); len(w) != 3 || !strings.Contains(w[0], `"user_name" is already taken by "userName"`) {
		t.Errorf("warnings = %q", w)
	}
}

func TestNamerSeedKeepsNames(t *testing.T) {
	// A first run named userName -> user_name, user_name -> user_name_1.
	first := NewNamer()
	s := &Schema{Tables: []*Table{{Name: "users"}}}
	for _, src := range []string{"userName", "user_name"} {
		name, renamed := first.Column("users", src)
		c := &Column{Name: name, Type: Text}
		if renamed {
			c.Source = src
		}
		s.Tables[0].AddColumn(c)
	}
	// A second run meets them in the other order and must agree.
	second := NewNamer()
	second.Seed(s)
	if got, _ := second.Column("users", "user_name"); got != "user_name_1" {
		t.Errorf("user_name = %q, want user_name_1", got)
	}
	if got, _ := second.Column("users", "userName"); got != "user_name" {
		t.Errorf("userName = %q, want user_name", got)
	}
	if got, _ := second.Column("users", "User Name"); got != "user_name_2" {
		t.Errorf("User Name = %q, want user_name_2", got)
	}
}

func TestNamerTable(t *testing.T) {
	n := NewNamer()
	if got, _ := n.Table("files", "permissions"); got != "files__permissions" {
		t.Errorf("got %q", got)
	}
	if got, renamed := n.Table("files", "Permissions"); got != "files__permissions_1" || !renamed {
		t.Errorf("got %q", got)
	}
}

// TestNamerLegacyTableSources: a child table stored before sources were
// escaped ("files.a.b" for the list under the key "a.b", and for the list b
// under a) keeps its name, and the two lists get distinct tables.
func TestNamerLegacyTableSources(t *testing.T) {
	s := &Schema{Tables: []*Table{
		{Name: "files"},
		{Name: "files__a_b", Parent: "files", Source: "files.a.b"},
		{Name: "files__x__y_z", Parent: "files", Source: "files.x.yZ"},
	}}
	n := NewNamer()
	n.Seed(s)
	for _, c := range []struct {
		path []string
		want string
	}{
		{[]string{"a.b"}, "files__a_b"},
		{[]string{"a", "b"}, "files__a__b"},
		{[]string{"x", "yZ"}, "files__x__y_z"},
		{[]string{"x.yZ"}, "files__x_y_z"},
	} {
		if got, _ := n.Table("files", c.path...); got != c.want {
			t.Errorf("table for %q = %q, want %q", c.path, got, c.want)
		}
	}
}

func TestSourcePath(t *testing.T) {
	distinct := [][]string{{"a.b"}, {"a", "b"}, {`a\`, "b"}, {`a\.b`}, {"variant:a:text"}, {""}, {"", ""}, {"."}}
	seen := map[string][]string{}
	for _, p := range distinct {
		s := SourcePath(p...)
		if o, dup := seen[s]; dup {
			t.Errorf("paths %q and %q share source %q", o, p, s)
		}
		seen[s] = p
	}
	if got := SourcePath("owner", "firstName"); got != "owner.firstName" {
		t.Errorf("plain path: %q (stored schemas record owner.firstName)", got)
	}
}
