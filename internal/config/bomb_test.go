package config

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// aliasBomb is a "billion laughs" mapping, one key a line: each level is
// a list of ten aliases of the level above, so x<levels> stands for
// 10^levels values.
func aliasBomb(levels int, indent string) string {
	var b strings.Builder
	b.WriteString(indent + "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "%sx%d: &a%d [", indent, i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

// TestAliasBomb: a billion laughs document, its anchors inside a value that
// is decoded or outside of any, used in plain values or through merge keys, is refused quickly with an error at the alias that
// went over the limit, instead of using all memory.
func TestAliasBomb(t *testing.T) {
	const head = "pipeline: {name: p}\nsource:\n  client: {base_url: https://api.example.com}\n"
	tests := map[string]string{
		"inline json": head + "  resources:\n    - name: r\n      endpoint:\n        json:\n" + aliasBomb(9, "          "),
		"json":        "anchors:\n" + aliasBomb(9, "  ") + head + "  resources:\n    - name: r\n      endpoint:\n        json: *a9\n",
		"params":      "anchors:\n" + aliasBomb(9, "  ") + head + "  resources:\n    - name: r\n      endpoint:\n        params: {p: *a9}\n",
		"merge":       "anchors:\n" + aliasBomb(9, "  ") + head + "  resources:\n    - name: r\n      endpoint:\n        json: {<<: *a9}\n",
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse("bomb.yaml", []byte(doc), LoadOptions{LookupEnv: env()})
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Parse took %v", d)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v, want config Errors", err)
			}
			if !regexp.MustCompile(`(?m)^bomb\.yaml:\d+:\d+: .*YAML aliases expand to more than \d+ values`).MatchString(err.Error()) {
				t.Errorf("err = %v, want the alias limit named at a file:line:col", err)
			}
		})
	}
}

// TestParseContextCancelled: a context cancelled while a (large) document
// is decoded stops the decoding at once, with the context's error.
func TestParseContextCancelled(t *testing.T) {
	const base = "pipeline: {name: p}\nsource:\n  client: {base_url: https://api.example.com}\n  resources:\n    - name: r\n      endpoint:\n        json: [%s]\n"
	doc := fmt.Sprintf(base, strings.Repeat("{a: 1, b: [1, 2, 3]}, ", 20_000))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	_, err := ParseContext(ctx, "big.yaml", []byte(doc), LoadOptions{LookupEnv: env()})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("ParseContext took %v after cancel", d)
	}
	if _, err := Parse("big.yaml", []byte(doc), LoadOptions{LookupEnv: env()}); err != nil {
		t.Errorf("the same document without cancel: %v", err)
	}
	// Cancelled in the middle of decoding (the third time the decoder
	// looks): it stops there.
	mid := &endsAfter{Context: context.Background(), looks: 3}
	if _, err := ParseContext(mid, "big.yaml", []byte(doc), LoadOptions{LookupEnv: env()}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if mid.looks != 0 {
		t.Errorf("the decoder went on after the context ended (%d looks left)", mid.looks)
	}
}

// endsAfter is a context that ends on the looks-th call of Err.
type endsAfter struct {
	context.Context
	looks int
}

func (c *endsAfter) Err() error {
	c.looks--
	if c.looks <= 0 {
		return context.Canceled
	}
	return nil
}
