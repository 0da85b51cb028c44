package files

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"gocloud.dev/blob"
	// The bucket URL schemes s3:// and file://; gs:// and azblob:// are in
	// objects_gcs.go and objects_azure.go.
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"

	"github.com/restload/restload/internal/destination"
	"github.com/restload/restload/internal/schema"
)

// Objects is a file destination in object storage (parquet:s3://bucket/prefix,
// gs://, azblob://, file://): the tables of one dataset under
// <prefix>/<dataset>/, laid out as dlt's filesystem destination lays them
// out (see DefaultLayout).
//
// Data files are uploaded to their final keys while the load writes them,
// streamed in parts of PartSize (memory per file being written: about
// PartSize plus the format's own buffers). A load becomes visible when its
// commit record <prefix>/<dataset>/.restload/commits/<n>.json is written,
// last: the record is the dataset's whole manifest (like _manifest.json of
// a local folder), and the one with the greatest n is the committed state.
// Read follows it and nothing else, so files of a load that has not
// committed (or never will: a crash) are invisible to it.
//
// Records are written with a conditional put (If-None-Match: *, or the
// store's equivalent): two loads committing at once cannot both write
// record n; the loser reads record n and retries as n+1. So concurrent
// writers from any number of machines are safe on stores with conditional
// writes (S3 since 2024, GCS, Azure, local files); on an S3-compatible
// store without them, run one writer per dataset.
type Objects struct {
	format  Format
	bucket  *blob.Bucket
	prefix  string // "<prefix>/<dataset>/" inside the bucket
	dataset string
	layout  layout
	name    string // "parquet s3://bucket/prefix", for errors
	codec   codec
}

var (
	_ destination.Destination  = (*Objects)(nil)
	_ destination.Capabilities = (*Objects)(nil)
)

// PartSize is the size of the parts in which a data file is uploaded (and
// the buffer it is written through): S3's smallest part. A file can have
// 10,000 parts, so up to ~50 GB.
var PartSize = 5 << 20

// commitsDir holds the commit records, inside the dataset's folder; hidden,
// so no table's folder and no layout can collide with it.
const commitsDir = ".restload/commits/"

// keepCommits is how many of the newest commit records a commit keeps.
const keepCommits = 16

// isObjectURL reports whether loc names object storage (scheme://...)
// rather than a local path.
func isObjectURL(loc string) bool {
	scheme, _, ok := strings.Cut(loc, "://")
	return ok && scheme != "" && !strings.ContainsAny(scheme, `/\.`)
}

// OpenObjects opens the bucket URL loc for dataset in format. loc is a
// gocloud.dev/blob URL (s3://bucket/prefix?region=...&endpoint=...,
// gs://bucket/prefix, azblob://container/prefix, file:///dir) whose path is
// the prefix under which datasets go; its query may add layout=, a dlt
// filesystem layout (default DefaultLayout). Credentials come from each
// cloud's usual environment variables and files.
func OpenObjects(ctx context.Context, format Format, loc, dataset string) (*Objects, error) {
	u, err := url.Parse(loc)
	name := string(format) + " " + loc
	if err == nil {
		name = string(format) + " " + u.Scheme + "://" + u.Host + u.Path
	}
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w: %w", string(format), destination.ErrBadURL, err)
	}
	c, err := newCodec(format)
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w", name, err)
	}
	if err := checkName(dataset); err != nil {
		return nil, fmt.Errorf("%s: open: dataset: %w", name, err)
	}
	q := u.Query()
	ls := q.Get("layout")
	if ls == "" {
		ls = DefaultLayout
	}
	q.Del("layout")
	l, err := parseLayout(ls)
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w: %w", name, destination.ErrBadURL, err)
	}
	prefix := strings.Trim(u.Path, "/")
	bu := url.URL{Scheme: u.Scheme, Host: u.Host}
	if u.Scheme == "file" {
		// fileblob's bucket is the folder itself.
		if u.Path == "" {
			return nil, fmt.Errorf("%s: open: %w: want file:///absolute/dir", name, destination.ErrBadURL)
		}
		bu.Path, prefix = u.Path, ""
		if !q.Has("create_dir") {
			q.Set("create_dir", "true")
		}
	} else if u.Host == "" {
		return nil, fmt.Errorf("%s: open: %w: no bucket (want %s://bucket/prefix)", name, destination.ErrBadURL, u.Scheme)
	}
	bu.RawQuery = q.Encode()
	b, err := blob.OpenBucket(ctx, bu.String())
	if err != nil {
		return nil, fmt.Errorf("%s: open bucket: %w", name, err)
	}
	p := dataset + "/"
	if prefix != "" {
		p = prefix + "/" + p
	}
	return &Objects{format: format, bucket: b, prefix: p, dataset: dataset, layout: l, name: name, codec: c}, nil
}

// CanMerge reports false: files cannot update rows in place.
func (o *Objects) CanMerge() bool { return false }

// Close closes the bucket.
func (o *Objects) Close() error { return o.bucket.Close() }

func (o *Objects) errorf(table, op string, err error) error {
	if table == "" {
		return fmt.Errorf("%s: dataset %s: %s: %w", o.name, o.dataset, op, err)
	}
	return fmt.Errorf("%s: dataset %s: table %s: %s: %w", o.name, o.dataset, table, op, err)
}

func commitKey(n int) string { return fmt.Sprintf("%s%020d.json", commitsDir, n) }

// commitRecord is a commit record's number and when it was written.
type commitRecord struct {
	n  int
	at time.Time
}

// commits lists the dataset's commit records, ascending.
func (o *Objects) commits(ctx context.Context) ([]commitRecord, error) {
	it := o.bucket.List(&blob.ListOptions{Prefix: o.prefix + commitsDir})
	var out []commitRecord
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			slices.SortFunc(out, func(a, b commitRecord) int { return a.n - b.n })
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		base := strings.TrimSuffix(path.Base(obj.Key), ".json")
		if n, err := strconv.Atoi(base); err == nil && n > 0 && len(base) == 20 {
			out = append(out, commitRecord{n, obj.ModTime})
		}
	}
}

// readManifest reads the newest commit record; a dataset never committed
// to has an empty manifest with Commit 0.
func (o *Objects) readManifest(ctx context.Context) (*manifest, error) {
	ns, err := o.commits(ctx)
	if err != nil {
		return nil, err
	}
	if len(ns) == 0 {
		return &manifest{Tables: map[string]*tableEntry{}}, nil
	}
	return o.readCommit(ctx, ns[len(ns)-1].n)
}

// readCommit reads commit record n.
func (o *Objects) readCommit(ctx context.Context, n int) (*manifest, error) {
	r, err := o.bucket.NewReader(ctx, o.prefix+commitKey(n), nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// A manifest names every file; 256 MiB is far beyond any real one.
	b, err := io.ReadAll(io.LimitReader(r, 256<<20))
	if err != nil {
		return nil, err
	}
	m, err := decodeManifest(b, commitKey(n))
	if err != nil {
		return nil, err
	}
	m.Commit = n
	return m, nil
}

// loadTable returns a committed table's definition and data file keys;
// ErrNoTable when absent.
func (o *Objects) loadTable(ctx context.Context, table string) (*schema.Table, []string, error) {
	if err := checkName(table); err != nil {
		return nil, nil, err
	}
	m, err := o.readManifest(ctx)
	if err != nil {
		return nil, nil, err
	}
	e := m.Tables[table]
	if e == nil {
		return nil, nil, destination.ErrNoTable
	}
	keys := make([]string, len(e.Files))
	for i, n := range e.Files {
		keys[i] = o.prefix + n
	}
	return e.Table, keys, nil
}

// codecFor is the codec table's objects are read with.
func (o *Objects) codecFor(table string) codec {
	if isBookkeeping(table) {
		return jsonlCodec{}
	}
	return o.codec
}

// Read calls fn for each row of table, as Files.Read does. Each data file is
// downloaded to a temporary local file and read from there.
func (o *Objects) Read(ctx context.Context, table string, fn func(row map[string]any) error) error {
	t, keys, err := o.loadTable(ctx, table)
	if err != nil {
		return o.errorf(table, "read", err)
	}
	err = readSorted(ctx, o.codecFor(table), t, keys, func(key string) (string, func(), error) {
		return o.download(ctx, key)
	}, fn)
	if err != nil {
		return o.errorf(table, "read", err)
	}
	return nil
}

// download copies key to a temporary file; cleanup removes it.
func (o *Objects) download(ctx context.Context, key string) (string, func(), error) {
	tmp, err := os.CreateTemp("", "restload-*."+string(o.format))
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.Remove(tmp.Name()) }
	err = o.bucket.Download(ctx, key, tmp, nil)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("download %s: %w", key, err)
	}
	return tmp.Name(), cleanup, nil
}

// isPrecondition reports a conditional write that lost: the key exists.
func isPrecondition(err error) bool {
	return gcerrors.Code(err) == gcerrors.FailedPrecondition
}

// writeCommit writes m as commit record m.Commit, unless that record
// exists (an error for which isPrecondition is true).
func (o *Objects) writeCommit(ctx context.Context, m *manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return o.bucket.WriteAll(ctx, o.prefix+commitKey(m.Commit), append(b, '\n'), &blob.WriterOptions{
		ContentType: "application/json",
		IfNotExist:  true,
	})
}
