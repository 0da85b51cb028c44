package files_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/files"
	"github.com/restload/restload/internal/schema"
)

// sinkS3 answers S3 uploads (single and multipart) and throws the bytes
// away, so that what stays on the heap during a test is the uploader's.
type sinkS3 struct {
	parts, bytes, maxPart atomic.Int64
}

func (s *sinkS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPost && q.Has("uploads"):
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>`)
	case r.Method == http.MethodPut:
		n, _ := io.Copy(io.Discard, r.Body)
		if q.Has("partNumber") {
			s.parts.Add(1)
			for m := s.maxPart.Load(); n > m && !s.maxPart.CompareAndSwap(m, n); m = s.maxPart.Load() {
			}
		}
		s.bytes.Add(n)
		w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
	case r.Method == http.MethodPost && q.Has("uploadId"):
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag>"x-1"</ETag></CompleteMultipartUploadResult>`)
	default:
		http.NotFound(w, r)
	}
}

// bigRows yields n rows of one 4 KiB text value, without allocating.
type bigRows struct {
	n, i int
	row  []any
}

func (b *bigRows) Next() bool    { b.i++; return b.i <= b.n }
func (b *bigRows) Values() []any { return b.row }
func (b *bigRows) Err() error    { return nil }

// TestObjectsUploadMemoryBounded writes a 96 MiB jsonl file to S3 and
// checks that it went up in parts of PartSize and that the heap in use
// never grew by 64 MiB while it did (typically 30-45 MiB: the uploader's
// part buffers and garbage not yet collected; 350 MiB when a part holds
// the whole file): the file is streamed, not held.
func TestObjectsUploadMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 96 MiB")
	}
	sink := &sinkS3{}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	ctx := context.Background()
	d, err := destination.Open(ctx, "jsonl:s3://b/p?endpoint="+srv.URL+"&region=us-east-1&use_path_style=true&anonymous=true", "ds")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tb := &schema.Table{Name: "big", Columns: []*schema.Column{{Name: "v", Type: schema.Text}}}
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := tx.Apply(ctx, []schema.Change{{Kind: schema.AddTable, Table: tb}}); err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	})
	const rows = 24 << 10 // x 4 KiB = 96 MiB
	n, err := tx.Write(ctx, tb, destination.ModeAppend, &bigRows{n: rows, row: []any{strings.Repeat("x", 4096)}})
	close(stop)
	wg.Wait()
	if err != nil || n != rows {
		t.Fatalf("write: %d rows, %v", n, err)
	}
	if got := sink.bytes.Load(); got < 96<<20 {
		t.Fatalf("the store received %d bytes, want at least 96 MiB", got)
	}
	if p := sink.parts.Load(); p < 96/5 || sink.maxPart.Load() > int64(files.PartSize)+64<<10 {
		t.Errorf("%d parts of at most %d bytes; want parts of PartSize (%d)", p, sink.maxPart.Load(), files.PartSize)
	}
	grew := int64(peak.Load()) - int64(base)
	t.Logf("uploaded %d MiB in %d parts; heap in use grew by %.1f MiB at most", sink.bytes.Load()>>20, sink.parts.Load(), float64(grew)/(1<<20))
	if limit := int64(64 << 20); grew > limit {
		t.Errorf("heap in use grew by %d MiB while uploading 96 MiB, want at most %d MiB", grew>>20, limit>>20)
	}
}
