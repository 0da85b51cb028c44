package steps

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/restload/restload/internal/config"
)

func compile(t *testing.T, ss ...config.ProcessingStep) Steps {
	t.Helper()
	p, err := config.Parse("p.yaml", []byte("client: {base_url: 'http://x'}\nresources: [a]\n"), config.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	r := &p.Source.Resources[0]
	r.ProcessingSteps = ss
	s, err := Compile(p, r, "resources[0]")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestApply(t *testing.T) {
	tests := []struct {
		name  string
		steps []config.ProcessingStep
		in    string
		want  string // "" means dropped
	}{
		{"filter keeps", []config.ProcessingStep{{Filter: "amount > 10 && status != 'archived'"}}, `{"amount": 11, "status": "ok"}`, `{"amount": 11, "status": "ok"}`},
		{"filter on a decimal", []config.ProcessingStep{{Filter: "amount > 10"}}, `{"amount": 10.5}`, `{"amount": 10.5}`},
		{"filter on missing field", []config.ProcessingStep{{Filter: "missing == nil"}}, `{"a": 1}`, `{"a": 1}`},
		{"filter false drops", []config.ProcessingStep{{Filter: "a == 2"}}, `{"a": 1}`, ``},
		{"map sets, replaces and removes", []config.ProcessingStep{{Map: `{"total": price * qty, "qty": nil, "name": upper(name)}`}},
			`{"price": 2, "qty": 3, "name": "x"}`, `{"price": 2, "total": 6, "name": "X"}`},
		{"record for odd names and nesting", []config.ProcessingStep{{Map: `{"uid": record["user-id"], "city": address.city}`}},
			`{"user-id": 7, "address": {"city": "Oslo"}}`, `{"user-id": 7, "address": {"city": "Oslo"}, "uid": 7, "city": "Oslo"}`},
		{"in order", []config.ProcessingStep{{Map: `{"n": n + 1}`}, {Filter: "n == 2"}}, `{"n": 1}`, `{"n": 2}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(tc.in))
			dec.UseNumber()
			var rec map[string]any
			_ = dec.Decode(&rec)
			got, err := compile(t, tc.steps...).Apply(rec)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if got != nil {
					t.Errorf("kept %v, want dropped", got)
				}
				return
			}
			var want map[string]any
			_ = json.Unmarshal([]byte(tc.want), &want)
			gb, _ := json.Marshal(got)
			var gotPlain map[string]any
			_ = json.Unmarshal(gb, &gotPlain)
			if !reflect.DeepEqual(gotPlain, want) {
				t.Errorf("got %s, want %s", gb, tc.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	src := "client: {base_url: 'http://x'}\nresources:\n  - name: a\n    processing_steps:\n      - filter: 'a >'\n      - map: '{'\n"
	p, err := config.Parse("p.yaml", []byte(src), config.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = CompileAll(p)
	for _, want := range []string{"p.yaml:5:17: resources[0].processing_steps[0].filter: invalid filter expression", "p.yaml:6:14: resources[0].processing_steps[1].map: invalid map expression"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nwant it to contain %s", err, want)
		}
	}
}
