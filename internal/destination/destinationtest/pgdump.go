package destinationtest

import (
	"bufio"
	"context"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// LoadPostgresDump runs the plain-text pg_dump file at path on the server
// at url, with its schema from renamed to, and drops schema to when the
// test ends (so tests running at once each load their own copy). It reads
// what pg_dump writes: statements ending in ";", COPY ... FROM stdin blocks
// ended by "\.", comments and psql's \restrict lines (skipped). The schema
// is renamed in statements only, never in the rows.
func LoadPostgresDump(tb testing.TB, url, path, from, to string) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatalf("load %s: %v", path, err)
	}
	defer conn.Close(ctx)
	DropOnCleanup(tb, url, to)
	name := regexp.MustCompile(`\b` + regexp.QuoteMeta(from) + `\b`)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var stmt strings.Builder
	for sc.Scan() {
		line := sc.Text()
		if stmt.Len() == 0 && (line == "" || strings.HasPrefix(line, "--") || strings.HasPrefix(line, `\`)) {
			continue
		}
		stmt.WriteString(line)
		stmt.WriteByte('\n')
		if !strings.HasSuffix(line, ";") {
			continue
		}
		sql := name.ReplaceAllString(stmt.String(), to)
		stmt.Reset()
		if strings.HasPrefix(sql, "COPY ") && strings.HasSuffix(strings.TrimSpace(sql), "FROM stdin;") {
			var data strings.Builder
			for sc.Scan() && sc.Text() != `\.` {
				data.WriteString(sc.Text())
				data.WriteByte('\n')
			}
			if _, err := conn.PgConn().CopyFrom(ctx, io.NopCloser(strings.NewReader(data.String())), sql); err != nil {
				tb.Fatalf("load %s: %s: %v", path, firstLine(sql), err)
			}
			continue
		}
		if _, err := conn.Exec(ctx, sql); err != nil {
			tb.Fatalf("load %s: %s: %v", path, firstLine(sql), err)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("load %s: %v", path, err)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
