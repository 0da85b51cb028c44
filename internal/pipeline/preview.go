package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/extract"
	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/normalize"
	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/steps"
)

// PreviewOptions tune a Preview.
type PreviewOptions struct {
	// Resource is the resource to preview; its parents are fetched too.
	Resource string
	// Pages is how many pages each resource of the chain reads (default 1).
	Pages int
	// Records is how many of the resource's records the preview keeps
	// (default 5).
	Records int
	Logger  *slog.Logger
	// Redactor, when set, is shared with the caller's logger.
	Redactor *httpclient.Redactor
	// HTTPClient is the base client (default: a fresh one).
	HTTPClient *http.Client
	// OnPage sees each page fetched, of the resource and of its parents.
	OnPage func(resource string, p extract.Page)
}

// PreviewResult is what a Preview found: the resource's first records
// (after its processing steps) and the tables and columns they would make
// in an empty dataset.
type PreviewResult struct {
	Records []map[string]any
	Tables  []*schema.Table
}

// Preview sends the requests of one resource (its parents' first, each
// limited to opts.Pages pages) exactly as Run would, and normalizes the
// first records into an empty schema. It loads nothing, opens no
// destination, creates no file and saves no OAuth2 token.
func Preview(ctx context.Context, p *config.Pipeline, opts PreviewOptions) (*PreviewResult, error) {
	if opts.Pages <= 0 {
		opts.Pages = 1
	}
	if opts.Records <= 0 {
		opts.Records = 5
	}
	target := p.Resource(opts.Resource)
	if target == nil {
		return nil, fmt.Errorf("no resource named %q in %s", opts.Resource, p.File)
	}
	r := &run{p: p, opts: Options{Logger: opts.Logger, Redactor: opts.Redactor, HTTPClient: opts.HTTPClient, Workers: 1}}
	defer r.close()
	redactor := r.logging()
	compiled, err := steps.CompileAll(p)
	if err != nil {
		return nil, err
	}
	deps, err := r.clients(redactor)
	if err != nil {
		return nil, err
	}
	env := &runEnv{p: p, deps: deps, steps: compiled}

	// The chain from the root down to the resource; each node reads
	// opts.Pages pages per resource.
	var chain []*node
	for res := target; res != nil; {
		n, err := newNode(env, res, false)
		if err != nil {
			return nil, err
		}
		n.x.Limit = extract.Limit{Pages: opts.Pages}
		name := res.Name
		n.x.Extractor.OnPage = func(pg extract.Page) {
			if opts.OnPage != nil {
				opts.OnPage(name, pg)
			}
		}
		if len(chain) > 0 {
			n.x.AddChild(chain[0].x)
		}
		chain = append([]*node{n}, chain...)
		pn := res.Parent()
		if pn == "" {
			break
		}
		if res = p.Resource(pn); res == nil {
			return nil, fmt.Errorf("resource %s: unknown parent %s", name, pn)
		}
	}
	out := &PreviewResult{}
	chain[len(chain)-1].x.Page = func(_ context.Context, _ int, recs []map[string]any) error {
		for _, rec := range recs {
			if len(out.Records) < opts.Records {
				out.Records = append(out.Records, rec)
			}
		}
		return nil
	}
	extract.Walk(ctx, chain[0].x)
	var errs []error
	for _, n := range chain {
		errs = append(errs, n.x.Err())
	}
	if err := errors.Join(errs...); err != nil {
		return out, err
	}
	out.Tables, err = previewTables(target, out.Records)
	return out, err
}

// previewTables normalizes copies of recs into an empty schema and
// returns the tables they make.
func previewTables(r *config.Resource, recs []map[string]any) ([]*schema.Table, error) {
	s := &schema.Schema{}
	norm, err := normalize.New(s, specFor(r, time.Now()), "preview")
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		if err := norm.Normalize(extract.CloneJSON(rec).(map[string]any), func(*schema.Table, []any) error { return nil }); err != nil {
			return s.Tables, fmt.Errorf("resource %s: %w", r.Name, err)
		}
	}
	return s.Tables, nil
}
