package files

import (
	"strings"
	"testing"
	"time"
)

// TestLayoutRender checks each kind of placeholder against dlt's meaning.
func TestLayoutRender(t *testing.T) {
	v := &layoutVars{schema: "shop", table: "orders", loadID: "1714979289.000123", fileID: "abc", ext: "parquet",
		at: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
	cases := []struct{ layout, want string }{
		{DefaultLayout, "orders/1714979289.000123.abc.parquet"},
		{"{schema_name}/{table_name}/{curr_date}/{file_id}.{ext}", "shop/orders/2024-05-06/abc.parquet"},
		{"{table_name}/{YYYY}/{MM}/{DD}/{HH}{mm}-{Q}-{ddd}-{dow}-{file_id}", "orders/2024/05/06/0708-2-Mon-mon-abc"},
		{"{table_name}/{year}{month}{day}{hour}{minute}/{timestamp}.{timestamp_ms}.{file_id}", "orders/202405060708/1714979289.1714979289000.abc"},
		{"{table_name}/{YY}{M}{D}{H}{m}{dddd}/{load_package_timestamp}{file_id}", "orders/245678Monday/1714979289abc"},
	}
	for _, c := range cases {
		l, err := parseLayout(c.layout)
		if err != nil {
			t.Errorf("parse %q: %v", c.layout, err)
			continue
		}
		if got := l.render(v); got != c.want {
			t.Errorf("%q renders %q, want %q", c.layout, got, c.want)
		}
	}
}

// FuzzParseLayout: a layout that parses renders to a key inside the
// dataset's folder: relative, no empty, hidden or parent segments.
func FuzzParseLayout(f *testing.F) {
	for _, s := range []string{DefaultLayout, "{table_name}/{curr_date}/{file_id}", "{table_name}}{", "{{table_name}}/{file_id}", "a/./{table_name}{file_id}", "/{table_name}/{file_id}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := parseLayout(s)
		if err != nil {
			return
		}
		key := l.render(&layoutVars{schema: "ds", table: "t", loadID: "1.2", fileID: "f", ext: "parquet", at: time.Unix(0, 0).UTC()})
		for _, seg := range strings.Split(key, "/") {
			if seg == "" || seg == ".." || strings.HasPrefix(seg, ".") {
				t.Fatalf("layout %q renders %q: segment %q leaves or hides in the dataset folder", s, key, seg)
			}
		}
	})
}
