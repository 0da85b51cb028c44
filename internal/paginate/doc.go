// Package paginate walks an API's pages the way dlt's rest_api paginators
// do: page_number, offset, cursor, json_link, header_link, header_cursor and
// single_page, plus detection of the kind from the first response.
//
// A Paginator is used by one resource run at a time:
//
//	p.Init(req)
//	for {
//		resp := send(req)
//		if err := p.Update(resp); err != nil { ... }
//		if !p.HasNext() { break }
//		p.Next(req)
//	}
//
// Each kind is declared once, in its own file, as a Kind registered from an
// init func: its keys and docs row (kind.Spec), defaults, checks and
// constructor. Config is the paginator block every kind reads from; config
// decodes it, checks its keys against the Kind, places Check's problems at
// file positions and builds each resource's paginator when the file loads,
// so one that cannot start is refused by check, not mid-run. Adding a kind
// is one file (plus a field in Config for each new key) and its test; the
// README table row comes from Kind.Doc (TestKindsDocumented).
//
// Every paginator ends: besides its own stop conditions, a cursor or next
// URL seen twice, or a page whose body equals the previous page's, stops it
// with an error saying the API is looping.
package paginate
