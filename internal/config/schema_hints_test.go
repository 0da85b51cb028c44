package config

import (
	"errors"
	"strings"
	"testing"
)

// TestSchemaHintErrors checks that column hints and schema contracts are
// validated with a position and a suggestion, all problems at once.
func TestSchemaHintErrors(t *testing.T) {
	const src = `pipeline: {name: t, dataset: t}
source:
  client: {base_url: "http://127.0.0.1:1/"}
  resources:
    - name: a
      schema_contract: frezee
      columns:
        sizeBytes: {data_type: integer}
        other: {data_type: strng}
        ok: {data_type: complex}
        fine: {data_type: timestamp, nullable: false}
    - name: b
      schema_contract: {tables: evolve, columns: discard_valeu, data_type: fre}
    - name: c
      columns:
        y: {data_type: wei}
        z: {data_type: Boolean}
`
	_, err := Parse("p.yaml", []byte(src), LoadOptions{})
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Parse: %v, want config.Errors", err)
	}
	want := []string{
		`p.yaml:6:24: source.resources[0].schema_contract: unknown schema contract mode "frezee" (did you mean "freeze"?)`,
		`p.yaml:8:32: source.resources[0].columns.sizeBytes.data_type: unknown data type "integer" (did you mean "bigint"?)`,
		`p.yaml:9:28: source.resources[0].columns.other.data_type: unknown data type "strng" (want one of bigint, bool, date, decimal, double, json, text, timestamp)`,
		`p.yaml:13:50: source.resources[1].schema_contract.columns: unknown schema contract mode "discard_valeu" (did you mean "discard_value"?)`,
		`p.yaml:13:76: source.resources[1].schema_contract.data_type: unknown schema contract mode "fre" (want one of evolve, freeze, discard_row, discard_value)`,
		`p.yaml:16:24: source.resources[2].columns.y.data_type: data type "wei" is not supported (want one of bigint, bool, date, decimal, double, json, text, timestamp)`,
		`p.yaml:17:24: source.resources[2].columns.z.data_type: unknown data type "Boolean" (did you mean "bool"?)`,
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}
