// Package conformance holds restload's dlt rest_api conformance suite: Go
// tests that serve an API written for each behaviour (httptest), run the real
// pipeline (config.Parse, pipeline.Run) into a temporary DuckDB file and
// assert what a user would see: the rows in the tables, the bytes on the
// wire and the text of the errors.
//
// The package has no non-test code; this file only documents it.
package conformance
