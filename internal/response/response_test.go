package response

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func TestLookup(t *testing.T) {
	doc := `{"cursors":{"next":"abc"},"data":[{"id":1},{"id":2}],"nextPage":null,"next-page":"x","total":7}`
	tests := []struct {
		path  string
		want  any
		found bool
	}{
		{"cursors.next", "abc", true},
		{"$.cursors.next", "abc", true},
		{"total", json.Number("7"), true},
		{"data.1.id", json.Number("2"), true},
		{"data[1].id", json.Number("2"), true},
		{"$.data[*].id", json.Number("1"), true},
		{"nextPage", nil, true},
		{"next-page", "x", true},
		{"missing", nil, false},
		{"cursors.next.deeper", nil, false},
		{"data.9", nil, false},
		{"$[", nil, false},
	}
	d := decode(t, doc)
	for _, tt := range tests {
		got, found := Lookup(d, tt.path)
		if found != tt.found || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Lookup(%q) = %#v, %v; want %#v, %v", tt.path, got, found, tt.want, tt.found)
		}
	}
	if got, ok := Lookup(d, "$"); !ok || !reflect.DeepEqual(got, d) {
		t.Errorf("Lookup($) is not the document")
	}
}

func TestSelect(t *testing.T) {
	tests := []struct {
		name, doc, selector string
		want                int
		wantErr             bool
	}{
		{"list at key", `{"entries":[{"id":1},{"id":2}]}`, "entries", 2, false},
		{"root list", `[1,2,3]`, "$", 3, false},
		{"object is one record", `{"user":{"id":1}}`, "user", 1, false},
		{"null is none", `{"entries":null}`, "entries", 0, false},
		{"missing is none", `{"other":[1]}`, "entries", 0, false},
		{"empty selector", `{"id":1}`, "", 1, false},
		{"wildcard matches", `{"groups":[{"items":[1,2]},{"items":[3]}]}`, "$.groups[*].items[*]", 3, false},
		{"nested dotted", `{"data":{"items":[1,2]}}`, "data.items", 2, false},
		{"bad path", `{}`, "$[", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(decode(t, tt.doc), tt.selector)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if len(got) != tt.want {
				t.Errorf("got %d records %v, want %d", len(got), got, tt.want)
			}
		})
	}
}

func TestDetectSelector(t *testing.T) {
	tests := []struct {
		name, doc, want string
		found           bool
	}{
		{"root list", `[{"id":1}]`, "$", true},
		{"conventional key", `{"total":2,"entries":[{"id":1}],"tags":["a"]}`, "entries", true},
		{"data before items", `{"items":[1],"data":[2]}`, "data", true},
		{"conventional nested", `{"data":{"results":[1]},"aaa":[1]}`, "data.results", true},
		{"first list", `{"meta":{"x":1},"things":[1]}`, "things", true},
		{"list two levels down", `{"a":{"b":{"c":[1]}}}`, "a.b.c", true},
		{"too deep", `{"a":{"b":{"c":{"d":[1]}}}}`, "$", false},
		{"no list", `{"id":1,"name":"x"}`, "$", false},
		{"odd key", `{"x":{"a.b":[1]}}`, "$['x']['a.b']", true},
		{"scalar", `3`, "$", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decode(t, tt.doc)
			got, found := DetectSelector(d)
			if got != tt.want || found != tt.found {
				t.Fatalf("DetectSelector = %q, %v; want %q, %v", got, found, tt.want, tt.found)
			}
			if found {
				recs, err := Select(d, got)
				if err != nil || len(recs) == 0 {
					t.Errorf("detected selector %q selects %v, %v", got, recs, err)
				}
			}
		})
	}
}

func TestCompile(t *testing.T) {
	for _, p := range []string{"", "$", "a.b", "$.a[*]", "a[0].b"} {
		if err := Compile(p); err != nil {
			t.Errorf("Compile(%q) = %v", p, err)
		}
	}
	if err := Compile("$.a["); err == nil {
		t.Error("Compile of a broken path succeeded")
	}
}

// FuzzSelect runs the data selector functions on any JSON document and
// selector: none may panic or hang.
func FuzzSelect(f *testing.F) {
	for _, seed := range []struct{ doc, sel string }{
		{`{"data":[{"id":1}]}`, "data"},
		{`{"a":{"b":[1,2,{"c":3}]}}`, "a.b"},
		{`{"a":{"b":[1,2,{"c":3}]}}`, "$.a.b[*].c"},
		{`{"items":[{"x":[1]}],"next":"n"}`, "$..x"},
		{`[1,2,3]`, "$[0:2]"},
		{`{"results":{"data":[1]}}`, "results.data"},
		{`{"a":[{"b":1},{"b":2}]}`, "$.a[?(@.b > 1)]"},
		{`{"a.b":1}`, "['a.b']"},
		{`null`, "$"},
		{`{"x":1}`, "$["},
	} {
		f.Add([]byte(seed.doc), seed.sel)
	}
	f.Fuzz(func(t *testing.T, in []byte, sel string) {
		doc, err := Decode(in)
		if err != nil {
			return
		}
		DetectSelector(doc)
		Lookup(doc, sel)
		if Compile(sel) != nil {
			return
		}
		if _, err := Select(doc, sel); err != nil {
			t.Fatalf("Select(%q) failed on a selector Compile accepted: %v", sel, err)
		}
	})
}

// TestDescribeInOrder: the keys are named in the order the body has them
// (each once), lists with their length; a body that cannot be read so
// falls back to sorted keys; at most 20 keys are named.
func TestDescribeInOrder(t *testing.T) {
	cases := []struct{ raw, want string }{
		{`{"entries":[1,2],"total":2,"hasMore":false,"nextPage":null}`, "the response has entries (list of 2), total, hasMore, nextPage"},
		{"\xef\xbb\xbf" + `{"b":{"x":[{"y":[]}]},"a":1,"b":2}`, "the response has b, a; no list found"},
		{`{"z":1,"a":{"rows":[1]}}`, "the response has z, a; the first list is at a.rows (list of 1)"},
		{`[1,2,3]`, `the response is a list of 3 (data_selector "$")`},
	}
	for _, c := range cases {
		doc, err := Decode([]byte(c.raw))
		if err != nil {
			t.Fatal(err)
		}
		if got := DescribeInOrder(doc, []byte(c.raw)); got != c.want {
			t.Errorf("DescribeInOrder(%s) = %q, want %q", c.raw, got, c.want)
		}
	}
	var b strings.Builder
	b.WriteString("{")
	for i := range 25 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%02d":%d`, 24-i, i)
	}
	b.WriteString("}")
	doc, _ := Decode([]byte(b.String()))
	if got := DescribeInOrder(doc, []byte("not json")); !strings.HasPrefix(got, "the response has k00, k01,") || !strings.HasSuffix(got, "k19, and 5 more; no list found") {
		t.Errorf("sorted fallback, bounded: %q", got)
	}
}
