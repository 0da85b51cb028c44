package paginate

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCursorStops(t *testing.T) {
	no := false
	cases := []struct {
		name    string
		cfg     Config
		body    string
		records int
		want    bool
	}{
		{"cursor present", Config{CursorPath: "next"}, `{"next":"c2","data":[1]}`, 1, true},
		{"cursor null", Config{CursorPath: "next"}, `{"next":null,"data":[1]}`, 1, false},
		{"has_more false wins over a cursor", Config{CursorPath: "data[-1].id", HasMorePath: "has_more"}, `{"has_more":false,"data":[{"id":"x"}]}`, 1, false},
		{"has_more true follows the cursor", Config{CursorPath: "data[-1].id", HasMorePath: "has_more"}, `{"has_more":true,"data":[{"id":"x"}]}`, 1, true},
		{"empty page stops by default", Config{CursorPath: "next"}, `{"next":"c2","data":[]}`, 0, false},
		{"empty page goes on when told", Config{CursorPath: "next", StopAfterEmptyPage: &no}, `{"next":"c2","data":[]}`, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Type = "cursor"
			p, err := New(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(strings.NewReader(tc.body))
			dec.UseNumber()
			var body any
			if err := dec.Decode(&body); err != nil {
				t.Fatal(err)
			}
			if err := p.Update(&Response{StatusCode: 200, Body: body, Records: tc.records, Raw: []byte(tc.body)}); err != nil {
				t.Fatal(err)
			}
			if p.HasNext() != tc.want {
				t.Errorf("HasNext = %v, want %v", p.HasNext(), tc.want)
			}
		})
	}
}
