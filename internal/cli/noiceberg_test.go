//go:build noiceberg

package cli_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/restload/restload/internal/cli"
	"github.com/restload/restload/internal/mockapi"
)

// TestNoIcebergBuild checks that in a -tags noiceberg build an iceberg:
// destination names the build tag rather than loading or failing obscurely.
// (That iceberg-go is left out is checked with
// go list -deps -tags noiceberg ./cmd/restload.)
func TestNoIcebergBuild(t *testing.T) {
	api, err := mockapi.Start(context.Background(), "127.0.0.1:0", mockapi.Options{Records: 60, ClientSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	setSecrets(t, secret)
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), []string{"run", pipelineFile(t, api.URL, api.TokenURL), "--dest", "iceberg:" + filepath.Join(t.TempDir(), "wh")}, &stdout, &stderr)
	if code == 0 {
		t.Fatalf("run into iceberg succeeded in a noiceberg build; stdout:\n%s", stdout.String())
	}
	if want := "built with -tags noiceberg"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
}
