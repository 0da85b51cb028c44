// Package deploy_test checks the scheduler files of examples/deploy: the
// Kubernetes manifests parse, name an image and run restload with commands
// and flags restload has; the Python DAGs compile and use only real flags.
package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/restload/restload/internal/cli"
)

// container is the part of a pod's container the check reads.
type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
}

type podSpec struct {
	RestartPolicy string      `yaml:"restartPolicy"`
	Containers    []container `yaml:"containers"`
}

type jobSpec struct {
	Template struct {
		Spec podSpec `yaml:"spec"`
	} `yaml:"template"`
}

// manifest holds the fields of a Job or CronJob the check reads.
type manifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		jobSpec     `yaml:",inline"`
		JobTemplate struct {
			Spec jobSpec `yaml:"spec"`
		} `yaml:"jobTemplate"`
	} `yaml:"spec"`
}

// checkArgs reports what is wrong with args as a restload command line: the
// command must exist and every --flag must be one of its flags (or a
// global one), so a renamed flag fails here.
func checkArgs(root *cobra.Command, args []string) []string {
	if len(args) == 0 {
		return []string{"no args: want a restload command"}
	}
	cmd, _, err := root.Find(args)
	if err != nil || cmd == root {
		return []string{"args " + strings.Join(args, " ") + ": no restload command " + args[0]}
	}
	var problems []string
	for _, a := range args[1:] {
		if !strings.HasPrefix(a, "--") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if cmd.Flags().Lookup(name) == nil && cmd.InheritedFlags().Lookup(name) == nil {
			problems = append(problems, "restload "+cmd.Name()+" has no flag --"+name)
		}
	}
	return problems
}

func TestKubernetesManifests(t *testing.T) {
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in kubernetes/: %v", err)
	}
	root := cli.Commands()
	jobs := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for doc := 1; ; doc++ {
			var m manifest
			err := dec.Decode(&m)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s document %d: %v", f, doc, err)
			}
			if m.APIVersion == "" || m.Kind == "" || m.Metadata.Name == "" {
				t.Errorf("%s document %d: want apiVersion, kind and metadata.name", f, doc)
			}
			var pod podSpec
			switch m.Kind {
			case "Job":
				pod = m.Spec.Template.Spec
			case "CronJob":
				pod = m.Spec.JobTemplate.Spec.Template.Spec
			default:
				continue
			}
			jobs++
			where := f + " " + m.Kind + " " + m.Metadata.Name
			if pod.RestartPolicy != "Never" {
				t.Errorf("%s: restartPolicy %q: want Never (podFailurePolicy needs it, and the Job counts retries)", where, pod.RestartPolicy)
			}
			i := slices.IndexFunc(pod.Containers, func(c container) bool { return c.Name == "restload" })
			if i < 0 {
				t.Errorf("%s: no container named restload (podFailurePolicy names it)", where)
				continue
			}
			c := pod.Containers[i]
			if c.Image == "" {
				t.Errorf("%s: container restload has no image", where)
			}
			for _, p := range checkArgs(root, c.Args) {
				t.Errorf("%s: %s", where, p)
			}
			if !slices.Contains(c.Args, "run") || !slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--summary-json=") }) {
				t.Errorf("%s: want `run ... --summary-json=FILE`: %q", where, c.Args)
			}
		}
	}
	if jobs == 0 {
		t.Fatal("no Job or CronJob found")
	}
}

var pyFlag = regexp.MustCompile(`"(--[a-z][a-z0-9-]*)=?`)

func TestPythonTasks(t *testing.T) {
	files, err := filepath.Glob("*/*.py")
	if err != nil || len(files) < 2 {
		t.Fatalf("want the Airflow and Dagster files, found %v (%v)", files, err)
	}
	run, _, err := cli.Commands().Find([]string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		flags := pyFlag.FindAllStringSubmatch(string(b), -1)
		if len(flags) == 0 {
			t.Errorf("%s names no restload flag", f)
		}
		for _, m := range flags {
			name := strings.TrimPrefix(m[1], "--")
			if run.Flags().Lookup(name) == nil && run.InheritedFlags().Lookup(name) == nil {
				t.Errorf("%s: restload run has no flag %s", f, m[1])
			}
		}
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skipf("python3 not found: the Python files' syntax is not checked (%v)", err)
	}
	for _, f := range files {
		// Compile to a throwaway file: nothing is written beside the sources.
		out := filepath.Join(t.TempDir(), filepath.Base(f)+"c")
		code := "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)"
		if b, err := exec.Command(py, "-c", code, f, out).CombinedOutput(); err != nil {
			t.Errorf("python3 py_compile %s: %v\n%s", f, err, b)
		}
	}
}

// TestCheckArgsCatchesRenamedFlags shows the check fails on flags and
// commands restload does not have.
func TestCheckArgsCatchesRenamedFlags(t *testing.T) {
	root := cli.Commands()
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"run", "p.yaml", "--dest=duckdb:x", "--summary-json=s.json", "--log-format=json"}, 0},
		{[]string{"run", "p.yaml", "--destination=duckdb:x"}, 1},
		{[]string{"run", "p.yaml", "--summary=s.json", "--resources=a"}, 2},
		{[]string{"launch", "p.yaml"}, 1},
		{nil, 1},
	} {
		if got := checkArgs(root, tc.args); len(got) != tc.want {
			t.Errorf("checkArgs(%q) = %q, want %d problems", tc.args, got, tc.want)
		}
	}
}
