package mockapi

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Codings Options.Compress accepts: what real APIs send their JSON in.
const (
	CompressGzip = "gzip"
	CompressZstd = "zstd"
)

func (o Options) validateCompress() error {
	switch o.Compress {
	case "", CompressGzip, CompressZstd:
		return nil
	}
	return fmt.Errorf("mockapi: unknown compression %q (want %q or %q)", o.Compress, CompressGzip, CompressZstd)
}

// accepts reports whether the request's Accept-Encoding lists coding
// (q-values are not weighed: a coding listed is taken as accepted unless
// its q is 0).
func accepts(r *http.Request, coding string) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), coding) {
			return strings.ReplaceAll(params, " ", "") != "q=0"
		}
	}
	return false
}

var (
	gzipWriters sync.Pool // *gzip.Writer
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		return enc
	})
)

// writeCompressed writes a 200 page in the server's coding when the
// request accepts it (as a web server in front of a real API does: gzip
// at its fastest level, nginx's default), else as it is.
func (s *Server) writeCompressed(w http.ResponseWriter, r *http.Request, body []byte) {
	coding := s.opts.Compress
	if coding == "" || !accepts(r, coding) {
		writeJSON(w, http.StatusOK, body)
		return
	}
	var out []byte
	switch coding {
	case CompressGzip:
		var b bytes.Buffer
		b.Grow(len(body) / 3)
		zw, _ := gzipWriters.Get().(*gzip.Writer)
		if zw == nil {
			zw, _ = gzip.NewWriterLevel(&b, gzip.BestSpeed)
		} else {
			zw.Reset(&b)
		}
		_, _ = zw.Write(body)
		_ = zw.Close()
		gzipWriters.Put(zw)
		out = b.Bytes()
	case CompressZstd:
		out = zstdEncoder().EncodeAll(body, make([]byte, 0, len(body)/3))
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Encoding", coding)
	h.Set("Vary", "Accept-Encoding")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}
