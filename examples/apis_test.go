package examples_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// servePokeAPI: 120 pokemon (two offset pages of 100), one detail record
// per pokemon, and 3 berries over two json_link pages (this API caps its
// berry pages at 2).
func servePokeAPI(t *testing.T) (map[string]string, func(*testing.T, *result)) {
	var a *api
	a = newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		switch {
		case r.URL.Path == "/api/v2/pokemon":
			var res []map[string]any
			for i := range window(make([]struct{}, 120), offset, limit) {
				n := offset + i + 1
				res = append(res, map[string]any{"name": fmt.Sprintf("poke-%d", n), "url": fmt.Sprintf("%s/api/v2/pokemon/%d/", a.URL, n)})
			}
			writeJSON(w, map[string]any{"count": 120, "next": nil, "previous": nil, "results": res})
		case strings.HasPrefix(r.URL.Path, "/api/v2/pokemon/poke-"):
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/api/v2/pokemon/poke-"))
			types := []map[string]any{{"slot": 1, "type": map[string]any{"name": "grass"}}}
			if n%2 == 0 {
				types = append(types, map[string]any{"slot": 2, "type": map[string]any{"name": "poison"}})
			}
			writeJSON(w, map[string]any{"id": n, "name": fmt.Sprintf("poke-%d", n), "height": n * 3, "types": types})
		case r.URL.Path == "/api/v2/berry":
			berries := []string{"cheri", "chesto", "pecha"}
			page := window(berries, offset, 2)
			var res []map[string]any
			for _, b := range page {
				res = append(res, map[string]any{"name": b})
			}
			next := any(nil)
			if offset+2 < len(berries) {
				next = fmt.Sprintf("%s/api/v2/berry?offset=%d&limit=2", a.URL, offset+2)
			}
			writeJSON(w, map[string]any{"count": len(berries), "next": next, "results": res})
		default:
			http.NotFound(w, r)
		}
	})
	return map[string]string{"POKEAPI_URL": a.URL + "/api/v2"}, func(t *testing.T, r *result) {
		r.wantRows(t, "pokemon", 120)
		wantStrings(t, "pokemon offsets", a.Params("/api/v2/pokemon", "offset"), "0", "100")
		wantStrings(t, "pokemon limits", a.Params("/api/v2/pokemon", "limit"), "100", "100")
		r.wantRows(t, "pokemon_details", 120)
		// One record per request: poke-7 is one row, its types a child table.
		if got := len(a.Requests("/api/v2/pokemon/poke-7")); got != 1 {
			t.Errorf("poke-7 was requested %d times, want 1", got)
		}
		r.wantRows(t, "pokemon_details__types", 180)
		r.wantColumn(t, "berries", "name", "cheri", "chesto", "pecha")
		wantStrings(t, "berry offsets", a.Params("/api/v2/berry", "offset"), "", "2")
	}
}

// serveGitHub: 3 repositories over two Link-header pages; dlt has 3
// issues over two pages, one of them a pull request; since is checked.
func serveGitHub(t *testing.T) (map[string]string, func(*testing.T, *result)) {
	var a *api
	a = newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		page := r.URL.Query().Get("page")
		link := func(p string) {
			u := *r.URL
			q := u.Query()
			q.Set("page", p)
			w.Header().Set("Link", fmt.Sprintf(`<%s%s?%s>; rel="next", <%s%s?page=1>; rel="first"`, a.URL, u.Path, q.Encode(), a.URL, u.Path))
		}
		switch r.URL.Path {
		case "/orgs/dlt-hub/repos":
			if page == "" {
				link("2")
				writeJSON(w, []map[string]any{
					{"id": 1, "name": "dlt", "full_name": "dlt-hub/dlt", "owner": map[string]any{"login": "dlt-hub"}},
					{"id": 2, "name": "verified-sources", "full_name": "dlt-hub/verified-sources", "owner": map[string]any{"login": "dlt-hub"}},
				})
				return
			}
			writeJSON(w, []map[string]any{{"id": 3, "name": "dlt-init", "full_name": "dlt-hub/dlt-init", "owner": map[string]any{"login": "dlt-hub"}}})
		case "/repos/dlt-hub/dlt/issues":
			if page == "" {
				link("2")
				writeJSON(w, []map[string]any{
					{"id": 101, "number": 1, "title": "crash on merge", "updated_at": "2024-02-01T00:00:00Z"},
					{"id": 102, "number": 2, "title": "fix crash", "updated_at": "2024-02-02T00:00:00Z", "pull_request": map[string]any{"url": "x"}},
				})
				return
			}
			writeJSON(w, []map[string]any{{"id": 103, "number": 3, "title": "docs", "updated_at": "2024-02-03T00:00:00Z"}})
		case "/repos/dlt-hub/verified-sources/issues", "/repos/dlt-hub/dlt-init/issues":
			writeJSON(w, []any{})
		default:
			http.NotFound(w, r)
		}
	})
	env := map[string]string{"GITHUB_API_URL": a.URL, "GITHUB_TOKEN": "ghp-secret-1"}
	return env, func(t *testing.T, r *result) {
		r.wantColumn(t, "repos", "full_name", "dlt-hub/dlt", "dlt-hub/verified-sources", "dlt-hub/dlt-init")
		r.wantColumn(t, "repos", "owner__login", "dlt-hub", "dlt-hub", "dlt-hub")
		r.wantColumn(t, "issues", "title", "crash on merge", "docs")
		r.wantColumn(t, "issues", "_repos_name", "dlt", "dlt")
		wantStrings(t, "repo pages", a.Params("/orgs/dlt-hub/repos", "page"), "", "2")
		wantStrings(t, "since", a.Params("/repos/dlt-hub/dlt/issues", "since"), "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z")
		a.wantEach(t, "bearer token, GitHub headers, per_page=100", func(h hit) bool {
			return h.Header.Get("Authorization") == "Bearer ghp-secret-1" && h.Header.Get("Accept") == "application/vnd.github+json" &&
				h.Header.Get("X-GitHub-Api-Version") == "2022-11-28" && h.Query().Get("per_page") == "100"
		})
		if got := a.Params("/orgs/dlt-hub/repos", "type"); got[0] != "public" {
			t.Errorf("repos type param %q, want public", got[0])
		}
	}
}

// serveStripe: Stripe's list shape {object: list, data, has_more} with
// starting_after; pages of at most 2.
func serveStripe(t *testing.T) (map[string]string, func(*testing.T, *result)) {
	lists := map[string][]map[string]any{
		"/v1/customers": {
			{"id": "cus_1", "email": "a@example.com"}, {"id": "cus_2", "email": "b@example.com"}, {"id": "cus_3", "email": "c@example.com"},
			{"id": "cus_4", "email": "d@example.com"}, {"id": "cus_5", "email": "e@example.com"},
		},
		"/v1/charges": {
			{"id": "ch_1", "amount": 1000, "currency": "eur", "billing_details": map[string]any{"address": map[string]any{"city": "Berlin"}}},
			{"id": "ch_2", "amount": 2500, "currency": "usd", "billing_details": map[string]any{"address": map[string]any{"city": "Boston"}}},
		},
		"/v1/events": {{"id": "evt_1", "type": "charge.succeeded", "data": map[string]any{"object": map[string]any{"id": "ch_1"}}}},
	}
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		items, ok := lists[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		from := 0
		if after := r.URL.Query().Get("starting_after"); after != "" {
			from = slices.IndexFunc(items, func(m map[string]any) bool { return m["id"] == after }) + 1
		}
		page := window(items, from, 2)
		writeJSON(w, map[string]any{"object": "list", "url": r.URL.Path, "data": page, "has_more": from+len(page) < len(items)})
	})
	env := map[string]string{"STRIPE_API_URL": a.URL + "/v1", "STRIPE_SECRET_KEY": "sk_test_secret_2"}
	return env, func(t *testing.T, r *result) {
		r.wantColumn(t, "customers", "email", "a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com")
		// The cursor is the last record's id; has_more: false on the third
		// page ends the walk without asking for an empty fourth.
		wantStrings(t, "customers starting_after", a.Params("/v1/customers", "starting_after"), "", "cus_2", "cus_4")
		r.wantColumn(t, "charges", "billing_details__address__city", "Berlin", "Boston")
		wantStrings(t, "charges created[gte]", a.Params("/v1/charges", "created[gte]"), "1704067200")
		r.wantColumn(t, "events", "data__object__id", "ch_1")
		wantStrings(t, "events type", a.Params("/v1/events", "type"), "charge.succeeded")
		a.wantEach(t, "the secret key as bearer token and limit=100", func(h hit) bool {
			return h.Header.Get("Authorization") == "Bearer sk_test_secret_2" && h.Query().Get("limit") == "100"
		})
	}
}

// serveZendesk: tickets over two cursor pages, users on one, ticket fields
// under their own key, comments per ticket, ticket 2 deleted (404).
func serveZendesk(t *testing.T) (map[string]string, func(*testing.T, *result)) {
	cursorPage := func(w http.ResponseWriter, key string, items []map[string]any, after string) {
		from := 0
		if after != "" {
			from, _ = strconv.Atoi(strings.TrimPrefix(after, "c"))
		}
		page := window(items, from, 2)
		more := from+len(page) < len(items)
		next := any(nil)
		if more {
			next = fmt.Sprintf("c%d", from+len(page))
		}
		writeJSON(w, map[string]any{key: page, "meta": map[string]any{"has_more": more, "after_cursor": next, "before_cursor": nil}})
	}
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		after := r.URL.Query().Get("page[after]")
		switch r.URL.Path {
		case "/api/v2/tickets.json":
			cursorPage(w, "tickets", []map[string]any{{"id": 1, "subject": "login broken"}, {"id": 2, "subject": "spam"}, {"id": 3, "subject": "refund"}}, after)
		case "/api/v2/users.json":
			cursorPage(w, "users", []map[string]any{{"id": 10, "name": "Ann"}, {"id": 11, "name": "Bo"}}, after)
		case "/api/v2/ticket_fields.json":
			writeJSON(w, map[string]any{"ticket_fields": []map[string]any{{"id": 501, "title": "Subject"}, {"id": 502, "title": "Priority"}}, "count": 2})
		case "/api/v2/tickets/1/comments.json":
			cursorPage(w, "comments", []map[string]any{{"id": 9001, "body": "cannot log in"}, {"id": 9002, "body": "fixed"}}, after)
		case "/api/v2/tickets/3/comments.json":
			cursorPage(w, "comments", []map[string]any{{"id": 9003, "body": "please refund"}}, after)
		default:
			w.WriteHeader(http.StatusNotFound)
			writeJSON(w, map[string]any{"error": "RecordNotFound"})
		}
	})
	env := map[string]string{"ZENDESK_URL": a.URL + "/api/v2", "ZENDESK_EMAIL": "agent@acme.com", "ZENDESK_API_TOKEN": "zd-secret-3"}
	return env, func(t *testing.T, r *result) {
		r.wantColumn(t, "tickets", "subject", "login broken", "spam", "refund")
		wantStrings(t, "tickets page[after]", a.Params("/api/v2/tickets.json", "page[after]"), "", "c2")
		r.wantColumn(t, "users", "name", "Ann", "Bo")
		r.wantColumn(t, "ticket_fields", "title", "Subject", "Priority")
		if got := len(a.Requests("/api/v2/ticket_fields.json")); got != 1 {
			t.Errorf("ticket_fields fetched %d times, want 1 (single_page)", got)
		}
		r.wantColumn(t, "ticket_comments", "body", "cannot log in", "fixed", "please refund")
		r.wantColumn(t, "ticket_comments", "_tickets_id", "1", "1", "3")
		if got := len(a.Requests("/api/v2/tickets/2/comments.json")); got != 1 {
			t.Errorf("deleted ticket's comments asked %d times, want 1", got)
		}
		a.wantEach(t, "basic auth agent@acme.com/token and page[size]=100", func(h hit) bool {
			user, pass, ok := (&http.Request{Header: h.Header}).BasicAuth()
			return ok && user == "agent@acme.com/token" && pass == "zd-secret-3" && h.Query().Get("page[size]") == "100"
		})
	}
}

// servePipedrive: 600 deals (two pages of the 500 limit, more_items flag),
// no persons ("data": null), and activities filtered by done.
func servePipedrive(t *testing.T) (map[string]string, func(*testing.T, *result)) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		start, _ := strconv.Atoi(r.URL.Query().Get("start"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		var all []map[string]any
		switch r.URL.Path {
		case "/v1/deals":
			for i := 1; i <= 600; i++ {
				all = append(all, map[string]any{"id": i, "title": fmt.Sprintf("deal %d", i), "value": i * 10})
			}
		case "/v1/persons":
			writeJSON(w, map[string]any{"success": true, "data": nil,
				"additional_data": map[string]any{"pagination": map[string]any{"start": start, "limit": limit, "more_items_in_collection": false}}})
			return
		case "/v1/activities":
			all = []map[string]any{{"id": 7, "subject": "call", "done": false}, {"id": 8, "subject": "lunch", "done": false}}
		default:
			http.NotFound(w, r)
			return
		}
		page := window(all, start, limit)
		more := start+len(page) < len(all)
		writeJSON(w, map[string]any{"success": true, "data": page,
			"additional_data": map[string]any{"pagination": map[string]any{"start": start, "limit": limit, "more_items_in_collection": more, "next_start": start + len(page)}}})
	})
	env := map[string]string{"PIPEDRIVE_URL": a.URL + "/v1", "PIPEDRIVE_API_TOKEN": "pd-secret-4"}
	return env, func(t *testing.T, r *result) {
		r.wantRows(t, "deals", 600)
		wantStrings(t, "deals start", a.Params("/v1/deals", "start"), "0", "500")
		wantStrings(t, "deals limit", a.Params("/v1/deals", "limit"), "500", "500")
		if r.hasTable(t, "persons") {
			t.Error("table persons exists, though the API had no persons")
		}
		r.wantColumn(t, "activities", "subject", "call", "lunch")
		wantStrings(t, "activities done", a.Params("/v1/activities", "done"), "0")
		a.wantEach(t, "api_token in the query and no Authorization header", func(h hit) bool {
			return h.Query().Get("api_token") == "pd-secret-4" && h.Header.Get("Authorization") == ""
		})
	}
}

// serveZoom: a token server on its own host (client id and secret in the
// form, as dlt's oauth2_client_credentials sends them; account_credentials
// grant) and an API with 3 users over two
// next_page_token pages and one meeting each.
func serveZoom(t *testing.T) (map[string]string, func(*testing.T, *result)) {
	oauth := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		_, _, basic := r.BasicAuth()
		if r.URL.Path != "/oauth/token" || basic || r.PostFormValue("client_id") != "zoom-client" || r.PostFormValue("client_secret") != "zoom-secret-5" ||
			r.PostFormValue("grant_type") != "account_credentials" || r.PostFormValue("account_id") != "acc-42" {
			w.WriteHeader(http.StatusUnauthorized)
			writeJSON(w, map[string]any{"error": "invalid_client"})
			return
		}
		writeJSON(w, map[string]any{"access_token": "zoom-at-secret", "token_type": "bearer", "expires_in": 3600})
	})
	users := []map[string]any{{"id": "u1", "email": "ann@acme.com"}, {"id": "u2", "email": "bo@acme.com"}, {"id": "u3", "email": "cy@acme.com"}}
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer zoom-at-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/v2/users" {
			from := 0
			if r.URL.Query().Get("next_page_token") == "tok2" {
				from = 2
			}
			next := ""
			if from == 0 {
				next = "tok2"
			}
			writeJSON(w, map[string]any{"page_size": 2, "total_records": 3, "next_page_token": next, "users": window(users, from, 2)})
			return
		}
		if id, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/v2/users/"), "/meetings"); ok {
			writeJSON(w, map[string]any{"next_page_token": "", "meetings": []map[string]any{{"id": "m-" + id, "topic": "standup " + id}}})
			return
		}
		http.NotFound(w, r)
	})
	env := map[string]string{"ZOOM_API_URL": a.URL + "/v2", "ZOOM_OAUTH_URL": oauth.URL,
		"ZOOM_CLIENT_ID": "zoom-client", "ZOOM_CLIENT_SECRET": "zoom-secret-5", "ZOOM_ACCOUNT_ID": "acc-42"}
	return env, func(t *testing.T, r *result) {
		if got := len(oauth.Requests("/oauth/token")); got != 1 {
			t.Errorf("%d token requests, want 1 (the token is cached)", got)
		}
		r.wantColumn(t, "users", "email", "ann@acme.com", "bo@acme.com", "cy@acme.com")
		wantStrings(t, "users next_page_token", a.Params("/v2/users", "next_page_token"), "", "tok2")
		r.wantColumn(t, "meetings", "topic", "standup u1", "standup u2", "standup u3")
		r.wantColumn(t, "meetings", "_users_email", "ann@acme.com", "bo@acme.com", "cy@acme.com")
		a.wantEach(t, "page_size=300", func(h hit) bool { return h.Query().Get("page_size") == "300" })
		wantStrings(t, "meetings type", a.Params("/v2/users/u1/meetings", "type"), "scheduled")
	}
}

// servePostSearch: a token endpoint that rotates refresh tokens, an API
// that revokes the first access token after its first use (so one request
// gets a 401 and must be resent with a renewed token), POST search
// endpoints paginated in the body, a form endpoint, and a status page on
// another host.
func servePostSearch(t *testing.T) (map[string]string, func(*testing.T, *result)) {
	var mu sync.Mutex
	issued, refresh := 0, "rt-secret-1"
	valid := map[string]bool{}
	revoked := false
	var grants []string
	docs := []map[string]any{}
	for i := 1; i <= 5; i++ {
		docs = append(docs, map[string]any{"_index": "docs", "_id": fmt.Sprintf("d%d", i), "_source": map[string]any{"title": fmt.Sprintf("doc %d", i), "status": "published"}})
	}
	articles := []map[string]any{{"id": 1, "title": "cursor pagination"}, {"id": 2, "title": "offset pagination"}, {"id": 3, "title": "page numbers"}}
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if r.URL.Path == "/api/oauth/token" {
			defer mu.Unlock()
			grants = append(grants, r.PostFormValue("grant_type")+":"+r.PostFormValue("refresh_token"))
			if r.PostFormValue("grant_type") != "refresh_token" || r.PostFormValue("refresh_token") != refresh ||
				r.PostFormValue("client_id") != "search-client" || r.PostFormValue("client_secret") != "search-secret-6" {
				w.WriteHeader(http.StatusBadRequest)
				writeJSON(w, map[string]any{"error": "invalid_grant"})
				return
			}
			issued++
			tok := fmt.Sprintf("at-%d", issued)
			valid[tok] = true
			refresh = fmt.Sprintf("rt-secret-%d", issued+1)
			writeJSON(w, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600, "refresh_token": refresh})
			return
		}
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		ok := valid[tok]
		if !revoked {
			revoked = true
			delete(valid, "at-1")
		}
		mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			writeJSON(w, map[string]any{"error": "invalid_token"})
			return
		}
		var body map[string]any
		if r.Header.Get("Content-Type") == "application/json" {
			_ = json.NewDecoder(r.Body).Decode(&body)
		}
		num := func(k string) int { f, _ := body[k].(float64); return int(f) }
		switch r.URL.Path {
		case "/api/documents/_search":
			writeJSON(w, map[string]any{"took": 3, "hits": map[string]any{"total": map[string]any{"value": len(docs), "relation": "eq"}, "hits": window(docs, num("from"), num("size"))}})
		case "/api/articles/search":
			p, per := num("page"), num("per_page")
			writeJSON(w, map[string]any{"page": p, "total_pages": 2, "results": window(articles, (p-1)*per, per)})
		case "/api/exports":
			if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.PostFormValue("format") != "json" || r.PostFormValue("since") != "2024-01-01" {
				http.Error(w, "want a form with format and since", http.StatusBadRequest)
				return
			}
			writeJSON(w, map[string]any{"rows": []map[string]any{{"day": "2024-01-01", "searches": 12}, {"day": "2024-01-02", "searches": 7}}})
		default:
			http.NotFound(w, r)
		}
	})
	status := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"status": map[string]any{"indicator": "none", "description": "All Systems Operational"}, "updated_at": "2024-03-01T10:00:00Z"})
	})
	env := map[string]string{"SEARCH_API_URL": a.URL + "/api", "SEARCH_STATUS_URL": status.URL + "/summary.json",
		"SEARCH_CLIENT_ID": "search-client", "SEARCH_CLIENT_SECRET": "search-secret-6", "SEARCH_REFRESH_TOKEN": "rt-secret-1"}
	return env, func(t *testing.T, r *result) {
		mu.Lock()
		// The first token was refused once: it was renewed with the
		// refresh token the first answer rotated in.
		wantStrings(t, "token requests", grants, "refresh_token:rt-secret-1", "refresh_token:rt-secret-2")
		mu.Unlock()
		r.wantColumn(t, "documents", "_source__title", "doc 1", "doc 2", "doc 3", "doc 4", "doc 5")
		var froms []string
		for _, h := range a.Requests("/api/documents/_search") {
			var b map[string]any
			_ = json.Unmarshal([]byte(h.Body), &b)
			froms = append(froms, fmt.Sprintf("%v/%v/%v", b["from"], b["size"], b["query"]))
		}
		slices.Sort(froms) // pages whose offsets are known may be fetched at once
		// Whichever resource asks first is served with at-1; the others'
		// first requests are refused and sent again with at-2, so one page
		// may have been requested twice.
		froms = slices.Compact(froms)
		wantStrings(t, "documents from/size/query", froms, "0/2/map[match:map[status:published]]", "2/2/map[match:map[status:published]]", "4/2/map[match:map[status:published]]")
		r.wantColumn(t, "articles", "title", "cursor pagination", "offset pagination", "page numbers")
		for _, h := range a.Requests("/api/articles/search") {
			if h.Method != http.MethodPost || h.Header.Get("X-Search-Client") != "restload" || h.Header.Get("Content-Type") != "application/json" {
				t.Errorf("articles request %s with headers %v, want POST with X-Search-Client and a JSON body", h.Method, h.Header)
			}
		}
		r.wantColumn(t, "exports", "searches", "12", "7")
		r.wantColumn(t, "service_status", "status__description", "All Systems Operational")
		for _, h := range status.Requests("") {
			if h.Header.Get("Authorization") != "" {
				t.Errorf("the status page on another host got credentials: %q", h.Header.Get("Authorization"))
			}
		}
		if len(status.Requests("/summary.json")) != 1 {
			t.Errorf("status page requests: %v", status.Requests(""))
		}
	}
}

// serveHeaderCursor: 5 audit events in pages of 2 with X-Next-Cursor, and
// sessions that accept only the session cookie.
func serveHeaderCursor(t *testing.T) (map[string]string, func(*testing.T, *result)) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/events":
			if r.Header.Get("X-Api-Key") != "audit-secret-7" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			from := 0
			if c := r.URL.Query().Get("cursor"); c != "" {
				from, _ = strconv.Atoi(strings.TrimPrefix(c, "e"))
			}
			var page []map[string]any
			for i := from; i < min(from+2, 5); i++ {
				page = append(page, map[string]any{"id": fmt.Sprintf("ev-%d", i+1), "action": "login", "actor": map[string]any{"email": fmt.Sprintf("u%d@acme.com", i+1)}})
			}
			if from+2 < 5 {
				w.Header().Set("X-Next-Cursor", fmt.Sprintf("e%d", from+2))
			}
			writeJSON(w, page)
		case "/v1/admin/sessions":
			c, err := r.Cookie("session")
			if err != nil || c.Value != "sess-secret-8" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			writeJSON(w, []map[string]any{{"id": "s1", "user": "ann"}, {"id": "s2", "user": "bo"}, {"id": "s3", "user": "cy"}})
		default:
			http.NotFound(w, r)
		}
	})
	env := map[string]string{"AUDIT_API_URL": a.URL + "/v1", "AUDIT_API_KEY": "audit-secret-7", "AUDIT_SESSION": "sess-secret-8"}
	return env, func(t *testing.T, r *result) {
		r.wantColumn(t, "audit_events", "id", "ev-1", "ev-2", "ev-3", "ev-4", "ev-5")
		r.wantColumn(t, "audit_events", "actor__email", "u1@acme.com", "u2@acme.com", "u3@acme.com", "u4@acme.com", "u5@acme.com")
		wantStrings(t, "events cursor", a.Params("/v1/events", "cursor"), "", "e2", "e4")
		wantStrings(t, "events limit", a.Params("/v1/events", "limit"), "2", "2", "2")
		for _, h := range a.Requests("/v1/events") {
			if h.Header.Get("Cookie") != "" {
				t.Errorf("events request carried a cookie: %q", h.Header.Get("Cookie"))
			}
		}
		r.wantColumn(t, "sessions", "user", "ann", "bo", "cy")
		for _, h := range a.Requests("/v1/admin/sessions") {
			if h.Header.Get("X-Api-Key") != "" || h.Header.Get("Cookie") != "session=sess-secret-8" {
				t.Errorf("sessions request headers %v: want only the session cookie", h.Header)
			}
		}
	}
}

// serveAuto: one endpoint per detection rule (see auto/pipeline.yaml).
func serveAuto(t *testing.T) (map[string]string, func(*testing.T, *result)) {
	var a *api
	numbered := func(w http.ResponseWriter, r *http.Request, prefix string) {
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		p = max(p, 1)
		var data []map[string]any
		for i := (p-1)*2 + 1; i <= min(p*2, 3); i++ {
			data = append(data, map[string]any{"id": i, "name": fmt.Sprintf("%s %d", prefix, i)})
		}
		writeJSON(w, map[string]any{"page": p, "per_page": 2, "total": 3, "total_pages": 2, "data": data})
	}
	a = newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch r.URL.Path {
		case "/colors":
			numbered(w, r, "color")
		case "/users":
			numbered(w, r, "user")
		case "/articles":
			if q.Get("page") == "" {
				writeJSON(w, map[string]any{"items": []map[string]any{{"id": 1}, {"id": 2}}, "links": map[string]any{"next": "/articles?page=2"}})
				return
			}
			writeJSON(w, map[string]any{"items": []map[string]any{{"id": 3}}, "links": map[string]any{"next": nil}})
		case "/events":
			if q.Get("after") == "" {
				w.Header().Set("Link", fmt.Sprintf(`<%s/events?after=2>; rel="next"`, a.URL))
				writeJSON(w, []map[string]any{{"id": 1}, {"id": 2}})
				return
			}
			writeJSON(w, []map[string]any{{"id": 3}})
		case "/logs":
			if q.Get("cursor") == "" {
				writeJSON(w, map[string]any{"records": []map[string]any{{"id": 1}, {"id": 2}}, "next_cursor": "bG9nMg"})
				return
			}
			writeJSON(w, map[string]any{"records": []map[string]any{{"id": 3}}, "next_cursor": nil})
		case "/regions":
			writeJSON(w, map[string]any{"response": map[string]any{"regions": map[string]any{"list": []map[string]any{{"id": "eu"}, {"id": "us"}}}}})
		case "/health":
			writeJSON(w, map[string]any{"status": "ok", "version": "1.4.2"})
		default:
			http.NotFound(w, r)
		}
	})
	return map[string]string{"AUTO_API_URL": a.URL}, func(t *testing.T, r *result) {
		r.wantColumn(t, "colors", "name", "color 1", "color 2", "color 3")
		wantStrings(t, "colors pages", a.Params("/colors", "page"), "", "2")
		r.wantColumn(t, "users", "name", "user 1", "user 2", "user 3")
		wantStrings(t, "users pages", a.Params("/users", "page"), "1", "2")
		for _, tc := range []struct {
			table, path, param string
			want               []string
		}{
			{"articles", "/articles", "page", []string{"", "2"}},
			{"events", "/events", "after", []string{"", "2"}},
			{"logs", "/logs", "cursor", []string{"", "bG9nMg"}},
		} {
			r.wantColumn(t, tc.table, "id", "1", "2", "3")
			wantStrings(t, tc.path+" "+tc.param, a.Params(tc.path, tc.param), tc.want...)
		}
		r.wantColumn(t, "regions", "id", "eu", "us")
		r.wantColumn(t, "health", "version", "1.4.2")
		for _, res := range []string{"regions", "health"} {
			if !strings.Contains(r.logs, "none detected") || !strings.Contains(r.logs, "resource="+res) {
				t.Errorf("no single-page warning for %s in the log:\n%s", res, r.logs)
			}
		}
	}
}
