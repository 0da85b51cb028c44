package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/restload/restload/internal/auth"
	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/extract"
	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/normalize"
	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/spool"
)

type resourceDeps struct {
	base     *http.Client
	apiHost  string
	policy   httpclient.Policy
	limits   httpclient.HostLimits
	redactor *httpclient.Redactor
	log      *slog.Logger
	obs      Observer
	shared   *httpclient.Client
}

// client builds an HTTP client that authenticates with a.
func (d *resourceDeps) client(a *config.Auth) (*httpclient.Client, error) {
	rt := http.RoundTripper(http.DefaultTransport)
	if d.base.Transport != nil {
		rt = d.base.Transport
	}
	rt, err := auth.New(a, rt, d.base, d.apiHost)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &httpclient.Client{
		HTTP:     &http.Client{Transport: rt, Timeout: d.base.Timeout, CheckRedirect: d.base.CheckRedirect},
		Policy:   d.policy,
		Limits:   d.limits,
		Logger:   d.log,
		Redactor: d.redactor,
	}, nil
}

func limits(l *config.Limits) httpclient.HostLimits {
	if l == nil {
		return httpclient.HostLimits{}
	}
	return httpclient.HostLimits{Concurrency: l.Concurrency, RequestsPerSecond: l.RequestsPerSecond}
}

// runResource extracts one resource into pkg. It returns the resource's own
// schema (stored tables plus what this run added).
func runResource(ctx context.Context, p *config.Pipeline, r *config.Resource, stored *schema.Schema, pkg *spool.Package, loadID string, d *resourceDeps) (ResourceSummary, *schema.Schema, error) {
	start := time.Now()
	rs := ResourceSummary{Name: r.Name, Status: "ok", Rows: map[string]int64{}}
	fail := func(err error) (ResourceSummary, *schema.Schema, error) {
		rs.Status = "failed"
		rs.Error = err.Error()
		rs.Seconds = time.Since(start).Seconds()
		return rs, nil, err
	}

	client := d.shared
	if r.Endpoint.Auth != nil {
		var err error
		if client, err = d.client(r.Endpoint.Auth); err != nil {
			return fail(fmt.Errorf("resource %s: %w", r.Name, err))
		}
	}
	var retries atomic.Int64
	ctx = httpclient.WithOnRetry(ctx, func() {
		retries.Add(1)
		if d.obs != nil {
			d.obs.Retry(r.Name)
		}
	})

	// Each resource normalizes into its own copy of its tables, so resources
	// never share mutable schema state.
	own := &schema.Schema{Name: p.Pipeline.Dataset}
	if stored != nil {
		for _, t := range stored.Tables {
			if t.Resource == r.Name {
				own.Tables = append(own.Tables, t.Clone())
			}
		}
	}
	norm, err := normalize.New(own, specFor(r), loadID)
	if err != nil {
		return fail(fmt.Errorf("resource %s: %w", r.Name, err))
	}
	writers := map[string]*spool.TableWriter{}
	emit := func(t *schema.Table, row []any) error {
		w := writers[t.Name]
		if w == nil {
			var err error
			if w, err = pkg.Writer(t.Name); err != nil {
				return err
			}
			writers[t.Name] = w
		}
		rs.Rows[t.Name]++
		return w.Write(row)
	}
	x := &extract.Extractor{Client: client, Redactor: d.redactor, Logger: d.log.With("resource", r.Name)}
	st, err := x.Run(ctx, extract.Resource{
		Name: r.Name, BaseURL: p.Source.Client.BaseURL, Endpoint: r.Endpoint,
		Paginator: r.Endpoint.Paginator, Headers: p.Source.Client.Headers,
	}, func(ctx context.Context, page extract.Page) error {
		for i, rec := range page.Records {
			if err := norm.Normalize(rec, emit); err != nil {
				return recordError(r.Name, page.Number, i+1, err)
			}
		}
		if d.obs != nil {
			d.obs.Page(r.Name, page.Number, len(page.Records))
		}
		return nil
	})
	rs.Records, rs.Pages, rs.Retries = st.Records, st.Pages, retries.Load()
	noteNormalize(&rs, norm, d.log)
	if err != nil {
		return fail(err)
	}
	rs.Seconds = time.Since(start).Seconds()
	return rs, own, nil
}
