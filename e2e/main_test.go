package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// gatewayBin is the binary under test, built once by TestMain.
var gatewayBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gatewayBin = filepath.Join(dir, "gateway")
	build := exec.Command("go", "build", "-race", "-o", gatewayBin, "../cmd/gateway")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the gateway:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running gateway process.
type proc struct {
	cmd    *exec.Cmd
	addr   string // host:port of the public listener
	admin  string // host:port of the admin listener, if any
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	exited chan error
	once   sync.Once
}

// stop sends SIGINT and waits for the process; a clean shutdown must exit
// 0 within 20s. It is safe to call more than once.
func (p *proc) stop(t *testing.T) {
	p.once.Do(func() {
		p.cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-p.exited:
			if err != nil {
				t.Errorf("gateway did not shut down cleanly: %v\nstderr:\n%s", err, p.Stderr())
			}
		case <-time.After(20 * time.Second):
			p.cmd.Process.Kill()
			t.Errorf("gateway did not stop within 20s of SIGINT")
		}
	})
}

func (p *proc) Stdout() string { p.mu.Lock(); defer p.mu.Unlock(); return p.stdout.String() }
func (p *proc) Stderr() string { p.mu.Lock(); defer p.mu.Unlock(); return p.stderr.String() }

// lockedWriter appends to a buffer under the process's lock.
type lockedWriter struct {
	p *proc
	b *bytes.Buffer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.b.Write(b)
}

var listeningRE = regexp.MustCompile(`"msg":"listening","listener":"(public|admin)","addr":"([^"]+)"|msg=listening listener=(public|admin) addr=(\S+)`)

// start runs the gateway with args and waits until it logs its listening
// address. The process is stopped (SIGTERM) when the test ends, and its
// exit status is checked: a clean shutdown must exit 0.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(gatewayBin, args...)}
	pr, pw := io.Pipe()
	p.cmd.Stdout = lockedWriter{p, &p.stdout}
	p.cmd.Stderr = io.MultiWriter(lockedWriter{p, &p.stderr}, pw)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				if name, addr := m[1]+m[3], m[2]+m[4]; name == "admin" {
					p.mu.Lock()
					p.admin = addr
					p.mu.Unlock()
				} else {
					found <- addr
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait(); pw.Close() }()
	select {
	case p.addr = <-found:
	case err := <-exited:
		t.Fatalf("gateway %v exited before listening: %v\nstderr:\n%s", args, err, p.Stderr())
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("gateway %v did not start in 30s\nstderr:\n%s", args, p.Stderr())
	}
	p.exited = exited
	t.Cleanup(func() { p.stop(t) })
	return p
}

// adminAddr waits for the admin listener's address to be logged.
func (p *proc) adminAddr(t *testing.T) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		p.mu.Lock()
		a := p.admin
		p.mu.Unlock()
		if a != "" {
			return a
		}
	}
	t.Fatalf("the gateway logged no admin listener\nstderr:\n%s", p.Stderr())
	return ""
}

// runCmd runs the gateway to completion and returns its output and exit code.
func runCmd(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gatewayBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("gateway %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

// writeFile writes a file under dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// decodeError returns the code of a JSON error body.
func decodeError(t *testing.T, body io.Reader) string {
	t.Helper()
	var v struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.NewDecoder(body).Decode(&v); err != nil {
		t.Fatalf("error body is not JSON: %v", err)
	}
	return v.Error.Code
}
