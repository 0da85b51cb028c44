package cli

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/restload/restload/internal/auth"
	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/pipeline"
	"github.com/restload/restload/internal/steps"
)

func checkCmd(g *globals) *cobra.Command {
	var secrets string
	c := &cobra.Command{
		Use:   "check PIPELINE",
		Short: "Validate a pipeline file without touching the network",
		Long: `check reads the pipeline file strictly, resolves its secrets and placeholders,
builds each resource's paginator and auth without sending a request, and
prints the resources in the order they run (parents before their children)
with their paginator, write disposition, primary key and incremental cursor.
It exits 0, or 2 with every problem listed as file:line:col: field: message.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := g.loadPipeline(cmd.Context(), args[0], config.LoadOptions{SecretsFile: secrets})
			if err != nil {
				return err
			}
			if errs := dryBuild(p); len(errs) > 0 {
				return errs
			}
			printCheck(g.stdout, args[0], p)
			return nil
		},
	}
	c.Flags().StringVar(&secrets, "secrets", "", "TOML secrets file")
	return c
}

// dryBuild builds what a run would build before its first request (each
// resource's auth) and returns the problems it finds that the file's
// validation does not. Nothing is sent: OAuth2 tokens are fetched only on
// a first request. (config.Load already built every paginator.)
func dryBuild(p *config.Pipeline) config.Errors {
	var errs config.Errors
	for i := range p.Source.Resources {
		r := &p.Source.Resources[i]
		if a := r.Endpoint.Auth; a != nil {
			if err := dryAuth(p, a); err != nil {
				errs = append(errs, &config.Error{File: r.Pos.File, Line: r.Pos.Line, Col: r.Pos.Col,
					Msg: fmt.Sprintf("resource %s: endpoint auth: %v", r.Name, err)})
			}
		}
	}
	errs = append(errs, pipeline.CheckStrategies(p)...)
	if err := dryAuth(p, p.Source.Client.Auth); err != nil {
		errs = append(errs, &config.Error{File: p.File, Msg: fmt.Sprintf("client auth: %v", err)})
	}
	if _, err := steps.CompileAll(p); err != nil {
		var ce config.Errors
		if errors.As(err, &ce) {
			errs = append(errs, ce...)
		} else {
			errs = append(errs, &config.Error{File: p.File, Msg: err.Error()})
		}
	}
	return errs
}

func dryAuth(p *config.Pipeline, a *config.Auth) error {
	host, err := auth.HostOf(p.Source.Client.BaseURL)
	if err != nil {
		return err
	}
	_, err = auth.New(a, http.DefaultTransport, host, auth.Options{})
	return err
}

// printCheck prints the pipeline's settings and its resources in run order.
func printCheck(w io.Writer, file string, p *config.Pipeline) {
	fmt.Fprintf(w, "%s: ok\npipeline %s, dataset %s, destination %s\n", file, p.Pipeline.Name, p.Pipeline.Dataset, destination.Redact(p.DestinationURL("")))
	fmt.Fprintf(w, "client %s, auth %s\n", p.Source.Client.BaseURL, authSummary(p.Source.Client.Auth))
	for _, f := range p.FromDlt() {
		fmt.Fprintf(w, "from dlt's configuration: %s\n", f)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tPARENT\tMETHOD\tPATH\tPAGINATOR\tDISPOSITION\tPRIMARY KEY\tINCREMENTAL")
	for _, r := range runOrder(p.Source.Resources) {
		disp := "append"
		if wd := r.WriteDisposition; wd != nil {
			disp = wd.Disposition
			if wd.Strategy != "" {
				disp += " (" + wd.Strategy + ")"
			}
		}
		if r.Selected != nil && !*r.Selected {
			disp = "not loaded (selected: false)"
		}
		path := r.Endpoint.Path
		if r.Endpoint.Auth != nil {
			path += " [auth " + authSummary(r.Endpoint.Auth) + "]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, dash(r.Parent()), r.Endpoint.Method, path,
			paginatorSummary(r.Endpoint.Paginator), disp, dash(strings.Join(r.PrimaryKey, ",")), incrementalSummary(r.Endpoint.Incremental))
	}
	tw.Flush()
}

// runOrder returns the resources with every parent before its children,
// otherwise in file order.
func runOrder(rs []config.Resource) []*config.Resource {
	byName := make(map[string]*config.Resource, len(rs))
	for i := range rs {
		byName[rs[i].Name] = &rs[i]
	}
	out := make([]*config.Resource, 0, len(rs))
	placed := map[string]bool{}
	var place func(r *config.Resource, depth int)
	place = func(r *config.Resource, depth int) {
		if placed[r.Name] || depth > len(rs) { // depth: Load rejects cycles; be safe anyway
			return
		}
		if parent := byName[r.Parent()]; parent != nil && parent != r {
			place(parent, depth+1)
		}
		placed[r.Name] = true
		out = append(out, r)
	}
	for i := range rs {
		place(&rs[i], 0)
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// authSummary names the auth type and, for OAuth2, the grant; never a
// secret.
func authSummary(a *config.Auth) string {
	if a == nil || a.Type == "" {
		return "none"
	}
	switch a.Type {
	case "oauth2":
		if a.RefreshToken != "" {
			return "oauth2 (refresh_token grant, " + a.TokenURL + ")"
		}
		return "oauth2 (client_credentials grant, " + a.TokenURL + ")"
	case "oauth2_client_credentials":
		return "oauth2_client_credentials (" + a.AccessTokenURL + ")"
	case "api_key":
		loc := a.Location
		if loc == "" {
			loc = "header"
		}
		return fmt.Sprintf("api_key (%s %s)", loc, a.Name)
	}
	return a.Type
}

// paginatorSummary writes a paginator as its type and the keys the file
// set, e.g. "page_number(page_param=page, next_page_path=nextPage)"; nil is
// "auto".
func paginatorSummary(pg *config.Paginator) string {
	if pg == nil || pg.Type == "" {
		return "auto"
	}
	var parts []string
	v := reflect.ValueOf(pg.Config)
	t := v.Type()
	for i := range t.NumField() {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" || tag == "type" {
			continue
		}
		f := v.Field(i)
		if f.IsZero() {
			continue
		}
		if f.Kind() == reflect.Pointer {
			f = f.Elem()
		}
		parts = append(parts, fmt.Sprintf("%s=%v", tag, f.Interface()))
	}
	if len(parts) == 0 {
		return pg.Type
	}
	return pg.Type + "(" + strings.Join(parts, ", ") + ")"
}

// incrementalSummary writes an incremental block as its cursor and first
// value, e.g. "updated_at from 2024-01-01 (max)".
func incrementalSummary(inc *config.Incremental) string {
	if inc == nil || inc.CursorPath == "" {
		return "-"
	}
	s := inc.CursorPath
	if inc.InitialValue != nil {
		s += fmt.Sprintf(" from %v", inc.InitialValue)
	}
	if inc.EndValue != nil {
		s += fmt.Sprintf(" to %v", inc.EndValue)
	}
	if inc.LastValueFunc != "" {
		s += " (" + inc.LastValueFunc + ")"
	}
	return s
}
