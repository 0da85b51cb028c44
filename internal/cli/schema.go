package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/restload/restload/internal/load"
	"github.com/spf13/cobra"
)

func schemaCmd(g *globals) *cobra.Command {
	var f destFlags
	var format string
	c := &cobra.Command{
		Use:   "schema [PIPELINE]",
		Short: "Print the stored schema: tables, parent links, columns, types, keys and versions",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, _, err := f.open(cmd, args)
			if err != nil {
				return err
			}
			defer d.Close()
			vs, err := load.Versions(cmd.Context(), d)
			if err != nil {
				return err
			}
			if len(vs) == 0 {
				return fmt.Errorf("no schema stored in this destination yet: run a load first")
			}
			cur := vs[len(vs)-1].Schema
			switch format {
			case "json":
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"schema": cur, "versions": vs})
			case "text", "":
			default:
				return usageError{fmt.Errorf("--format %q: want text or json", format)}
			}
			for _, t := range cur.Tables {
				parent := ""
				if t.Parent != "" {
					parent = " (child of " + t.Parent + ")"
				}
				fmt.Fprintf(g.stdout, "%s%s [%s, resource %s]\n", t.Name, parent, t.WriteDisposition, t.Resource)
				tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
				for _, c := range t.Columns {
					var flags []string
					if c.PrimaryKey {
						flags = append(flags, "primary key")
					}
					if !c.Nullable {
						flags = append(flags, "not null")
					}
					if c.VariantOf != "" {
						flags = append(flags, "variant of "+c.VariantOf)
					}
					fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Name, c.Type, strings.Join(flags, ", "))
				}
				tw.Flush()
			}
			fmt.Fprintln(g.stdout, "\nversions:")
			sort.Slice(vs, func(i, j int) bool { return vs[i].Version < vs[j].Version })
			for _, v := range vs {
				fmt.Fprintf(g.stdout, "  v%d  load %s  %s  %d change(s)\n", v.Version, v.LoadID, v.InsertedAt.Format("2006-01-02 15:04:05Z07:00"), len(v.Changes))
			}
			return nil
		},
	}
	f.register(c)
	c.Flags().StringVar(&format, "format", "text", "text or json")
	return c
}
