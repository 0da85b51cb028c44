package files_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/schema"
)

// fakeS3 is an S3-compatible server in this process (gofakes3 with its
// in-memory backend) on 127.0.0.1. Requests pass through fault, when set.
type fakeS3 struct {
	srv     *httptest.Server
	backend *s3mem.Backend
	buckets atomic.Int64
	fault   atomic.Pointer[func(w http.ResponseWriter, r *http.Request, next http.Handler)]
}

func startFakeS3(t testing.TB) *fakeS3 {
	t.Helper()
	f := &fakeS3{backend: s3mem.New()}
	h := gofakes3.New(f.backend).Server()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fp := f.fault.Load(); fp != nil {
			(*fp)(w, r, h)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// bucket creates a fresh bucket and returns its URL with prefix and query
// (extra, "&k=v..."), as a user writes it after "parquet:".
func (f *fakeS3) bucket(t testing.TB, prefix, extra string) string {
	t.Helper()
	name := fmt.Sprintf("bucket%d", f.buckets.Add(1))
	if err := f.backend.CreateBucket(name); err != nil {
		t.Fatal(err)
	}
	return "s3://" + name + "/" + prefix + "?endpoint=" + url.QueryEscape(f.srv.URL) + "&region=us-east-1&use_path_style=true&anonymous=true" + extra
}

// keys lists a bucket's object keys, sorted.
func (f *fakeS3) keys(t testing.TB, bucketURL string) []string {
	t.Helper()
	name := strings.TrimPrefix(bucketURL, "s3://")
	name = name[:strings.IndexAny(name, "/?")]
	res, err := f.backend.ListBucket(name, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range res.Contents {
		out = append(out, c.Key)
	}
	sort.Strings(out)
	return out
}

func openDest(t testing.TB, url, dataset string) destination.Destination {
	t.Helper()
	d, err := destination.Open(context.Background(), url, dataset)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestObjectsConformance runs the destination suite for parquet and jsonl
// on the fake S3, and for parquet through file:// URLs (the same code).
func TestObjectsConformance(t *testing.T) {
	s3 := startFakeS3(t)
	for _, format := range []string{"parquet", "jsonl"} {
		t.Run(format+"/s3", func(t *testing.T) {
			destinationtest.Run(t, func(t *testing.T, dataset string) destination.Destination {
				return openDest(t, format+":"+s3.bucket(t, "lake/raw", ""), dataset)
			}, destinationtest.Caps{Merge: false, IsolatedRead: true})
		})
	}
	t.Run("parquet/file", func(t *testing.T) {
		destinationtest.Run(t, func(t *testing.T, dataset string) destination.Destination {
			return openDest(t, "parquet:file://"+filepath.ToSlash(t.TempDir()), dataset)
		}, destinationtest.Caps{Merge: false, IsolatedRead: true})
	})
}

var eventsTable = &schema.Table{Name: "events", Columns: []*schema.Column{{Name: schema.ColID, Type: schema.Text}, {Name: "n", Type: schema.BigInt}}}

// TestObjectsLayout checks the keys a user finds in the bucket: dlt's
// default layout <prefix>/<dataset>/<table>/<load_id>.<file_id>.<ext>, a
// layout given in the URL, and the commit records under .restload/.
func TestObjectsLayout(t *testing.T) {
	s3 := startFakeS3(t)
	cases := []struct {
		name, prefix, query string
		want                string // pattern: path.Match against each data file key
	}{
		{"default", "lake", "", "lake/shop/events/[0-9]*.[0-9]*.*.parquet"},
		{"no prefix", "", "", "shop/events/[0-9]*.[0-9]*.*.parquet"},
		{"dated", "lake/x", "&layout=" + url.QueryEscape("{table_name}/{YYYY}-{MM}-{DD}/{schema_name}-{load_id}.{file_id}.{ext}"), "lake/x/shop/events/[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]/shop-[0-9]*.*.parquet"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := "parquet:" + s3.bucket(t, c.prefix, c.query)
			d := openDest(t, u, "shop")
			for i := range 2 {
				destinationtest.CommitRows(t, d, eventsTable, []schema.Change{{Kind: schema.AddTable, Table: eventsTable}}, destination.ModeAppend, []any{fmt.Sprint(i), int64(i)})
			}
			var data, commits []string
			for _, k := range s3.keys(t, strings.TrimPrefix(u, "parquet:")) {
				if strings.Contains(k, "/.restload/commits/") {
					commits = append(commits, k)
				} else {
					data = append(data, k)
				}
			}
			if len(data) != 2 {
				t.Fatalf("data files %v, want 2 (one per load)", data)
			}
			for _, k := range data {
				if ok, _ := filepath.Match(c.want, k); !ok {
					t.Errorf("data file %q does not match %q", k, c.want)
				}
			}
			if len(commits) != 2 || !strings.HasSuffix(commits[1], "00000000000000000002.json") {
				t.Errorf("commit records %v, want records 1 and 2", commits)
			}
			if rows := destinationtest.ReadAll(t, d, "events"); len(rows) != 2 {
				t.Errorf("read %d rows, want 2", len(rows))
			}
		})
	}
}

// TestObjectsBadURL checks the errors for URLs and layouts that cannot work.
func TestObjectsBadURL(t *testing.T) {
	s3 := startFakeS3(t)
	cases := []struct{ url, want string }{
		{"parquet:" + s3.bucket(t, "p", "&layout="+url.QueryEscape("{table_name}/{load_id}.{ext}")), "must contain {file_id}"},
		{"parquet:" + s3.bucket(t, "p", "&layout="+url.QueryEscape("{table_name}/{nope}.{file_id}")), "unknown placeholder {nope}"},
		{"parquet:" + s3.bucket(t, "p", "&layout="+url.QueryEscape("../{table_name}/{file_id}")), "relative path segment"},
		{"jsonl:s3:///prefix", "no bucket"},
		{"parquet:file://", "want file:///absolute/dir"},
		{"parquet:nosuch://b/p", "open bucket"},
	}
	for _, c := range cases {
		_, err := destination.Open(context.Background(), c.url, "ds")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("open %s: error %v, want one containing %q", c.url, err, c.want)
		}
	}
}
