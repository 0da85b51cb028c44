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
	"github.com/restload/restload/internal/destination/files"
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
	p, err := f.pipeline(args)
	if err != nil {
		return nil, nil, err
	}
	url, dataset, err := f.target(cmd, p)
	if err != nil {
		return nil, nil, err
	}
	if err := checkExists(cmd.Context(), url, dataset); err != nil {
		return nil, nil, err
	}
	d, err := destination.Open(cmd.Context(), url, dataset)
	return d, p, err
}

// resolve is open's destination URL and dataset, for commands that read
// the destination their own way.
func (f *destFlags) resolve(cmd *cobra.Command, args []string) (url, dataset string, err error) {
	p, err := f.pipeline(args)
	if err != nil {
		return "", "", err
	}
	return f.target(cmd, p)
}

// pipeline loads the pipeline file args name, if any.
func (f *destFlags) pipeline(args []string) (*config.Pipeline, error) {
	if len(args) != 1 {
		return nil, nil
	}
	// Only the name, dataset and destination are needed: no API
	// credentials required.
	if _, err := os.Stat(args[0]); err != nil {
		return nil, usageError{fmt.Errorf("pipeline file: %w", err)}
	}
	return config.Load(args[0], config.LoadOptions{SecretsFile: f.secrets, IgnoreMissingSecrets: true})
}

// target is the destination URL and dataset of the flags and pipeline p
// (nil without one). It creates nothing: a missing database file or folder
// is an error before any dataset is guessed.
func (f *destFlags) target(cmd *cobra.Command, p *config.Pipeline) (url, dataset string, err error) {
	url, dataset = f.dest, f.dataset
	if p != nil {
		url = p.DestinationURL(f.dest)
		if dataset == "" {
			dataset = p.Pipeline.Dataset
		}
	}
	if url == "" {
		return "", "", usageError{fmt.Errorf("give a pipeline file or --dest")}
	}
	if err := checkLocation(url); err != nil {
		return "", "", err
	}
	if dataset == "" {
		if dataset, err = guessDataset(cmd.Context(), url); err != nil {
			return "", "", err
		}
		fmt.Fprintf(escapingWriter{cmd.ErrOrStderr()}, "restload: no --dataset given: reading dataset %q\n", dataset)
	}
	return url, dataset, nil
}

// checkExists errs, saying what exists, when the dataset at url does not:
// reading commands never create a database file, folder or dataset.
func checkExists(ctx context.Context, url, dataset string) error {
	scheme, rest, _ := strings.Cut(url, ":")
	if scheme == string(files.Parquet) || scheme == string(files.JSONL) {
		dir, _, _ := strings.Cut(rest, "?")
		return checkFilesDataset(url, dir, dataset)
	}
	ds, err := openSQL(ctx, url, dataset)
	if err != nil {
		return err
	}
	ds.close()
	return nil
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
