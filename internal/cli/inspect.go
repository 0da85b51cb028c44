package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/schema"
)

func checkCmd(g *globals) *cobra.Command {
	var secrets string
	c := &cobra.Command{
		Use:   "check PIPELINE",
		Short: "Validate a pipeline file without touching the network",
		Long: `check reads the pipeline file strictly, resolves its secrets and placeholders,
and prints its resources in the order they run. It exits 0, or 2 with every
problem listed as file:line:col: field: message.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := loadPipeline(args[0], secrets)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s: ok\npipeline %s, dataset %s, destination %s\n", args[0], p.Pipeline.Name, p.Pipeline.Dataset, destination.Redact(p.DestinationURL("")))
			tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "RESOURCE\tMETHOD\tPATH\tPAGINATOR\tDISPOSITION\tPRIMARY KEY")
			for i := range p.Source.Resources {
				r := &p.Source.Resources[i]
				pag := "auto"
				if r.Endpoint.Paginator != nil {
					pag = r.Endpoint.Paginator.Type
				} else if p.Source.Client.Paginator != nil {
					pag = p.Source.Client.Paginator.Type
				}
				disp := "append"
				if r.WriteDisposition != nil {
					disp = r.WriteDisposition.Disposition
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Endpoint.Method, r.Endpoint.Path, pag, disp, strings.Join(r.PrimaryKey, ","))
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&secrets, "secrets", "", "TOML secrets file")
	return c
}

// destFlags picks the destination and dataset from --dest/--dataset or from
// a pipeline file given as the argument.
type destFlags struct {
	dest, dataset, secrets string
}

func (f *destFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.dest, "dest", "", "destination URL (default: the pipeline file's)")
	c.Flags().StringVar(&f.dataset, "dataset", "", "dataset (default: the pipeline file's)")
	c.Flags().StringVar(&f.secrets, "secrets", "", "TOML secrets file")
}

func (f *destFlags) open(cmd *cobra.Command, args []string) (destination.Destination, *config.Pipeline, error) {
	var p *config.Pipeline
	if len(args) == 1 {
		var err error
		if p, err = loadPipeline(args[0], f.secrets); err != nil {
			return nil, nil, err
		}
	}
	url, dataset := f.dest, f.dataset
	if p != nil {
		url = p.DestinationURL(f.dest)
		if dataset == "" {
			dataset = p.Pipeline.Dataset
		}
	}
	if url == "" {
		return nil, nil, usageError{fmt.Errorf("give a pipeline file or --dest")}
	}
	if dataset == "" {
		dataset = guessDataset(url)
	}
	d, err := destination.Open(cmd.Context(), url, dataset)
	return d, p, err
}

// guessDataset is used when only --dest is given: the demo's and the
// examples' dataset.
func guessDataset(string) string { return "analytics" }

func infoCmd(g *globals) *cobra.Command {
	var f destFlags
	var asJSON bool
	c := &cobra.Command{
		Use:   "info [PIPELINE]",
		Short: "Show the loads, row counts and state kept in a destination",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, _, err := f.open(cmd, args)
			if err != nil {
				return err
			}
			defer d.Close()
			ctx := cmd.Context()
			loads, err := load.Loads(ctx, d)
			if err != nil {
				return err
			}
			sch, err := load.StoredSchema(ctx, d)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(g.stdout).Encode(map[string]any{"loads": loads, "schema": sch})
			}
			if len(loads) == 0 {
				fmt.Fprintln(g.stdout, "no loads in this destination yet")
				return nil
			}
			printLoads(g.stdout, loads)
			if sch != nil {
				fmt.Fprintf(g.stdout, "\nschema version %d, %d tables\n", sch.Version, len(sch.Tables))
				counts, err := tableCounts(cmd, d, sch)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "TABLE\tROWS\tPARENT")
				for _, t := range sch.Tables {
					fmt.Fprintf(tw, "%s\t%d\t%s\n", t.Name, counts[t.Name], t.Parent)
				}
				tw.Flush()
			}
			return nil
		},
	}
	f.register(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func printLoads(w io.Writer, loads []load.LoadInfo) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LOAD ID\tPIPELINE\tSTATUS\tSTARTED\tSECONDS\tSCHEMA\tROWS")
	for _, l := range loads {
		var total int64
		for _, n := range l.Rows {
			total += n
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f\tv%d\t%d\n", l.LoadID, l.Pipeline, l.Status,
			l.StartedAt.Format("2006-01-02 15:04:05Z07:00"), l.FinishedAt.Sub(l.StartedAt).Seconds(), l.SchemaVersion, total)
	}
	tw.Flush()
}

// tableCounts counts the rows of each table by reading it (destinations
// expose no COUNT; tables shown by info are the user's own, so this is
// bounded by what they loaded).
func tableCounts(cmd *cobra.Command, d destination.Destination, s *schema.Schema) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range s.Tables {
		var n int64
		err := d.Read(cmd.Context(), t.Name, func(map[string]any) error { n++; return nil })
		if err != nil {
			return nil, err
		}
		out[t.Name] = n
	}
	return out, nil
}

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

// Version is set at build time with -ldflags "-X .../cli.Version=...".
var Version = "dev"

func versionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print restload's version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintf(g.stdout, "restload %s\n", Version)
		},
	}
}
