package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// dupKeys returns the keys that occur twice in one object of the JSON
// value in line, at any depth.
func dupKeys(line string) ([]string, error) {
	d := json.NewDecoder(strings.NewReader(line))
	var dups []string
	var value func() error
	value = func() error {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return err
				}
				key := fmt.Sprint(k)
				if seen[key] {
					dups = append(dups, key)
				}
				seen[key] = true
				if err := value(); err != nil {
					return err
				}
			}
			_, err = d.Token()
			return err
		case json.Delim('['):
			for d.More() {
				if err := value(); err != nil {
					return err
				}
			}
			_, err = d.Token()
			return err
		}
		return nil
	}
	if err := value(); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("more after the object")
	}
	return dups, nil
}

func TestDupKeys(t *testing.T) {
	for line, want := range map[string]string{
		`{"a":1,"b":{"c":1,"c":2},"a":3}`: "c,a",
		`{"a":[{"x":1},{"x":2}]}`:         "",
	} {
		got, err := dupKeys(line)
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("dupKeys(%s) = %v, %v; want %s", line, got, err, want)
		}
	}
}

// TestDebugLogsExplain: --log-level debug logs each request and response
// (method, redacted URL, status, bytes, duration, attempt) and each
// pagination decision in words, and no JSON log line repeats a key
// (issue 13, part 3).
func TestDebugLogsExplain(t *testing.T) {
	srv, _ := newAPIUnderTest(t)
	dir := t.TempDir()
	file := writeShopPipeline(t, dir, srv, "entries")
	code, out, errOut := run(t, "run", file, "--dest", "duckdb:"+filepath.Join(dir, "shop.duckdb"), "--progress", "none",
		"--log-format", "json", "--log-level", "debug", "--resource", "items")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var responses, decisions []map[string]any
	for _, l := range strings.Split(errOut, "\n") {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		dups, err := dupKeys(l)
		if err != nil {
			t.Fatalf("bad JSON log line %q: %v", l, err)
		}
		if len(dups) > 0 {
			t.Errorf("log line repeats %v: %s", dups, l)
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		switch rec["msg"] {
		case "response":
			responses = append(responses, rec)
		case "pagination":
			decisions = append(decisions, rec)
		}
	}
	if len(responses) != 3 {
		t.Fatalf("%d response lines, want 3 (one per page):\n%s", len(responses), errOut)
	}
	r := responses[1]
	if r["resource"] != "items" || r["method"] != "GET" || r["status"] != float64(200) || r["attempt"] != float64(1) ||
		!strings.Contains(fmt.Sprint(r["url"]), "/items?limit=10&page=2") || r["bytes"].(float64) < 100 || r["duration"] == nil {
		t.Errorf("response line lacks method, url, status, bytes, duration or attempt: %v", r)
	}
	var words []string
	for _, d := range decisions {
		words = append(words, fmt.Sprint(d["decision"]))
	}
	want := "next: page=2 (hasMore is true)|next: page=3 (hasMore is true)|stop: hasMore is false"
	if got := strings.Join(words, "|"); got != want {
		t.Errorf("pagination decisions %q, want %q", got, want)
	}
	if !bytes.Contains([]byte(errOut), []byte(`"msg":"request"`)) {
		t.Errorf("no request lines:\n%s", errOut)
	}
}
