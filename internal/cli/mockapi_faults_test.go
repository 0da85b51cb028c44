package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/restload/restload/internal/cli"
)

// startMockCLI runs `restload mock-api args...` until the test ends and
// returns its base URL.
func startMockCLI(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		code := cli.Run(ctx, append([]string{"mock-api", "--addr", "127.0.0.1:0"}, args...), pw, &errb)
		pw.Close()
		done <- code
	}()
	urls := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`serving on (http://\S+)`)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		close(urls)
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case u, ok := <-urls:
		if ok {
			return u
		}
	case <-time.After(10 * time.Second):
	}
	cancel()
	code := <-done
	done <- code // for the cleanup
	t.Fatalf("mock-api did not start (exit %d): %s", code, errb.String())
	return ""
}

// TestMockAPIBodyFaultFlags runs restload against `restload mock-api` with
// each body fault on the first try of every page: each run loads every
// record, the faults retried.
func TestMockAPIBodyFaultFlags(t *testing.T) {
	for _, fault := range []string{"cut", "reset", "stall", "trickle", "gzip-bomb"} {
		t.Run(fault, func(t *testing.T) {
			url := startMockCLI(t, "--records", "120", "--body-fault", fault, "--max-fault-streak", "1",
				"--trickle-interval", "5ms", "--gzip-bomb-bytes", "2000000")
			dir := t.TempDir()
			pipe := filepath.Join(dir, "p.yaml")
			yml := fmt.Sprintf(`
pipeline: {name: faults, dataset: analytics}
retry: {max_retries: 1, backoff_factor: 0.001}
limits: {max_response_bytes: 1000000}
source:
  client:
    base_url: %s
    timeout: 2s
    idle_read_timeout: 300ms
    auth: {type: oauth2, client_id: demo-client, client_secret: demo-secret, refresh_token: demo-refresh, token_url: %s/auth/token}
  resources:
    - name: files
      endpoint: {path: /files, params: {limit: 50}, data_selector: entries,
                 paginator: {type: page_number, page_param: page, start_from_page: 1}}
`, url, url)
			if err := os.WriteFile(pipe, []byte(yml), 0o600); err != nil {
				t.Fatal(err)
			}
			dest := "duckdb:" + filepath.Join(dir, "f.duckdb")
			code, _, stderr := run(t, "run", pipe, "--dest", dest, "--work-dir", filepath.Join(dir, "w"), "--progress", "none")
			if fault == "gzip-bomb" {
				// 2 MB of whitespace is over the 1 MB cap: a clear error, exit 1.
				if code != 1 || !strings.Contains(stderr, "larger than limits.max_response_bytes (1000000 bytes)") {
					t.Fatalf("exit %d, stderr %s", code, stderr)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if n := countRows(t, dest, "files"); n != 120 {
				t.Errorf("%d rows, want 120", n)
			}
		})
	}
	if code, _, stderr := run(t, "mock-api", "--addr", "127.0.0.1:0", "--body-fault", "explode"); code != 2 || !strings.Contains(stderr, `unknown body fault "explode"`) {
		t.Errorf("bad --body-fault: exit %d, %s", code, stderr)
	}
}
