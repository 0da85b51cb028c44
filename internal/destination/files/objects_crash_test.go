package files_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/destination/destinationtest"
	"github.com/restload/restload/internal/schema"
)

// isUpload reports a request that creates an object or a part of one.
func isUpload(r *http.Request) bool {
	return r.Method == http.MethodPut || r.Method == http.MethodPost
}

// failUploadsAfter lets n uploads through, then refuses every upload as a
// store gone away would (403: not retried), until the fault is cleared.
func (f *fakeS3) failUploadsAfter(n int64) {
	var seen atomic.Int64
	fn := func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if isUpload(r) && seen.Add(1) > n {
			http.Error(w, `<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>injected crash</Message></Error>`, http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	}
	f.fault.Store(&fn)
}

// loseResponse passes uploads whose key contains part to the store, then
// answers 500 as if the response was lost: the client retries a request
// that already took effect.
func (f *fakeS3) loseResponse(part string) {
	var once atomic.Bool
	fn := func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if isUpload(r) && strings.Contains(r.URL.Path, part) && once.CompareAndSwap(false, true) {
			next.ServeHTTP(discardWriter{h: http.Header{}}, r)
			http.Error(w, `<?xml version="1.0"?><Error><Code>InternalError</Code><Message>lost</Message></Error>`, http.StatusInternalServerError)
			return
		}
		next.ServeHTTP(w, r)
	}
	f.fault.Store(&fn)
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

var (
	crashA = &schema.Table{Name: "a", Columns: []*schema.Column{{Name: schema.ColID, Type: schema.Text}, {Name: "n", Type: schema.BigInt}}}
	crashB = &schema.Table{Name: "b", Columns: []*schema.Column{{Name: schema.ColID, Type: schema.Text}, {Name: "n", Type: schema.BigInt}}}
)

// crashSetup starts a fake S3 with dataset ds in format on it, whose first
// load put a row n=1 in each of a and b.
func crashSetup(t *testing.T, format string) (*fakeS3, string, destination.Destination) {
	s3 := startFakeS3(t)
	u := format + ":" + s3.bucket(t, "lake", "")
	d := openDest(t, u, "ds")
	destinationtest.CommitRows(t, d, crashA, []schema.Change{{Kind: schema.AddTable, Table: crashA}, {Kind: schema.AddTable, Table: crashB}}, destination.ModeAppend, []any{"1", int64(1)})
	destinationtest.CommitRows(t, d, crashB, nil, destination.ModeAppend, []any{"1", int64(1)})
	return s3, u, d
}

// load2 is the second load: a row in each of a and b.
func load2(ctx context.Context, d destination.Destination) error {
	tx, err := d.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	for _, tb := range []*schema.Table{crashA, crashB} {
		if _, err := tx.Write(ctx, tb, destination.ModeAppend, destinationtest.NewRows([]any{"2", int64(2)})); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

func wantNs(t *testing.T, d destination.Destination, what string, want ...int64) {
	t.Helper()
	for _, tb := range []string{"a", "b"} {
		rows := destinationtest.ReadAll(t, d, tb)
		var got []int64
		for _, r := range rows {
			n, _ := r["n"].(int64)
			got = append(got, n)
		}
		if len(got) != len(want) {
			t.Errorf("%s: table %s has n=%v, want %v", what, tb, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: table %s has n=%v, want %v", what, tb, got, want)
				break
			}
		}
	}
}

// TestObjectsCrashBetweenUploads kills a load's store after each of its
// uploads in turn (data file of a, data file of b, the commit record):
// readers meanwhile see the previous load whole, and the load run again
// lands each row exactly once. A lost response to the commit record's
// write (the record was written, the client retries) commits once.
func TestObjectsCrashBetweenUploads(t *testing.T) {
	ctx := context.Background()
	for after := int64(0); after <= 2; after++ {
		t.Run("uploads before the crash="+string(rune('0'+after)), func(t *testing.T) {
			s3, u, _ := crashSetup(t, "parquet")
			s3.failUploadsAfter(after)
			if err := load2(ctx, openDest(t, u, "ds")); err == nil || !strings.Contains(err.Error(), "injected crash") {
				t.Fatalf("load with the store failing after %d uploads: err %v, want the injected crash", after, err)
			}
			wantNs(t, openDest(t, u, "ds"), "after the crash, a fresh reader", 1)

			s3.fault.Store(nil)
			if err := load2(ctx, openDest(t, u, "ds")); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			wantNs(t, openDest(t, u, "ds"), "after the rerun", 1, 2)
		})
	}
	for _, part := range []string{"/.restload/commits/", "/a/"} {
		t.Run("lost response "+part, func(t *testing.T) {
			s3, u, d := crashSetup(t, "jsonl")
			s3.loseResponse(part)
			if err := load2(ctx, d); err != nil {
				t.Fatalf("load whose %s write lost its response: %v", part, err)
			}
			wantNs(t, openDest(t, u, "ds"), "after the retried write", 1, 2)
		})
	}
}
