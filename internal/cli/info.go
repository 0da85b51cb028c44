package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/restload/restload/internal/auth"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/load"
	"github.com/restload/restload/internal/schema"
	"github.com/spf13/cobra"
)

func infoCmd(g *globals) *cobra.Command {
	var f destFlags
	var asJSON bool
	var tokenStore string
	c := &cobra.Command{
		Use:   "info [PIPELINE]",
		Short: "Show the loads, row counts and state kept in a destination",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, p, err := f.open(cmd, args)
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
			state, err := load.States(ctx, d)
			if err != nil {
				return err
			}
			counts := map[string]int64{}
			if sch != nil {
				if counts, err = tableCounts(cmd, d, sch); err != nil {
					return err
				}
			}
			var tokens []auth.TokenInfo
			if p != nil {
				if tokens, err = auth.Info(auth.StoreDir(p.File, p.Pipeline.TokenStore, tokenStore), p.Pipeline.Name); err != nil {
					return err
				}
			}
			if asJSON {
				return json.NewEncoder(g.stdout).Encode(map[string]any{"loads": loads, "schema": sch, "rows": counts, "state": state, "oauth2_tokens": tokens})
			}
			printTokens(g.stdout, tokens)
			if len(loads) == 0 {
				fmt.Fprintln(g.stdout, "no loads in this destination yet")
				return nil
			}
			printLoads(g.stdout, loads)
			if sch != nil {
				fmt.Fprintf(g.stdout, "\nschema version %d, %d tables\n", sch.Version, len(sch.Tables))
				tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "TABLE\tROWS\tPARENT")
				for _, t := range sch.Tables {
					fmt.Fprintf(tw, "%s\t%d\t%s\n", t.Name, counts[t.Name], t.Parent)
				}
				tw.Flush()
			}
			if len(state) > 0 {
				fmt.Fprintln(g.stdout, "\nstate")
				tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "PIPELINE\tKEY\tVALUE\tLOAD ID")
				for _, e := range state {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Pipeline, e.Key, e.Value, e.LoadID)
				}
				tw.Flush()
			}
			return nil
		},
	}
	f.register(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().StringVar(&tokenStore, "token-store", "", "the OAuth2 token store to describe (default: the pipeline's)")
	return c
}

// printTokens describes the pipeline's OAuth2 token store files: where the
// refresh token lives and when it was last rotated, never a token.
func printTokens(w io.Writer, tokens []auth.TokenInfo) {
	for _, t := range tokens {
		fmt.Fprintf(w, "oauth2 token store %s\n", t.File)
		switch {
		case t.RotatedAt.IsZero():
			fmt.Fprintln(w, "  refresh token: never seen rotated")
		default:
			fmt.Fprintf(w, "  refresh token: rotated %d time(s), last at %s; the current one is saved in %s\n",
				t.Rotations, t.RotatedAt.Format(time.RFC3339), t.SavedTo)
		}
		if !t.AccessTokenExpiry.IsZero() {
			fmt.Fprintf(w, "  access token: kept, expires %s\n", t.AccessTokenExpiry.Format(time.RFC3339))
		}
	}
	if len(tokens) > 0 {
		fmt.Fprintln(w)
	}
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

// tableCounts counts the committed rows of each table (count(*) where the
// destination can, else by reading the table).
func tableCounts(cmd *cobra.Command, d destination.Destination, s *schema.Schema) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range s.Tables {
		n, err := destination.Count(cmd.Context(), d, t.Name)
		if err != nil {
			return nil, err
		}
		out[t.Name] = n
	}
	return out, nil
}
