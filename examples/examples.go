// Package examples embeds the example pipelines so the restload binary can
// run them (restload demo) wherever it is installed. examples_test.go runs
// each of them end to end; README.md says what each one shows.
package examples

import "embed"

// FS holds every example pipeline, by path (analytics/pipeline.yaml,
// sigma/pipeline.yaml, stripe/stripe.json, ...).
//
//go:embed */pipeline.yaml stripe/stripe.json
var FS embed.FS
