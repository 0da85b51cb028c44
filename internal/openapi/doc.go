// Package openapi writes a restload pipeline file from an API's OpenAPI
// description: `restload init --openapi SPEC`. It is the counterpart of
// dlt's dlt-init-openapi, with the guesses that tool's users report it gets
// wrong made differently:
//
//   - pagination parameters are recognised by whole words only (a
//     `startYear` filter is not an offset), a total item count is never used
//     as a page count, and a cursor parameter is used only when the response
//     says where the next cursor is; when the spec pages in a way restload
//     cannot send (Stripe's `starting_after` the last record's id), the
//     resource loads one page and the comment says why;
//   - merge is never switched on from a guessed primary key (a key that is
//     only unique per parent would drop rows); the comment says how to;
//   - an endpoint that cannot be generated (a path parameter no other
//     endpoint's records provide, no JSON list in its response) is listed
//     in the file's header with the reason, not dropped silently.
//
// Every value taken from a guess carries a `# guessed from ...` comment.
//
// Parsing uses github.com/getkin/kin-openapi: it is the most used and
// actively maintained OpenAPI library for Go, reads OpenAPI 3.0 and 3.1,
// resolves local $refs (including cyclic schemas) and converts Swagger 2.0
// with its openapi2conv package, so this package only has to make guesses.
// External $refs are refused: a spec is read from one file or URL.
package openapi
