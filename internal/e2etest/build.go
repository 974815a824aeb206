package e2etest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// gatewayPkg is the command under test, named by import path so that the
// build works from any package directory of the module.
const gatewayPkg = "github.com/gatehouse/gatehouse/cmd/gateway"

// BuildGateway builds the gateway with the race detector into dir and
// returns the binary's path. The compiler's output goes to stderr.
func BuildGateway(dir string) (string, error) {
	bin := filepath.Join(dir, "gateway")
	build := exec.Command("go", "build", "-race", "-o", bin, gatewayPkg)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building the gateway: %w", err)
	}
	return bin, nil
}

// Main is a TestMain body: it builds the gateway into a fresh temporary
// directory (named after pattern, as os.MkdirTemp takes it), hands the
// binary's path to use, runs the tests, removes the directory and returns
// the exit code for os.Exit. A failed build is exit code 1.
func Main(m *testing.M, pattern string, use func(bin string)) int {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin, err := BuildGateway(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	use(bin)
	return m.Run()
}
