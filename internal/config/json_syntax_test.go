package config

import (
	"errors"
	"testing"
)

// TestJSONSyntaxErrorHasPosition: YAML's parser reports JSON mistakes such
// as an unclosed list without a line; a .json pipeline gets encoding/json's
// account, at file:line:col.
func TestJSONSyntaxErrorHasPosition(t *testing.T) {
	src := "{\n  \"source\": {\n    \"client\": {\"base_url\": \"http://x\"},\n    \"resources\": [}\n}\n"
	_, err := Parse("p.json", []byte(src), LoadOptions{})
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("err = %v, want one config error", err)
	}
	want := "p.json:4:19: invalid JSON: invalid character '}' looking for beginning of value"
	if got := errs[0].Error(); got != want {
		t.Errorf("error\n got %s\nwant %s", got, want)
	}
}
