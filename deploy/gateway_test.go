package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// repoRoot is the gateway module, the Docker build context.
const repoRoot = ".."

// binDir holds the binary the tests build; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testVersion is the VERSION build argument the tests build with.
const testVersion = "test"

var built struct {
	once sync.Once
	path string
	took time.Duration
	err  error
}

// gatewayBinary builds cmd/gateway once per test run, with the go build
// command of the Dockerfile's build stage (VERSION=test) run as the image
// build runs it, from the repository root, and returns its path. The
// binary the Kubernetes tests validate configurations with is therefore
// the one the image would contain.
func gatewayBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		df, err := parseDockerfile()
		if err != nil {
			built.err = err
			return
		}
		cmdline, err := df.goBuildCommand()
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(binDir, "gateway")
		const out = "-o /out/gateway"
		if !strings.Contains(cmdline, out) {
			built.err = fmt.Errorf("the build command does not write %q: %s", out, cmdline)
			return
		}
		cmdline = strings.Replace(cmdline, out, "-o '"+built.path+"'", 1)
		cmd := exec.Command("sh", "-c", cmdline)
		cmd.Dir = repoRoot
		// ARG VERSION is in the RUN's environment during an image build.
		cmd.Env = append(os.Environ(), "VERSION="+testVersion)
		start := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("%s: %w\n%s", cmdline, err, b)
		}
		built.took = time.Since(start)
	})
	if built.err != nil {
		t.Fatalf("building the gateway with the Dockerfile's command: %v", built.err)
	}
	return built.path
}

// runGateway runs the built gateway with args and exactly env as its
// environment, and returns its combined output and exit code.
func runGateway(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(gatewayBinary(t), args...)
	cmd.Env = append([]string{}, env...) // never nil: nil would pass ours on
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	}
	t.Fatalf("gateway %s: %v", strings.Join(args, " "), err)
	return "", -1
}
