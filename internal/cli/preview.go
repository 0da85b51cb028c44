package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/extract"
	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/pipeline"
	"github.com/restload/restload/internal/schema"
)

type previewFlags struct {
	secrets  string
	resource string
	pages    int
	records  int
	json     bool
}

func previewCmd(g *globals) *cobra.Command {
	var f previewFlags
	c := &cobra.Command{
		Use:   "preview PIPELINE",
		Short: "Send a resource's requests (its parents' too) and show the pages, the first records and the tables they would make, without loading or writing anything",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.pages < 1 || f.records < 1 {
				return usageError{errors.New("--pages and --records take a number of at least 1")}
			}
			p, err := g.loadPipeline(cmd.Context(), args[0], config.LoadOptions{SecretsFile: f.secrets})
			if err != nil {
				return err
			}
			name, note, err := previewResource(p, f.resource, args[0])
			if err != nil {
				return err
			}
			return g.preview(cmd, p, name, note, f)
		},
	}
	c.Flags().StringVar(&f.secrets, "secrets", "", "TOML secrets file (default .restload/secrets.toml beside the pipeline file)")
	c.Flags().StringVar(&f.resource, "resource", "", "the resource to preview (default: the first in the file)")
	c.Flags().IntVar(&f.pages, "pages", 2, "pages to read per resource (the resource's and each parent's)")
	c.Flags().IntVar(&f.records, "records", 5, "records to show")
	c.Flags().BoolVar(&f.json, "json", false, "print the preview as one JSON object")
	return c
}

// previewResource picks the resource to preview: the one named, else the
// first in the file (with a note naming the others).
func previewResource(p *config.Pipeline, name, file string) (string, string, error) {
	var names []string
	for _, r := range p.Source.Resources {
		names = append(names, r.Name)
	}
	if name != "" {
		if p.Resource(name) == nil {
			return "", "", usageError{fmt.Errorf("--resource %s: no resource of that name in %s (it has %s)", name, file, strings.Join(names, ", "))}
		}
		return name, "", nil
	}
	if len(names) == 0 {
		return "", "", fmt.Errorf("%s has no resources", file)
	}
	note := ""
	if len(names) > 1 {
		note = fmt.Sprintf("previewing %s, the first of %d resources (choose with --resource: %s)", names[0], len(names), strings.Join(names, ", "))
	}
	return names[0], note, nil
}

// previewPage is one page in the preview's output.
type previewPage struct {
	Resource string  `json:"resource"`
	Page     int     `json:"page"`
	Method   string  `json:"method"`
	URL      string  `json:"url"`
	Status   int     `json:"status"`
	Bytes    int     `json:"bytes"`
	Seconds  float64 `json:"seconds"`
	Attempts int64   `json:"attempts"`
	Records  int     `json:"records"`
	Decision string  `json:"decision"`
}

type previewColumn struct {
	Name     string `json:"name"`
	Type     string `json:"data_type"`
	Nullable bool   `json:"nullable"`
}

type previewTable struct {
	Name    string          `json:"name"`
	Parent  string          `json:"parent,omitempty"`
	Columns []previewColumn `json:"columns"`
}

type previewOutput struct {
	Resource string            `json:"resource"`
	Pages    []previewPage     `json:"pages"`
	Records  []json.RawMessage `json:"records"`
	Tables   []previewTable    `json:"tables"`
	Error    string            `json:"error,omitempty"`
}

func (g *globals) preview(cmd *cobra.Command, p *config.Pipeline, name, note string, f previewFlags) error {
	red := httpclient.NewRedactor(p.SecretValues()...)
	log, err := g.loggerTo(g.stderr, red)
	if err != nil {
		return err
	}
	out := previewOutput{Resource: name, Pages: []previewPage{}, Records: []json.RawMessage{}, Tables: []previewTable{}}
	w := escapingWriter{g.stdout}
	if note != "" && !f.json {
		fmt.Fprintln(w, note)
	}
	res, runErr := pipeline.Preview(cmd.Context(), p, pipeline.PreviewOptions{
		Resource: name, Pages: f.pages, Records: f.records, Logger: log, Redactor: red,
		OnPage: func(resource string, pg extract.Page) {
			pp := previewPage{Resource: resource, Page: pg.Number, Method: pg.Method, URL: red.String(pg.Sent),
				Status: pg.Status, Bytes: pg.Bytes, Seconds: pg.Elapsed.Seconds(), Attempts: pg.Attempts,
				Records: len(pg.Records), Decision: red.String(pg.Decision)}
			out.Pages = append(out.Pages, pp)
			if !f.json {
				fmt.Fprintf(w, "%s page %d: %s %s -> %d, %d bytes, %.1f ms, %d %s; %s\n", pp.Resource, pp.Page, pp.Method, pp.URL,
					pp.Status, pp.Bytes, float64(pg.Elapsed.Microseconds())/1000, pp.Records, plural(int64(pp.Records), "record", "records"), pp.Decision)
			}
		},
	})
	if res != nil {
		for _, rec := range res.Records {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(rec); err != nil {
				return fmt.Errorf("preview: %w", err)
			}
			rb := []byte(red.String(strings.TrimSpace(b.String())))
			if !json.Valid(rb) { // a mask landed where JSON cannot take it
				rb, _ = json.Marshal(string(rb))
			}
			out.Records = append(out.Records, rb)
		}
		for _, t := range res.Tables {
			out.Tables = append(out.Tables, previewTableOf(t))
		}
	}
	if runErr != nil {
		out.Error = red.String(runErr.Error())
	}
	if f.json {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
		return runErr
	}
	if runErr != nil {
		return runErr
	}
	printPreview(w, out, f.pages)
	return nil
}

func previewTableOf(t *schema.Table) previewTable {
	pt := previewTable{Name: t.Name, Parent: t.Parent, Columns: []previewColumn{}}
	for _, c := range t.Columns {
		if c.System {
			continue
		}
		pt.Columns = append(pt.Columns, previewColumn{Name: c.Name, Type: string(c.Type), Nullable: c.Nullable})
	}
	return pt
}

// printPreview prints the records and tables of a preview as text.
func printPreview(w io.Writer, out previewOutput, pages int) {
	if n := len(out.Pages); n > 0 && strings.HasPrefix(out.Pages[n-1].Decision, "next:") {
		fmt.Fprintf(w, "(stopped after %d %s per resource, --pages; the API has more)\n", pages, plural(int64(pages), "page", "pages"))
	}
	if len(out.Records) == 0 {
		fmt.Fprintf(w, "\n%s: no records\n", out.Resource)
		return
	}
	fmt.Fprintf(w, "\nfirst %d %s of %s:\n", len(out.Records), plural(int64(len(out.Records)), "record", "records"), out.Resource)
	for _, r := range out.Records {
		fmt.Fprintf(w, "  %s\n", r)
	}
	fmt.Fprintf(w, "\ntables and columns these records would make (in an empty dataset; _dlt columns not shown):\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range out.Tables {
		parent := ""
		if t.Parent != "" {
			parent = " (child of " + t.Parent + ")"
		}
		fmt.Fprintf(tw, "  %s%s\n", t.Name, parent)
		for _, c := range t.Columns {
			fmt.Fprintf(tw, "    %s\t%s\n", c.Name, c.Type)
		}
	}
	tw.Flush()
}
