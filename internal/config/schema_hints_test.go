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
		`p.yaml:9:28: source.resources[0].columns.other.data_type: unknown data type "strng" (want one of bigint, binary, bool, date, decimal, double, json, text, time, timestamp)`,
		`p.yaml:13:50: source.resources[1].schema_contract.columns: unknown schema contract mode "discard_valeu" (did you mean "discard_value"?)`,
		`p.yaml:13:76: source.resources[1].schema_contract.data_type: unknown schema contract mode "fre" (want one of evolve, freeze, discard_row, discard_value)`,
		`p.yaml:16:24: source.resources[2].columns.y.data_type: data type "wei" is not supported (want one of bigint, binary, bool, date, decimal, double, json, text, time, timestamp)`,
		`p.yaml:17:24: source.resources[2].columns.z.data_type: unknown data type "Boolean" (did you mean "bool"?)`,
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

// TestReferenceErrors: a references entry is checked as dlt checks it (a
// referenced table, as many columns as referenced columns, a known
// cardinality), all problems at once, each at its place.
func TestReferenceErrors(t *testing.T) {
	const src = `pipeline: {name: t, dataset: t}
source:
  client: {base_url: "http://127.0.0.1:1/"}
  resources:
    - name: a
      references:
        - {columns: [ownerId], referenced_table: members, referenced_columns: [id]}
        - {columns: [x, y], referenced_columns: [id]}
        - {columns: [x], referenced_table: b, referenced_columns: [id], cardinality: one_to_mny}
        - {table: other, columns: [x], referenced_table: b, referenced_columns: [id]}
`
	_, err := Parse("p.yaml", []byte(src), LoadOptions{})
	want := []string{
		`p.yaml:8:11: source.resources[0].references[1]: referenced_table must be set`,
		`p.yaml:8:11: source.resources[0].references[1]: columns and referenced_columns must have the same length (2 and 1)`,
		`p.yaml:9:86: source.resources[0].references[2].cardinality: unknown cardinality "one_to_mny" (did you mean "one_to_many"?)`,
		`p.yaml:10:19: source.resources[0].references[3].table: a resource's reference is from its own table "a", not "other"`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("errors:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}
