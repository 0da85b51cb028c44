package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/schema"
)

func schemaCmd(g *globals) *cobra.Command {
	var f destFlags
	var format string
	c := &cobra.Command{
		Use:   "schema [PIPELINE]",
		Short: "Print the stored schema: tables, parent links, columns, types, keys and versions",
		Long: `Print the schema stored in the destination: each table with its parent
table, resource, write disposition, keys and columns (type, nullability,
variant columns), then every schema version with the load that made it and
what it changed. --format json and yaml print the same as a document.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "text", "json", "yaml":
			default:
				return usageError{fmt.Errorf("--format %q: want text, json or yaml", format)}
			}
			d, p, err := f.open(cmd, args)
			if err != nil {
				return err
			}
			defer d.Close()
			_, dataset, err := f.target(cmd, p)
			if err != nil {
				return err
			}
			vs, err := load.Versions(cmd.Context(), d)
			if err != nil {
				return err
			}
			if len(vs) == 0 {
				return fmt.Errorf("no schema stored in this destination yet: run a load first")
			}
			doc := newSchemaDoc(dataset, vs)
			switch format {
			case "json":
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(doc)
			case "yaml":
				return writeYAML(g.stdout, doc)
			}
			return writeSchemaText(g.stdout, doc)
		},
	}
	f.register(c)
	c.Flags().StringVar(&format, "format", "text", "text, json or yaml")
	return c
}

// schemaDoc is what `restload schema` prints: the newest stored schema and
// the history of versions that led to it.
type schemaDoc struct {
	Dataset string `json:"dataset"`
	// Schema is the stored schema's name (dlt's schema_name).
	Schema   string          `json:"schema"`
	Version  int             `json:"version"`
	Tables   []*schema.Table `json:"tables"`
	Versions []versionDoc    `json:"versions"`
}

// versionDoc is one stored schema version and what it changed.
type versionDoc struct {
	Version    int         `json:"version"`
	LoadID     string      `json:"load_id"`
	InsertedAt time.Time   `json:"inserted_at"`
	Hash       string      `json:"hash"`
	Changes    []changeDoc `json:"changes"`
}

// changeDoc is one schema change, named rather than repeated in full.
type changeDoc struct {
	Kind   schema.ChangeKind `json:"kind"`
	Table  string            `json:"table"`
	Parent string            `json:"parent,omitempty"`
	// Columns lists a new table's columns; Column, DataType and VariantOf
	// describe an added column.
	Columns   []string        `json:"columns,omitempty"`
	Column    string          `json:"column,omitempty"`
	DataType  schema.DataType `json:"data_type,omitempty"`
	VariantOf string          `json:"variant_of,omitempty"`
}

func newSchemaDoc(dataset string, vs []load.Version) schemaDoc {
	vs = append([]load.Version(nil), vs...)
	sort.Slice(vs, func(i, j int) bool { return vs[i].Version < vs[j].Version })
	cur := vs[len(vs)-1]
	doc := schemaDoc{Dataset: dataset, Schema: cur.Schema.Name, Version: cur.Version, Tables: cur.Schema.Tables}
	if doc.Tables == nil {
		doc.Tables = []*schema.Table{}
	}
	for _, v := range vs {
		vd := versionDoc{Version: v.Version, LoadID: v.LoadID, InsertedAt: v.InsertedAt.UTC(), Hash: v.Hash, Changes: []changeDoc{}}
		for _, c := range v.Changes {
			if c.Table == nil {
				continue
			}
			cd := changeDoc{Kind: c.Kind, Table: c.Table.Name}
			if c.Kind == schema.AddTable {
				cd.Parent = c.Table.Parent
				for _, col := range c.Table.Columns {
					cd.Columns = append(cd.Columns, col.Name)
				}
			} else if c.Column != nil {
				cd.Column, cd.DataType, cd.VariantOf = c.Column.Name, c.Column.Type, c.Column.VariantOf
			}
			vd.Changes = append(vd.Changes, cd)
		}
		doc.Versions = append(doc.Versions, vd)
	}
	return doc
}

// writeYAML prints v as block-style YAML with the keys in the order the
// JSON form has them (yaml.v3 would sort a map's keys): v is encoded to
// JSON, read back as a YAML node tree (JSON is YAML), and re-styled.
func writeYAML(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("yaml: %w", err)
	}
	var restyle func(*yaml.Node)
	restyle = func(n *yaml.Node) {
		n.Style = 0
		for _, c := range n.Content {
			restyle(c)
		}
	}
	restyle(&n)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return fmt.Errorf("yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("yaml: %w", err)
	}
	_, err = w.Write(out.Bytes())
	return err
}

func writeSchemaText(w io.Writer, doc schemaDoc) error {
	fmt.Fprintf(w, "dataset %s, schema version %d\n", doc.Dataset, doc.Version)
	for _, t := range doc.Tables {
		fmt.Fprintf(w, "\n%s", t.Name)
		if t.Parent != "" {
			fmt.Fprintf(w, " (child of %s)", t.Parent)
		}
		fmt.Fprintf(w, " [resource %s, %s", t.Resource, t.WriteDisposition)
		if pk := t.PrimaryKey(); len(pk) > 0 {
			fmt.Fprintf(w, ", primary key %s", strings.Join(pk, ", "))
		}
		fmt.Fprintln(w, "]")
		var buf bytes.Buffer
		tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
		for _, c := range t.Columns {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Name, columnType(c), strings.Join(columnFlags(c), ", "))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		// The padding of the type column trails on lines without flags.
		for _, line := range strings.SplitAfter(buf.String(), "\n") {
			if line != "" {
				fmt.Fprintln(w, strings.TrimRight(line, " \n"))
			}
		}
	}
	fmt.Fprintln(w, "\nversions:")
	for _, v := range doc.Versions {
		fmt.Fprintf(w, "  v%d  load %s  %s\n", v.Version, v.LoadID, v.InsertedAt.Format("2006-01-02 15:04:05Z07:00"))
		if len(v.Changes) == 0 {
			fmt.Fprintln(w, "      (no changes)")
		}
		for _, c := range v.Changes {
			if c.Kind == schema.AddTable {
				parent := ""
				if c.Parent != "" {
					parent = ", child of " + c.Parent
				}
				fmt.Fprintf(w, "      + table %s (%d columns%s)\n", c.Table, len(c.Columns), parent)
				continue
			}
			variant := ""
			if c.VariantOf != "" {
				variant = ", variant of " + c.VariantOf
			}
			fmt.Fprintf(w, "      + column %s.%s %s%s\n", c.Table, c.Column, c.DataType, variant)
		}
	}
	return nil
}

func columnType(c *schema.Column) string {
	switch {
	case c.Type == schema.Decimal && c.Precision != nil:
		return fmt.Sprintf("decimal(%d,%d)", *c.Precision, schema.IntOf(c.Scale, 9))
	case c.Precision != nil:
		return fmt.Sprintf("%s(%d)", c.Type, *c.Precision)
	}
	return string(c.Type)
}

func columnFlags(c *schema.Column) []string {
	var flags []string
	if c.PrimaryKey {
		flags = append(flags, "primary key")
	}
	if c.MergeKey {
		flags = append(flags, "merge key")
	}
	if !c.Nullable && !c.PrimaryKey && !c.System {
		flags = append(flags, "not null")
	}
	if c.Unique && !c.System {
		flags = append(flags, "unique")
	}
	if c.Timezone != nil && !*c.Timezone {
		flags = append(flags, "without time zone")
	}
	if c.VariantOf != "" {
		flags = append(flags, "variant of "+c.VariantOf)
	}
	// Said only of a column renamed on a collision: every column whose
	// name normalizing changed records its source (fooBar for foo_bar).
	if c.Source != "" && c.VariantOf == "" && c.Name != schema.ColumnPath(strings.Split(c.Source, ".")...) {
		flags = append(flags, "from "+c.Source)
	}
	return flags
}
