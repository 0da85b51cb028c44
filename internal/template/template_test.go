package template

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestParseAndRender(t *testing.T) {
	b := Bindings{"resources.a.id": "7", "id": "x", "resources.a.$.tags[0]": "t"}
	tests := []struct {
		in    string
		names []string
		want  string
		err   string
	}{
		{"plain", nil, "plain", ""},
		{"", nil, "", ""},
		{"a/{resources.a.id}/b", []string{"resources.a.id"}, "a/7/b", ""},
		{"{{literal}} {id}", []string{"id"}, "{literal} x", ""},
		{"{{{id}}}", []string{"id"}, "{x}", ""},
		{"query { users { id } }", nil, "query { users { id } }", ""},
		{`{"json": 1}`, nil, `{"json": 1}`, ""},
		{"{resources.a.b c}", nil, "{resources.a.b c}", ""},
		{"{resources.a.$.tags[0]}", []string{"resources.a.$.tags[0]"}, "t", ""},
		{"a/{nope}/{id}", []string{"nope", "id"}, "", "placeholder {nope} has no value"},
	}
	for _, tc := range tests {
		tpl := Parse(tc.in)
		if got := tpl.Names(); !slices.Equal(got, tc.names) {
			t.Errorf("Parse(%q).Names() = %q, want %q", tc.in, got, tc.names)
		}
		if tpl.String() != tc.in {
			t.Errorf("Parse(%q).String() = %q", tc.in, tpl.String())
		}
		got, err := tpl.Render(b, nil)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Render(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Render(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParentRef(t *testing.T) {
	tests := []struct {
		name     string
		ok       bool
		res, fld string
		err      string
	}{
		{"id", false, "", "", ""},
		{"resources.issues.id", true, "issues", "id", ""},
		{"resources.issues.$.a.b", true, "issues", "$.a.b", ""},
		{"resources.issues", true, "", "", "malformed reference {resources.issues}: want {resources.<name>.<field>}"},
		{"resources..id", true, "", "", "malformed reference"},
	}
	for _, tc := range tests {
		ref, ok, err := ParentRef(tc.name)
		if ok != tc.ok || ref.Resource != tc.res || ref.Field != tc.fld {
			t.Errorf("ParentRef(%q) = %+v, %v", tc.name, ref, ok)
		}
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParentRef(%q) error %v, want %q", tc.name, err, tc.err)
		}
	}
}

// TestValue: keys and strings of a JSON value are templates; other values
// pass through; keys are visited at their object's path.
func TestValue(t *testing.T) {
	var x any
	if err := json.Unmarshal([]byte(`{"k_{id}": ["{resources.a.id}", 1, true, null], "n": {"{{x}}": {}}, "e": []}`), &x); err != nil {
		t.Fatal(err)
	}
	v := ParseValue(x)
	if got, want := v.Names(), []string{"id", "resources.a.id"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	out, err := v.Render(Bindings{"id": "1", "resources.a.id": "7"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(out)
	if want := `{"e":[],"k_1":["7",1,true,null],"n":{"{x}":{}}}`; string(raw) != want {
		t.Errorf("Render = %s, want %s", raw, want)
	}
	var paths []string
	v.Visit("$", func(p string, i int) string { return p + "[" + string(rune('0'+i)) + "]" },
		func(p, k string) string { return p + "." + k },
		func(p string, tt Template) { paths = append(paths, p+"="+tt.String()) })
	want := []string{"$=e", "$=k_{id}", "$.k_{id}[0]={resources.a.id}", "$=n", "$.n={{x}}"}
	if !slices.Equal(paths, want) {
		t.Errorf("Visit paths %q, want %q", paths, want)
	}
	if _, err := v.Render(Bindings{"id": "1"}); err == nil || !strings.Contains(err.Error(), "{resources.a.id} has no value") {
		t.Errorf("Render without a binding: %v", err)
	}
}
