package mockapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"
)

// walk pages through resource the way a client following nextPage would and
// returns every entry served, in order. It fails on a page count far beyond
// what the resource needs, so a paging loop cannot hang the test.
func walk(t *testing.T, s *Server, resource string, limit int) []map[string]any {
	t.Helper()
	tok := accessToken(t, s)
	var all []map[string]any
	page := ""
	if s.opts.Flavor == FlavorAnalytics {
		page = "1"
	}
	for n := 1; ; n++ {
		if n > s.Count(resource)/limit+3 {
			t.Fatalf("%s: still paging after %d pages", resource, n)
		}
		q := url.Values{"limit": {strconv.Itoa(limit)}}
		if page != "" {
			q.Set("page", page)
		}
		e := decodeEnvelope(t, get(t, s, tok, "/v2/"+resource+"?"+q.Encode()))
		if e.Total != s.Count(resource) {
			t.Fatalf("%s page %d: total %d, want %d", resource, n, e.Total, s.Count(resource))
		}
		if len(e.Entries) > limit {
			t.Fatalf("%s page %d: %d entries for limit %d", resource, n, len(e.Entries), limit)
		}
		all = append(all, e.Entries...)
		if e.HasMore != (e.NextPage != nil) {
			t.Fatalf("%s page %d: hasMore %v but nextPage %v", resource, n, e.HasMore, e.NextPage)
		}
		if e.NextPage == nil {
			return all
		}
		if s.opts.Flavor == FlavorAnalytics && *e.NextPage != strconv.Itoa(n+1) {
			t.Fatalf("%s page %d: nextPage %q, want %q", resource, n, *e.NextPage, strconv.Itoa(n+1))
		}
		page = *e.NextPage
	}
}

func TestPagingWalksEveryRecordOnce(t *testing.T) {
	for _, flavor := range []string{FlavorAnalytics, FlavorSigma} {
		for _, tc := range []struct{ count, limit int }{{0, 10}, {1, 10}, {10, 10}, {11, 10}, {137, 50}, {250, 1000}, {100, 1}} {
			t.Run(fmt.Sprintf("%s/%d_by_%d", flavor, tc.count, tc.limit), func(t *testing.T) {
				s := New(Options{Flavor: flavor, RecordsPer: map[string]int{"workbooks": tc.count}})
				got := walk(t, s, "workbooks", tc.limit)
				if len(got) != tc.count {
					t.Fatalf("walked %d records, want %d", len(got), tc.count)
				}
				for i, rec := range got {
					if want := s.Record("workbooks", i); !reflect.DeepEqual(rec, want) {
						t.Fatalf("entry %d differs from Record:\n got %v\nwant %v", i, rec, want)
					}
				}
			})
		}
	}
}

func TestPagingWithShiftDuplicatesButMissesNothing(t *testing.T) {
	for _, flavor := range []string{FlavorAnalytics, FlavorSigma} {
		for _, tc := range []struct{ count, limit, shift int }{{100, 10, 3}, {101, 25, 5}, {8, 10, 3}, {30, 2, 3}, {10, 1, 3}} {
			t.Run(fmt.Sprintf("%s/%d_by_%d_shift_%d", flavor, tc.count, tc.limit, tc.shift), func(t *testing.T) {
				s := New(Options{Flavor: flavor, Records: tc.count, ShiftRecords: true, Shift: tc.shift})
				key := s.KeyField("files")
				index := map[string]int{}
				for i := range tc.count {
					index[s.Record("files", i)[key].(string)] = i
				}
				served := make([]int, tc.count)
				for _, rec := range walk(t, s, "files", tc.limit) {
					i, ok := index[rec[key].(string)]
					if !ok {
						t.Fatalf("served unknown record %v", rec[key])
					}
					served[i]++
				}
				dups := 0
				for i, n := range served {
					if n == 0 {
						t.Errorf("record %d never served", i)
					}
					dups += n - 1
				}
				// Only the first page boundary repeats records: page 2 starts
				// Shift records early (at most limit-1), later pages follow on
				// from it.
				wantDups := 0
				if tc.count > tc.limit {
					wantDups = min(tc.shift, tc.limit-1)
				}
				if dups != wantDups {
					t.Errorf("%d duplicates, want %d", dups, wantDups)
				}
			})
		}
	}
}

func TestAnalyticsEnvelope(t *testing.T) {
	s := New(Options{Records: 120})
	tok := accessToken(t, s)
	tests := []struct {
		query    string
		entries  int
		first    int
		nextPage any
	}{
		{"", 50, 0, "2"},
		{"?page=2", 50, 50, "3"},
		{"?page=3", 20, 100, nil},
		{"?page=4", 0, 0, nil},
		{"?page=1&limit=120", 120, 0, nil},
		{"?page=99999999999", 0, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			rec := get(t, s, tok, "/v2/datasets"+tc.query)
			var raw map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
				t.Fatal(err)
			}
			if raw["nextPage"] != tc.nextPage || raw["total"] != 120.0 || raw["hasMore"] != (tc.nextPage != nil) {
				t.Errorf("envelope nextPage=%v total=%v hasMore=%v", raw["nextPage"], raw["total"], raw["hasMore"])
			}
			entries := raw["entries"].([]any)
			if len(entries) != tc.entries {
				t.Fatalf("%d entries, want %d", len(entries), tc.entries)
			}
			if tc.entries > 0 && entries[0].(map[string]any)["id"] != s.Record("datasets", tc.first)["id"] {
				t.Errorf("first entry is not record %d", tc.first)
			}
		})
	}
}

func TestSigmaEnvelopeAndKeys(t *testing.T) {
	s := New(Options{Flavor: FlavorSigma, Records: 30})
	tok := accessToken(t, s)
	for _, res := range s.Resources() {
		t.Run(res, func(t *testing.T) {
			e := decodeEnvelope(t, get(t, s, tok, "/v2/"+res+"?limit=20"))
			if len(e.Entries) != 20 || e.Total != 30 || !e.HasMore || e.NextPage == nil {
				t.Fatalf("first page: %d entries, total %d, hasMore %v, nextPage %v", len(e.Entries), e.Total, e.HasMore, e.NextPage)
			}
			key := s.KeyField(res)
			for _, rec := range e.Entries {
				if _, ok := rec[key].(string); !ok {
					t.Fatalf("record lacks key %q: %v", key, rec)
				}
				if _, ok := rec["id"]; ok && key != "id" {
					t.Fatalf("record has an id field besides %q", key)
				}
			}
			if _, err := strconv.Atoi(*e.NextPage); err == nil {
				t.Errorf("nextPage %q is a plain number, want an opaque token", *e.NextPage)
			}
			e2 := decodeEnvelope(t, get(t, s, tok, "/v2/"+res+"?limit=20&page="+url.QueryEscape(*e.NextPage)))
			if len(e2.Entries) != 10 || e2.HasMore || e2.NextPage != nil {
				t.Errorf("last page: %d entries, hasMore %v, nextPage %v", len(e2.Entries), e2.HasMore, e2.NextPage)
			}
		})
	}
	want := map[string]string{"files": "id", "connections": "connectionId", "datasets": "datasetId", "members": "memberId",
		"teams": "teamId", "templates": "templateId", "workspaces": "workspaceId", "workbooks": "workbookId"}
	for res, key := range want {
		if got := s.KeyField(res); got != key {
			t.Errorf("KeyField(%q) = %q, want %q", res, got, key)
		}
		if got := New(Options{}).KeyField(res); got != "id" {
			t.Errorf("analytics KeyField(%q) = %q, want id", res, got)
		}
	}
}

func TestSigmaBareListTrap(t *testing.T) {
	s := New(Options{Flavor: FlavorSigma, Records: 75})
	tok := accessToken(t, s)
	for _, res := range s.Resources() {
		rec := get(t, s, tok, "/v2/"+res)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", res, rec.Code)
		}
		trap := res == "members" || res == "teams" || res == "workspaces"
		if !trap {
			e := decodeEnvelope(t, rec)
			if len(e.Entries) != DefaultLimit {
				t.Errorf("%s without limit: %d entries, want the default %d", res, len(e.Entries), DefaultLimit)
			}
			continue
		}
		var list []map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
			t.Fatalf("%s without limit: want a bare JSON list: %v", res, err)
		}
		if len(list) != 75 {
			t.Fatalf("%s bare list: %d records, want all 75", res, len(list))
		}
		if !reflect.DeepEqual(list[74], s.Record(res, 74)) {
			t.Errorf("%s bare list: last record differs from Record", res)
		}
	}
}

func TestBareListStreamsLargeResources(t *testing.T) {
	s := New(Options{Flavor: FlavorSigma, RecordsPer: map[string]int{"teams": 3000}})
	rec := get(t, s, accessToken(t, s), "/v2/teams?page=ignored")
	var list []json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list) != 3000 {
		t.Fatalf("got %d records, err %v", len(list), err)
	}
}

func TestBadRequests(t *testing.T) {
	sigmaTok := func(s string) string { return url.QueryEscape(base64.RawURLEncoding.EncodeToString([]byte(s))) }
	tests := []struct {
		flavor, path string
		code         int
		errCode      string
	}{
		{FlavorAnalytics, "/v2/files?limit=1001", 400, "invalid_limit"},
		{FlavorAnalytics, "/v2/files?limit=0", 400, "invalid_limit"},
		{FlavorAnalytics, "/v2/files?limit=abc", 400, "invalid_limit"},
		{FlavorAnalytics, "/v2/files?page=0", 400, "invalid_page"},
		{FlavorAnalytics, "/v2/files?page=x", 400, "invalid_page"},
		{FlavorAnalytics, "/v2/nope", 404, "not_found"},
		{FlavorAnalytics, "/v1/files", 404, "not_found"},
		{FlavorSigma, "/v2/files?limit=1001", 400, "invalid_limit"},
		{FlavorSigma, "/v2/members?limit=5000", 400, "invalid_limit"},
		{FlavorSigma, "/v2/files?limit=10&page=2", 400, "invalid_page"},
		{FlavorSigma, "/v2/files?limit=10&page=%21%21", 400, "invalid_page"},
		{FlavorSigma, "/v2/files?limit=10&page=" + sigmaTok("teams:10"), 400, "invalid_page"},
		{FlavorSigma, "/v2/files?limit=10&page=" + sigmaTok("files:999999"), 400, "invalid_page"},
		{FlavorSigma, "/v2/files?limit=10&page=" + sigmaTok("files:10"), 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.flavor+tc.path, func(t *testing.T) {
			s := New(Options{Flavor: tc.flavor, Records: 100})
			rec := get(t, s, accessToken(t, s), tc.path)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d (body %s)", rec.Code, tc.code, rec.Body)
			}
			if tc.errCode != "" {
				if got := errorCode(t, rec); got != tc.errCode {
					t.Errorf("error %q, want %q", got, tc.errCode)
				}
			}
		})
	}
}

func TestMaxLimitOption(t *testing.T) {
	s := New(Options{MaxLimit: 5000, Records: 3000})
	e := decodeEnvelope(t, get(t, s, accessToken(t, s), "/v2/files?limit=5000"))
	if len(e.Entries) != 3000 || e.HasMore {
		t.Errorf("%d entries, hasMore %v", len(e.Entries), e.HasMore)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	s := New(Options{})
	if rec := get(t, s, "", "/v2/auth/token"); rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "POST" {
		t.Errorf("GET token endpoint: status %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	if rec := postToken(t, s, url.Values{}); rec.Code != http.StatusUnauthorized {
		t.Errorf("POST token without credentials: status %d", rec.Code)
	}
}
