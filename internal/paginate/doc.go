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
// Every paginator ends: besides its own stop conditions, a cursor or next
// URL seen twice, or a page whose body equals the previous page's, stops it
// with an error saying the API is looping.
package paginate
