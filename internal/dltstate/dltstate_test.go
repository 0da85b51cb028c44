package dltstate

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

const fixture = "/work/shared/fixtures/dlt-analytics/dlt_analytics.sql"

// fixtureRows returns the tab-separated rows of table's COPY block in the
// fixture dump.
func fixtureRows(t *testing.T, table string) [][]string {
	t.Helper()
	f, err := os.Open(fixture)
	if err != nil {
		t.Skipf("fixture not available: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var out [][]string
	in := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "COPY dlt_analytics."+table+" "):
			in = true
		case in && line == `\.`:
			return out
		case in:
			out = append(out, strings.Split(line, "\t"))
		}
	}
	t.Fatalf("no COPY block for %s", table)
	return nil
}

// TestSchemaHashOfFixture recomputes the version_hash dlt stored in
// _dlt_version from the schema JSON stored beside it.
func TestSchemaHashOfFixture(t *testing.T) {
	rows := fixtureRows(t, "_dlt_version")
	if len(rows) == 0 {
		t.Fatal("no _dlt_version rows")
	}
	for _, r := range rows {
		v, err := Parse([]byte(r[5]))
		if err != nil {
			t.Fatal(err)
		}
		s := v.(*Object)
		got, err := SchemaVersionHash(s)
		if err != nil {
			t.Fatal(err)
		}
		if got != r[4] || got != s.Str("version_hash") {
			t.Errorf("schema hash = %s, dlt stored %s", got, r[4])
		}
		// Unchanged, a bump keeps version and hash.
		ver, h, err := BumpSchemaVersion(s.Clone())
		if err != nil || h != r[4] || ver != s.Int("version") {
			t.Errorf("bump of an unchanged schema = %d %s %v", ver, h, err)
		}
		// Writing it back gives dlt's bytes.
		b, _ := Marshal(s, false)
		if string(b) != r[5] {
			t.Errorf("re-encoded schema differs from dlt's")
		}
		// A column added bumps the version and records the old hash.
		c := s.Clone()
		c.Obj("tables").Obj("files").Obj("columns").Set("x", NewObject())
		ver, h, _ = BumpSchemaVersion(c)
		if ver != s.Int("version")+1 || h == r[4] {
			t.Errorf("bump after a change = %d %s", ver, h)
		}
		if prev, _ := c.Get("previous_hashes"); prev.([]any)[0] != r[4] {
			t.Errorf("previous_hashes = %v", prev)
		}
	}
}

// TestStateOfFixture decodes the state dlt stored in _dlt_pipeline_state
// and recomputes its version_hash; the incremental cursor is where dlt
// keeps it.
func TestStateOfFixture(t *testing.T) {
	rows := fixtureRows(t, "_dlt_pipeline_state")
	for _, r := range rows {
		st, err := DecompressState(r[3])
		if err != nil {
			t.Fatal(err)
		}
		h, err := StateVersionHash(st)
		if err != nil {
			t.Fatal(err)
		}
		if h != r[5] || st.Str("_version_hash") != r[5] {
			t.Errorf("state hash = %s, dlt stored %s", h, r[5])
		}
		inc := st.Obj("sources").Obj("analytics").Obj("resources").Obj("files_incremental").Obj("incremental").Obj("updatedAt")
		if inc.Str("last_value") != "2024-06-11T06:10:57.783Z" {
			t.Errorf("last_value = %q", inc.Str("last_value"))
		}
		// Round trip through restload's compression.
		s, err := CompressState(st)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecompressState(s)
		if err != nil {
			t.Fatal(err)
		}
		if h2, _ := StateVersionHash(back); h2 != h {
			t.Errorf("round trip changed the state hash")
		}
	}
}

// TestUniqueHashOfFixture: the boundary hash dlt stored is the one
// UniqueHash computes for the record at the cursor (primary key id).
func TestUniqueHashOfFixture(t *testing.T) {
	rec := map[string]any{"id": "bf8ba4b8-ac03-424e-bfa0-67fdf40f713a", "name": "Naïve Funnel"}
	if got := UniqueHash(rec, []string{"id"}); got != "8jSUHPUzr9NCrGBzcld4" {
		t.Errorf("UniqueHash = %s, dlt stored 8jSUHPUzr9NCrGBzcld4", got)
	}
}

func TestMarshalLikeOrjson(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{map[string]any{"b": 1, "a": "é<&>\u2028\n\x01"}, "{\"a\":\"é<&>\u2028\\n\\u0001\",\"b\":1}"},
		{[]any{1.0, 0.5, 1e20, nil, true}, `[1.0,0.5,1e+20,null,true]`},
	} {
		b, err := Marshal(c.in, true)
		if err != nil || string(b) != c.want {
			t.Errorf("Marshal(%v) = %s, want %s", c.in, b, c.want)
		}
	}
	if _, err := Parse([]byte(strings.Repeat("[", 1000) + strings.Repeat("]", 1000))); err == nil {
		t.Error("deep nesting accepted")
	}
	if _, err := DecompressState("not base64!"); err == nil {
		t.Error("garbage decoded")
	}
}
