package e2etest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Missing ends a test that lacks a program: it skips with msg, or, when
// the CI environment variable is set, fails, because there a skipped test
// would be a false pass.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set: the test must run, not skip)")
	}
	t.Skip(msg)
}

// FindProgram returns the path of the program name: from PATH, else the
// first of fallbacks (where Debian installs it) that exists. When there is
// none it calls Missing with "<name> not found; install with <install>":
// install is the advice as the reader should see it, for example
// "`apt-get install nginx`".
func FindProgram(t testing.TB, name, install string, fallbacks ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range fallbacks {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Missing(t, name+" not found; install with "+install)
	return ""
}

// NodeModules makes sure the npm project in dir has module installed,
// running `npm ci` there when it has not (npm is found as FindProgram
// finds it, with install as the advice).
func NodeModules(t testing.TB, dir, module, install string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", module)); err == nil {
		return
	}
	cmd := exec.Command(FindProgram(t, "npm", install), "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
}
