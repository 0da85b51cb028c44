package cli

import (
	"fmt"
	"os"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/destination"
	"github.com/spf13/cobra"
)

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
		dataset = guessDataset(url)
	}
	d, err := destination.Open(cmd.Context(), url, dataset)
	return d, p, err
}

// guessDataset is used when only --dest is given: the demo's and the
// examples' dataset.
func guessDataset(string) string { return "analytics" }
