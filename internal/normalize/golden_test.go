package normalize

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// goldenSpec is spec.json: a Spec in config-like form, plus records to
// normalize first (with an evolving contract and another load id) to build
// the schema a later run starts from.
type goldenSpec struct {
	Resource         string                `json:"resource"`
	Table            string                `json:"table"`
	WriteDisposition string                `json:"write_disposition"`
	PrimaryKey       []string              `json:"primary_key"`
	MergeKey         []string              `json:"merge_key"`
	Hints            map[string]goldenHint `json:"hints"`
	MaxNesting       *int                  `json:"max_table_nesting"`
	Contract         struct {
		Tables   Mode `json:"tables"`
		Columns  Mode `json:"columns"`
		DataType Mode `json:"data_type"`
	} `json:"schema_contract"`
	PriorRecords []map[string]any `json:"prior_records"`
}

type goldenHint struct {
	DataType   string `json:"data_type"`
	Nullable   *bool  `json:"nullable"`
	PrimaryKey bool   `json:"primary_key"`
	Precision  *int   `json:"precision"`
	Scale      *int   `json:"scale"`
}

func (g goldenSpec) spec() Spec {
	s := Spec{
		Resource: g.Resource, Table: g.Table, WriteDisposition: g.WriteDisposition,
		PrimaryKey: g.PrimaryKey, MergeKey: g.MergeKey, MaxNesting: g.MaxNesting,
		Contract: Contract{Tables: g.Contract.Tables, Columns: g.Contract.Columns, DataType: g.Contract.DataType},
	}
	if len(g.Hints) > 0 {
		s.Hints = map[string]schema.Hint{}
		for k, h := range g.Hints {
			s.Hints[k] = schema.Hint{DataType: schema.DataType(h.DataType), Nullable: h.Nullable, PrimaryKey: h.PrimaryKey, Precision: h.Precision, Scale: h.Scale}
		}
	}
	return s
}

// goldenRow is one emitted row in rows.json: the table and the values by
// column name as they were at emit time. Values are rendered so their Go
// type shows: float64 always with a point or exponent, time.Time as
// "time:<RFC 3339>", int64 as a plain number, strings as strings.
type goldenRow struct {
	Table  string          `json:"table"`
	Values json.RawMessage `json:"values"`
}

type goldenOut struct {
	Rows   []goldenRow `json:"rows"`
	Error  string      `json:"error,omitempty"`
	Counts Counts      `json:"counts"`
	Warn   []string    `json:"warnings,omitempty"`
}

func renderRow(t *testing.T, cols []*schema.Column, row []any) json.RawMessage {
	t.Helper()
	if len(row) != len(cols) {
		t.Fatalf("row of %d values for %d columns", len(row), len(cols))
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range cols {
		if row[i] == nil {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c.Name)
		b.Write(k)
		b.WriteByte(':')
		switch v := row[i].(type) {
		case float64:
			s := strconv.FormatFloat(v, 'g', -1, 64)
			if !strings.ContainsAny(s, ".eE") {
				s += ".0"
			}
			b.WriteString(s)
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case time.Time:
			s, _ := json.Marshal("time:" + v.Format(time.RFC3339Nano))
			b.Write(s)
		case string, bool:
			s, _ := json.Marshal(v)
			b.Write(s)
		default:
			t.Fatalf("column %q: value %#v of type %T is not a row value", c.Name, v, v)
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

func decodeRecords(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var recs []map[string]any
	if err := dec.Decode(&recs); err != nil {
		t.Fatalf("decode records: %v", err)
	}
	return recs
}

func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, dir := range dirs {
		if filepath.Base(dir) == "fuzz" {
			continue // FuzzNormalize's corpus
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			specData, err := os.ReadFile(filepath.Join(dir, "spec.json"))
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(specData))
			dec.UseNumber()
			dec.DisallowUnknownFields()
			var gs goldenSpec
			if err := dec.Decode(&gs); err != nil {
				t.Fatalf("spec.json: %v", err)
			}
			input, err := os.ReadFile(filepath.Join(dir, "input.json"))
			if err != nil {
				t.Fatal(err)
			}
			s := &schema.Schema{Name: "golden"}
			if len(gs.PriorRecords) > 0 {
				prior := gs.spec()
				prior.Contract = Contract{}
				pn, err := New(s, prior, "prior-load")
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range gs.PriorRecords {
					if err := pn.Normalize(r, func(*schema.Table, []any) error { return nil }); err != nil {
						t.Fatalf("prior record: %v", err)
					}
				}
			}
			n, err := New(s, gs.spec(), "load-1")
			if err != nil {
				t.Fatal(err)
			}
			var out goldenOut
			for _, rec := range decodeRecords(t, input) {
				err := n.Normalize(rec, func(tb *schema.Table, row []any) error {
					out.Rows = append(out.Rows, goldenRow{Table: tb.Name, Values: renderRow(t, tb.Columns, row)})
					return nil
				})
				if err != nil {
					out.Error = err.Error()
					break
				}
			}
			out.Counts = n.Counts()
			out.Warn = n.Warnings()
			if err := s.Validate(); err != nil {
				t.Errorf("schema is invalid: %v", err)
			}
			schemaJSON, err := json.MarshalIndent(s, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			rowsJSON, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join(dir, "schema.json"), append(schemaJSON, '\n'))
			compareGolden(t, filepath.Join(dir, "rows.json"), append(rowsJSON, '\n'))
		})
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test -update and review the diff):\n--- got\n%s", path, got)
	}
}
