package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/restload/restload/internal/openapi"
)

func initCmd(g *globals) *cobra.Command {
	var spec, output, baseURL string
	var force bool
	c := &cobra.Command{
		Use:   "init [--openapi SPEC] [--output FILE]",
		Short: "Write a pipeline file, from an OpenAPI description or as a commented starter",
		Long: `init writes a pipeline file. With --openapi (a file or an http(s) URL of an
OpenAPI 3.x or Swagger 2.0 description, YAML or JSON) it writes a resource per
GET endpoint that returns a list, with its data selector, paginator, primary
key and parent resource, and the client's base URL and auth as ${secrets.NAME}
references; every guess carries a "# guessed from ..." comment, and the
endpoints it could not write are listed at the top. Without --openapi it
writes a commented starter file. An existing file is never replaced unless
--force is given. Next: restload check FILE, then restload run FILE.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var data []byte
			var res *openapi.Result
			if spec == "" {
				if baseURL != "" {
					return usageError{errors.New("--base-url needs --openapi")}
				}
				data = []byte(openapi.Starter)
			} else {
				raw, loc, err := openapi.Read(cmd.Context(), spec, nil)
				if err != nil {
					return usageError{err}
				}
				s, err := openapi.Parse(raw, loc)
				if err != nil {
					return usageError{err}
				}
				res, err = openapi.Generate(s, openapi.Options{Source: spec, BaseURL: baseURL})
				if err != nil {
					return usageError{err}
				}
				data = res.YAML
			}
			if output == "-" {
				_, err := g.stdout.Write(data)
				return err
			}
			if err := writeNew(output, data, force); err != nil {
				return err
			}
			printInit(g, output, res)
			return nil
		},
	}
	c.Flags().StringVar(&spec, "openapi", "", "OpenAPI 3.x or Swagger 2.0 description: a file or an http(s) URL")
	c.Flags().StringVarP(&output, "output", "o", "pipeline.yaml", `pipeline file to write ("-" for stdout)`)
	c.Flags().BoolVar(&force, "force", false, "replace the output file if it exists")
	c.Flags().StringVar(&baseURL, "base-url", "", "API base URL to write instead of the spec's server")
	return c
}

// writeNew writes data to path. Without force an existing file is an error
// and is left untouched (O_EXCL, so a file created meanwhile is not
// replaced either); with force the file is replaced in one rename.
func writeNew(path string, data []byte, force bool) error {
	if !force {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			return usageError{fmt.Errorf("%s exists; pass --force to replace it, or --output another file", path)}
		}
		if err != nil {
			return fmt.Errorf("init: %w", err)
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			os.Remove(path)
			return fmt.Errorf("init: write %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			os.Remove(path)
			return fmt.Errorf("init: write %s: %w", path, err)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this finds nothing
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("init: write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("init: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("init: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	return nil
}

func printInit(g *globals, path string, res *openapi.Result) {
	w := g.stdout
	if res == nil {
		fmt.Fprintf(w, "wrote %s: a starter pipeline file; edit it for your API\n", path)
		fmt.Fprintf(w, "next: export API_TOKEN=...; restload check %s; restload run %s\n", path, path)
		return
	}
	fmt.Fprintf(w, "wrote %s: %d resource(s)", path, len(res.Resources))
	if len(res.Resources) > 0 {
		names := res.Resources
		more := ""
		if len(names) > 10 {
			names, more = names[:10], fmt.Sprintf(", ... (%d more)", len(res.Resources)-10)
		}
		fmt.Fprintf(w, " (%s%s)", strings.Join(names, ", "), more)
	}
	fmt.Fprintln(w)
	if len(res.Skipped) > 0 {
		fmt.Fprintf(w, "%d GET endpoint(s) not written; the file's header says why\n", len(res.Skipped))
	}
	if res.Detail > 0 {
		fmt.Fprintf(w, "%d GET endpoint(s) return one record by its id: not resources\n", res.Detail)
	}
	fmt.Fprintf(w, "every guess is marked \"# guessed\" in the file: read them\n")
	next := "next: "
	if len(res.Secrets) > 0 {
		var env []string
		for _, s := range res.Secrets {
			env = append(env, strings.ToUpper(s)+"=...")
		}
		next += "export " + strings.Join(env, " ") + "; "
	}
	fmt.Fprintf(w, "%srestload check %s; restload run %s\n", next, path, path)
}
