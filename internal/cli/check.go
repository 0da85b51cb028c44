package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/restload/restload/internal/destination"
	"github.com/spf13/cobra"
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
