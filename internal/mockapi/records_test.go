package mockapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestDeterminism(t *testing.T) {
	pages := func(opts Options) []byte {
		s := New(opts)
		tok := accessToken(t, s)
		var all []byte
		for _, res := range s.Resources() {
			for _, q := range []string{"?limit=100", "?limit=100&page=3"} {
				all = append(all, get(t, s, tok, "/v2/"+res+q).Body.Bytes()...)
			}
		}
		return all
	}
	a, b := pages(Options{Seed: 7}), pages(Options{Seed: 7})
	if !bytes.Equal(a, b) {
		t.Fatal("same seed served different bytes")
	}
	if bytes.Equal(a, pages(Options{Seed: 8})) {
		t.Fatal("different seeds served the same bytes")
	}
}

// TestGolden pins the generated data so an accidental change to the
// generator (which would silently change every benchmark and e2e fixture) is
// noticed. Update the hash deliberately when the data is meant to change.
func TestGolden(t *testing.T) {
	s := New(Options{Seed: 42, Records: 200})
	h := sha256.New()
	for _, res := range s.Resources() {
		for i := range 200 {
			h.Write(s.RecordJSON(res, i))
		}
	}
	const want = "cefd6163a1ce6fc440a710940744d399be936f288ff09ad2839eaacb2f3c2b16"
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != want {
		t.Errorf("generated data changed: sha256 %s, want %s", got, want)
	}
}

func TestRecordsAreValidAndVaried(t *testing.T) {
	const n = 300
	s := New(Options{Records: n})
	for _, res := range s.Resources() {
		t.Run(res, func(t *testing.T) {
			keys := map[string]bool{}
			fieldCount := map[string]int{}
			for i := range n {
				raw := s.RecordJSON(res, i)
				if !json.Valid(raw) || !utf8.Valid(raw) {
					t.Fatalf("record %d is not valid UTF-8 JSON: %s", i, raw)
				}
				rec := s.Record(res, i)
				id, _ := rec["id"].(string)
				if len(id) != 36 || keys[id] {
					t.Fatalf("record %d: bad or duplicate id %q", i, id)
				}
				keys[id] = true
				for k := range rec {
					fieldCount[k]++
				}
				for _, f := range []string{"createdAt", "updatedAt"} {
					ts, err := time.Parse(time.RFC3339Nano, rec[f].(string))
					if err != nil {
						t.Fatalf("record %d %s: %v", i, f, err)
					}
					if f == "updatedAt" && ts.Before(mustTime(t, rec["createdAt"].(string))) {
						t.Fatalf("record %d: updatedAt before createdAt", i)
					}
				}
				for _, f := range []string{"createdBy", "updatedBy"} {
					if _, ok := rec[f].(string); !ok {
						t.Fatalf("record %d lacks %s", i, f)
					}
				}
			}
			if res == "members" {
				return
			}
			// Optional fields: carried by some records, not all.
			for _, f := range []string{"description", "archivedAt"} {
				if c := fieldCount[f]; c == 0 || c == n {
					t.Errorf("%s present in %d of %d records, want some", f, c, n)
				}
			}
		})
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestRecordQuirks(t *testing.T) {
	s := New(Options{})
	// Type drift at documented indexes.
	for _, res := range []string{"files", "datasets", "workbooks"} {
		if _, ok := s.Record(res, 36)["sizeBytes"].(float64); !ok {
			t.Errorf("%s[36].sizeBytes should be a number", res)
		}
		if v, ok := s.Record(res, 37)["sizeBytes"].(string); !ok || !strings.HasSuffix(v, " KB") {
			t.Errorf("%s[37].sizeBytes = %v, want a string like \"12 KB\"", res, s.Record(res, 37)["sizeBytes"])
		}
	}
	for _, res := range []string{"templates", "workbooks"} {
		v := s.Record(res, 23)["version"].(float64)
		if v == float64(int64(v)) {
			t.Errorf("%s[23].version = %v, want a non-integral float", res, v)
		}
		if s.Record(res, 24)["version"] != s.Record(res, 24)["latestVersion"] {
			t.Errorf("%s[24].version should equal latestVersion", res)
		}
	}
	if got := s.Record("files", 41)["name"]; got != trickyName {
		t.Errorf("files[41].name = %q, want %q", got, trickyName)
	}
	// Unicode, nested objects, lists of scalars and objects, nulls.
	var sawCJK, sawEmoji, sawAccent, sawEmptyPerms, sawPerms, sawNull bool
	for i := range 500 {
		rec := s.Record("workbooks", i)
		name := rec["name"].(string)
		sawCJK = sawCJK || strings.ContainsAny(name, "売数ダ매")
		sawEmoji = sawEmoji || strings.ContainsAny(name, "🚀📊✨🔥✅")
		sawAccent = sawAccent || strings.ContainsAny(name, "éÜñÅï")
		perms := rec["permissions"].([]any)
		sawEmptyPerms = sawEmptyPerms || len(perms) == 0
		if len(perms) > 0 {
			p := perms[0].(map[string]any)
			sawPerms = sawPerms || (p["teamId"] != nil && p["role"] != nil)
		}
		sawNull = sawNull || rec["lastPublishedAt"] == nil
		owner := rec["owner"].(map[string]any)
		if !strings.Contains(owner["email"].(string), "@") {
			t.Fatalf("owner %v", owner)
		}
		if _, ok := rec["tags"].([]any); !ok {
			t.Fatalf("tags %v", rec["tags"])
		}
	}
	if !(sawCJK && sawEmoji && sawAccent && sawEmptyPerms && sawPerms && sawNull) {
		t.Errorf("variety: cjk %v emoji %v accent %v emptyPerms %v perms %v null %v",
			sawCJK, sawEmoji, sawAccent, sawEmptyPerms, sawPerms, sawNull)
	}
	// Owners agree with the members resource.
	owner := s.Record("files", 5)["owner"].(map[string]any)
	found := false
	for j := range s.Count("members") {
		if m := s.Record("members", j); m["id"] == owner["memberId"] {
			found = m["email"] == owner["email"] && m["firstName"].(string)+" "+m["lastName"].(string) == owner["name"]
			break
		}
	}
	if !found {
		t.Errorf("owner %v does not match its member record", owner)
	}
}

func TestRecordOutOfRange(t *testing.T) {
	s := New(Options{Records: 3})
	for _, tc := range []struct {
		res string
		i   int
	}{{"files", -1}, {"files", 3}, {"nope", 0}} {
		if s.Record(tc.res, tc.i) != nil || s.RecordJSON(tc.res, tc.i) != nil {
			t.Errorf("Record(%q, %d) should be nil", tc.res, tc.i)
		}
	}
	if s.Count("files") != 3 || s.Count("nope") != 0 || s.KeyField("nope") != "" {
		t.Error("Count/KeyField of unknown resource")
	}
}

func TestAppendTimeMatchesTimeFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []int64{0, 951782400000, 951868799999, 4102444799999, baseMs, baseMs + spanMs + yearMs}
	for range 10000 {
		cases = append(cases, r.Int64N(4102444800000))
	}
	for _, ms := range cases {
		want := `"` + time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00") + `"`
		if got := string(appendTime(nil, ms)); got != want {
			t.Fatalf("appendTime(%d) = %s, want %s", ms, got, want)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := []Options{
		{Flavor: "graphql"},
		{RecordsPer: map[string]int{"fils": 3}},
		{RecordsPer: map[string]int{"files": -1}},
		{FaultEvery: -1},
		{MaxFaultStreak: -1},
	}
	for _, o := range bad {
		if o.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", o)
		}
	}
	if err := (Options{Flavor: FlavorSigma, RecordsPer: map[string]int{"files": 0}}).Validate(); err != nil {
		t.Errorf("valid options: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("New with an unknown flavor did not panic")
		}
	}()
	New(Options{Flavor: "graphql"})
}
