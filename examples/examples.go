// Package examples embeds the example pipelines so the restload binary can
// run them (restload demo) wherever it is installed.
package examples

import "embed"

// FS holds every example pipeline, by path (analytics/pipeline.yaml,
// sigma/pipeline.yaml).
//
//go:embed analytics/pipeline.yaml sigma/pipeline.yaml
var FS embed.FS
