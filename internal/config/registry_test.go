package config

import (
	"strings"
	"testing"

	"github.com/restload/restload/internal/response"
)

// TestPaginatorBuiltAtLoad: a paginator whose keys are valid but that
// cannot start is refused when the file loads, at the paginator's
// position, for the client's paginator (copied into each resource) and an
// endpoint's.
func TestPaginatorBuiltAtLoad(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"endpoint", `
source:
  client: {base_url: "http://127.0.0.1:1"}
  resources:
    - name: a
      endpoint:
        path: a
        paginator: {type: page_number, page: 5, maximum_page: 3}
`, "p.yaml:8:20: resource a: paginator: page_number: maximum_page 3 must be greater than the first page 5"},
		{"client", `
source:
  client:
    base_url: "http://127.0.0.1:1"
    paginator: {type: page_number, base_page: 2, maximum_page: 2}
  resources: [a]
`, "p.yaml:5:16: resource a: paginator: page_number: maximum_page 2 must be greater than the first page 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tc.src), LoadOptions{LookupEnv: env()})
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v\nwant %s", err, tc.want)
			}
		})
	}
}

// TestPaginatorKindsFromRegistry: every kind paginate registers is
// accepted by name and checked against its declared keys.
func TestPaginatorKindsFromRegistry(t *testing.T) {
	src := `
source:
  client: {base_url: "http://127.0.0.1:1"}
  resources:
    - name: a
      endpoint: {path: a, paginator: {type: json_link, cursor_path: x}}
`
	_, err := Parse("p.yaml", []byte(src), LoadOptions{LookupEnv: env()})
	want := "p.yaml:6:69: source.resources[0].endpoint.paginator.cursor_path: not used by json_link paginator (it takes next_url_path)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v\nwant %s", err, want)
	}
}

// TestDataTypeCase: a data_type is written as dlt spells it; "BIGINT" is
// refused at load (schema.ParseDataType, which the run uses, refuses it
// too).
func TestDataTypeCase(t *testing.T) {
	src := `
source:
  client: {base_url: "http://127.0.0.1:1"}
  resources:
    - name: a
      columns: {n: {data_type: BIGINT}}
`
	_, err := Parse("p.yaml", []byte(src), LoadOptions{LookupEnv: env()})
	want := `p.yaml:6:32: source.resources[0].columns.n.data_type: unknown data type "BIGINT" (did you mean "bigint"?)`
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}

// TestDataSelectorAsRun: a data_selector is checked by the package that
// runs it (response), so check accepts exactly what a run can select.
func TestDataSelectorAsRun(t *testing.T) {
	tests := []struct{ sel, want string }{
		{"items?x", `p.yaml:6:42: source.resources[0].endpoint.data_selector: invalid JSONPath "$.items?x"`},
		{"[0]", ""},
		{"$.data[", `p.yaml:6:42: source.resources[0].endpoint.data_selector: invalid JSONPath "$.data["`},
		{"data-v2.items", ""},
	}
	for _, tc := range tests {
		src := `
source:
  client: {base_url: "http://127.0.0.1:1"}
  resources:
    - name: a
      endpoint: {path: a, data_selector: "` + tc.sel + `"}
`
		_, err := Parse("p.yaml", []byte(src), LoadOptions{LookupEnv: env()})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.sel, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%s: error %v\nwant %s...", tc.sel, err, tc.want)
		}
		if got := response.Compile(tc.sel); (got == nil) != (tc.want == "") {
			t.Errorf("%s: response.Compile = %v, config said %v", tc.sel, got, err)
		}
	}
}
