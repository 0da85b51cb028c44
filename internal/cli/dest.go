package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/load"
	"github.com/spf13/cobra"
)

// destFlags picks the destination and dataset from --dest/--dataset or from
// a pipeline file given as the argument.
type destFlags struct {
	dest, dataset, secrets string
}

func (f *destFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.dest, "dest", "", "destination URL (default: the pipeline file's)")
	c.Flags().StringVar(&f.dataset, "dataset", "", "dataset (default: the pipeline file's; without one, NAME or NAME_dataset for a --dest ending in NAME, whichever holds loads)")
	c.Flags().StringVar(&f.secrets, "secrets", "", "TOML secrets file")
}

func (f *destFlags) open(cmd *cobra.Command, args []string) (destination.Destination, *config.Pipeline, error) {
	var p *config.Pipeline
	if len(args) == 1 {
		var err error
		// Only the name, dataset and destination are needed: no API
		// credentials required.
		if _, err := os.Stat(args[0]); err != nil {
			return nil, nil, usageError{fmt.Errorf("pipeline file: %w", err)}
		}
		if p, err = config.Load(args[0], config.LoadOptions{SecretsFile: f.secrets, IgnoreMissingSecrets: true}); err != nil {
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
		var err error
		if dataset, err = guessDataset(cmd.Context(), url); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(escapingWriter{cmd.ErrOrStderr()}, "restload: no --dataset given: reading dataset %q\n", dataset)
	}
	d, err := destination.Open(cmd.Context(), url, dataset)
	return d, p, err
}

// guessDataset names the dataset to read when only --dest is given. A
// pipeline named NAME loads into duckdb:NAME.duckdb and dataset
// NAME_dataset by default, and the examples name their dataset NAME: of
// those two, named after the URL's file, folder or database, the first
// that holds restload's loads table is the one; with neither, NAME.
func guessDataset(ctx context.Context, dest string) (string, error) {
	stem := urlStem(dest)
	if stem == "" {
		return "", usageError{fmt.Errorf("give --dataset: %s names no dataset to guess", destination.Redact(dest))}
	}
	for _, ds := range []string{stem, stem + "_dataset"} {
		if holdsLoads(ctx, dest, ds) {
			return ds, nil
		}
	}
	return stem, nil
}

// urlStem is the name a destination URL ends in, without extension:
// analytics for duckdb:./analytics.duckdb, jsonl:out/analytics or
// postgres://host/analytics?sslmode=disable; "" when it has none.
func urlStem(dest string) string {
	_, rest, ok := strings.Cut(dest, ":")
	if !ok {
		return ""
	}
	if strings.HasPrefix(rest, "//") {
		u, err := url.Parse(dest)
		if err != nil {
			return ""
		}
		rest = u.Path
	}
	rest, _, _ = strings.Cut(rest, "?")
	base := path.Base(strings.TrimRight(filepath.ToSlash(rest), "/"))
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	if base == "." || base == "/" {
		return ""
	}
	return base
}

// holdsLoads reports whether dataset at url has restload's loads table.
func holdsLoads(ctx context.Context, dest, dataset string) bool {
	d, err := destination.Open(ctx, dest, dataset)
	if err != nil {
		return false
	}
	defer d.Close()
	_, err = destination.Count(ctx, d, load.LoadsTable)
	return err == nil
}
