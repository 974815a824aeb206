package e2etest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runTimeout bounds a command run to completion (keygen, hash-password,
// check, healthcheck, ...).
const runTimeout = time.Minute

// Run runs the gateway binary bin with args to completion, stdin on its
// standard input, and returns its output and exit code. Only a process
// that could not run at all (or was killed after a minute) fails the test;
// a non-zero exit is the caller's to judge.
func Run(t testing.TB, bin, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil && (cmd.ProcessState == nil || cmd.ProcessState.ExitCode() < 0) {
		t.Fatalf("gateway %v: %v\nstderr:\n%s", args, err, e.String())
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

// WriteFile writes content to dir/name (mode 0600) and returns its path.
func WriteFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
