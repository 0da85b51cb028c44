package openapi

import (
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Pagination parameters and response fields are recognised by whole words
// (after folding case and dropping _, - and brackets), never by substring:
// dlt-init-openapi took Marvel's `startYear` for an offset (its issue #100).
var (
	pageParams   = wordSet("page", "pagenumber", "pageno", "pagenum", "pageindex")
	limitParams  = wordSet("limit", "perpage", "pagesize", "size", "maxresults", "top", "pagelimit", "take", "maxitems", "resultsperpage", "count")
	offsetParams = wordSet("offset", "skip", "start", "startindex", "startat")
	cursorParams = wordSet("cursor", "after", "pagetoken", "nexttoken", "continuationtoken", "continuation",
		"marker", "pagecursor", "pageafter", "startcursor", "nextpagetoken", "scrollid", "pagekey")
	// Parameters that take the last record's id: restload's paginators
	// cannot send that.
	lastIDParams = wordSet("startingafter", "sinceid", "afterid", "lastid", "fromid")

	cursorFields = wordSet("nextcursor", "cursor", "nextpagetoken", "nexttoken", "continuationtoken", "continuation",
		"endcursor", "nextmarker", "nextpagecursor", "nextkey", "scrollid", "after")
	nextPageFields = wordSet("nextpage", "nextpagenumber")
	linkFields     = wordSet("next", "nexturl", "nextlink", "odatanextlink", "nextpageurl", "nexthref")
	totalItems     = wordSet("total", "totalcount", "totalitems", "totalresults", "totalrecords", "totalsize",
		"count", "totalelements", "numfound", "totalhits")
	totalPages = wordSet("totalpages", "pagecount", "pages", "numpages", "lastpage", "pagestotal", "totalpagecount")
	hasMore    = wordSet("hasmore", "hasnext", "hasnextpage", "more", "hasmoreitems", "hasmorepages", "moreitems")
)

// limitRank orders page-size parameter names, most specific first, for
// endpoints with several (Slack's reactions.list takes count and limit).
func limitRank(n string) int {
	for i, w := range []string{"limit", "perpage", "pagesize", "maxresults", "top", "pagelimit", "maxitems", "resultsperpage", "take", "size", "count"} {
		if n == w {
			return i
		}
	}
	return 99
}

// paging is a detected paginator: the paginator mapping's keys in order,
// the query parameters to send with every request, and why.
type paging struct {
	keys   []kv
	params []kv
	why    string
	// limitParam is the page-size parameter already handled, so it is not
	// also reported as an unset parameter.
	handled map[string]bool
}

type kv struct {
	k, comment string
	v          any
}

// detectPaging guesses the paginator of a list endpoint from its query
// parameters, the fields of its response (outside the records) and its
// response headers.
func detectPaging(e *endpoint) paging {
	var page, limit, offset, cursor, lastID *openapi3.Parameter
	for _, p := range e.params {
		if p.In != "query" {
			continue
		}
		n := norm(p.Name)
		switch {
		case pageParams[n] && page == nil:
			page = p
		case limitParams[n] && !(n == "count" && isBool(p)):
			if limit == nil || limitRank(n) < limitRank(norm(limit.Name)) {
				limit = p
			}
		case offsetParams[n] && offset == nil:
			offset = p
		case cursorParams[n] && cursor == nil:
			cursor = p
		case lastIDParams[n] && lastID == nil:
			lastID = p
		}
	}
	var cursorF, nextPageF, linkF, totalF, pagesF, moreF *field
	for _, f := range fields(e.body, 3) {
		if e.selector != "$" && jsonPath(f.path) == e.selector {
			continue
		}
		f := f
		n := norm(f.name())
		parent := ""
		if len(f.path) > 1 {
			parent = norm(f.path[len(f.path)-2])
		}
		scalar := untyped(f.schema) || hasType(f.schema, "string", "integer")
		switch {
		case linkFields[n] && hasType(f.schema, "string") || linkFields[n] && untyped(f.schema) && n != "next":
			set(&linkF, f)
		case n == "next" && (parent == "links" || parent == "paging" || parent == "pagination" || parent == "meta") && untyped(f.schema):
			set(&linkF, f)
		case n == "href" && parent == "next" && (untyped(f.schema) || hasType(f.schema, "string")):
			set(&linkF, f)
		case nextPageFields[n] && scalar:
			if isURL(f.schema) {
				set(&linkF, f)
			} else {
				set(&nextPageF, f)
			}
		case cursorFields[n] && scalar && (n != "after" || parent == "cursors" || parent == "paging" || parent == "pageinfo"):
			set(&cursorF, f)
		case totalPages[n] && (untyped(f.schema) || hasType(f.schema, "integer", "number")):
			set(&pagesF, f)
		case totalItems[n] && (untyped(f.schema) || hasType(f.schema, "integer", "number")):
			set(&totalF, f)
		case hasMore[n] && (untyped(f.schema) || hasType(f.schema, "boolean")):
			set(&moreF, f)
		}
	}
	linkHeader := false
	if e.resp != nil {
		for k := range e.resp.Headers {
			if strings.EqualFold(k, "link") {
				linkHeader = true
			}
		}
	}

	pg := paging{handled: map[string]bool{}}
	withLimit := func() {
		if limit != nil {
			n, why := pageSize(limit)
			pg.params = append(pg.params, kv{k: limit.Name, v: n, comment: "guessed from " + why})
			pg.handled[limit.Name] = true
		}
	}
	// A cursor parameter, or a string page parameter (a page token), fed
	// from a next-cursor or next-page field.
	cursorP, cursorWhat, next := cursor, "query parameter", first(cursorF, nextPageF)
	if cursor == nil && page != nil && hasType(schemaOf(page.Schema), "string") {
		cursorP, cursorWhat, next = page, "string query parameter (a page token)", first(nextPageF, cursorF)
	}
	switch {
	case cursorP != nil && next != nil:
		pg.keys = []kv{{k: "type", v: "cursor"}, {k: "cursor_param", v: cursorP.Name}, {k: "cursor_path", v: jsonPath(next.path)}}
		pg.why = fmt.Sprintf("%s %q and response field %q", cursorWhat, cursorP.Name, strings.Join(next.path, "."))
		pg.handled[cursorP.Name] = true
		withLimit()
	case linkHeader:
		pg.keys = []kv{{k: "type", v: "header_link"}}
		pg.why = "the response's Link header"
		withLimit()
		if page != nil {
			pg.handled[page.Name] = true
		}
	case offset != nil && limit != nil:
		n, why := pageSize(limit)
		pg.keys = []kv{{k: "type", v: "offset"}, {k: "limit", v: n, comment: "guessed from " + why},
			{k: "offset_param", v: offset.Name}, {k: "limit_param", v: limit.Name}}
		pg.why = fmt.Sprintf("query parameters %q and %q", offset.Name, limit.Name)
		pg.keys = append(pg.keys, totalKeys(totalF, moreF, "total number of records")...)
		pg.handled[offset.Name], pg.handled[limit.Name] = true, true
	case page != nil:
		base, baseWhy := basePage(page)
		pg.keys = []kv{{k: "type", v: "page_number"}, {k: "page_param", v: page.Name},
			{k: "base_page", v: base, comment: "guessed from " + baseWhy}}
		pg.why = fmt.Sprintf("query parameter %q", page.Name)
		// A total of records is not a number of pages (dlt-init-openapi
		// reads `total` and `count` as pages): only a page count is used.
		pg.keys = append(pg.keys, totalKeys(pagesF, moreF, "number of pages")...)
		pg.handled[page.Name] = true
		withLimit()
	case linkF != nil:
		pg.keys = []kv{{k: "type", v: "json_link"}, {k: "next_url_path", v: jsonPath(linkF.path)}}
		pg.why = fmt.Sprintf("response field %q (the next page's URL)", strings.Join(linkF.path, "."))
		withLimit()
	default:
		pg.keys = []kv{{k: "type", v: "single_page"}}
		switch {
		case lastID != nil:
			pg.why = fmt.Sprintf("query parameter %q takes the last record's id, which no restload paginator sends: only the first page loads, as large as %s allows", lastID.Name, nameOr(limit, "the API"))
			withLimit()
		case cursor != nil:
			pg.why = fmt.Sprintf("query parameter %q looks like a cursor but the response has no field that gives the next one: only the first page loads", cursor.Name)
			withLimit()
		case offset != nil:
			pg.why = fmt.Sprintf("query parameter %q without a limit parameter: only the first page loads", offset.Name)
		case limit != nil:
			pg.why = fmt.Sprintf("query parameter %q caps the records returned but nothing asks for the next ones; it is not sent, so the API returns its default", limit.Name)
		default:
			pg.why = "no pagination parameters, response fields or Link header in the spec"
		}
	}
	return pg
}

func nameOr(p *openapi3.Parameter, s string) string {
	if p != nil {
		return p.Name
	}
	return s
}

func first(a, b *field) *field {
	if a != nil {
		return a
	}
	return b
}

func set(dst **field, f field) {
	if *dst == nil {
		*dst = &f
	}
}

func isBool(p *openapi3.Parameter) bool { return hasType(schemaOf(p.Schema), "boolean") }

func isURL(s *openapi3.Schema) bool {
	if s == nil {
		return false
	}
	f := strings.ToLower(s.Format)
	d := strings.ToLower(s.Description)
	return f == "uri" || f == "url" || strings.Contains(d, "url") || strings.Contains(d, "link")
}

// totalKeys writes total_path (or disables it, since both paginators
// default to reading `total`) and has_more_path.
func totalKeys(total, more *field, what string) []kv {
	var out []kv
	if total != nil {
		out = append(out, kv{k: "total_path", v: jsonPath(total.path), comment: fmt.Sprintf("guessed from response field %q (the %s)", strings.Join(total.path, "."), what)})
	} else {
		out = append(out, kv{k: "total_path", v: "", comment: "the response gives no " + what})
	}
	if more != nil {
		out = append(out, kv{k: "has_more_path", v: jsonPath(more.path), comment: fmt.Sprintf("guessed from response field %q", strings.Join(more.path, "."))})
	}
	return out
}

// basePage is the first page number: the parameter's minimum or default
// when it is 0 or 1, else 1.
func basePage(p *openapi3.Parameter) (int, string) {
	s := schemaOf(p.Schema)
	if s != nil && s.Min != nil && (*s.Min == 0 || *s.Min == 1) {
		return int(*s.Min), p.Name + "'s minimum"
	}
	if s != nil && s.Default != nil {
		if d, ok := toInt(s.Default); ok && (d == 0 || d == 1) {
			return d, p.Name + "'s default"
		}
	}
	return 1, "the most common first page; the spec gives " + p.Name + " no minimum or default"
}
