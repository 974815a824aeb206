package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// build compiles the three programs into dir and returns their paths by
// name. The gateway is built as `make build` does (no race detector).
func build(dir string) (map[string]string, error) {
	out := map[string]string{}
	for name, pkg := range map[string]string{
		"gateway":   "./cmd/gateway",
		"upstream":  "./bench/upstream",
		"bareproxy": "./bench/bareproxy",
	} {
		bin := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-trimpath", "-o", bin, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building %s: %w\n%s", pkg, err, b)
		}
		out[name] = bin
	}
	return out, nil
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// proc is a server process under test.
type proc struct {
	name string
	addr string
	cmd  *exec.Cmd
	log  bytes.Buffer
}

// start runs bin with args and waits until url answers (any status).
func start(ctx context.Context, name, addr, bin string, url string, args ...string) (*proc, error) {
	p := &proc{name: name, addr: addr}
	p.cmd = exec.CommandContext(ctx, bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = &p.log, &p.log
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			return p, nil
		}
		if time.Now().After(deadline) || p.cmd.ProcessState != nil {
			p.stop()
			return nil, fmt.Errorf("%s did not start: %w\n%s", name, err, p.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop kills the process and waits for it.
func (p *proc) stop() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// cpuTicks returns the process's user+system CPU time in clock ticks
// (/proc/<pid>/stat fields 14 and 15).
func (p *proc) cpuTicks() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may contain spaces: count from its ')'.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc stat for %s", p.name)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parsing /proc stat for %s", p.name)
	}
	return utime + stime, nil
}

// peakRSS returns VmHWM, the process's peak resident set, in bytes.
func (p *proc) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM for %s", p.name)
}

// clockTicks is sysconf(_SC_CLK_TCK), from getconf; 100 on Linux when
// getconf is missing.
func clockTicks() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return 100
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil || n <= 0 {
		return 100
	}
	return n
}
