package e2etest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Time limits for a proxy process.
const (
	proxyListenTimeout = 20 * time.Second // from start until addr accepts
	proxyStopTimeout   = 10 * time.Second // from SIGTERM to exit
)

// FreePort returns a loopback port that was free a moment ago. The
// proxies cannot report an ephemeral port the way the gateway does, so
// their configuration names one.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartNginx runs nginx (bin) with recipe, an http {} include such as the
// one of docs/forward-auth.md, wrapped in a main configuration that keeps
// every file nginx writes under a test directory. It waits until addr
// (where the recipe listens) accepts connections, and stops nginx when the
// test ends.
func StartNginx(t testing.TB, bin, recipe, addr string) {
	t.Helper()
	dir := t.TempDir()
	WriteFile(t, dir, "gatehouse.conf", recipe)
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n" // workers as root: the temp dir is 0700
	}
	WriteFile(t, dir, "nginx.conf", user+`worker_processes 1;
events { worker_connections 256; }
http {
    access_log `+dir+`/access.log;
    client_body_temp_path `+dir+`/client_body;
    proxy_temp_path `+dir+`/proxy;
    fastcgi_temp_path `+dir+`/fastcgi;
    uwsgi_temp_path `+dir+`/uwsgi;
    scgi_temp_path `+dir+`/scgi;
    include `+dir+`/gatehouse.conf;
}
`)
	cmd := exec.Command(bin, "-p", dir, "-c", dir+"/nginx.conf",
		"-g", "daemon off; pid "+dir+"/nginx.pid; error_log stderr;")
	runProxy(t, "nginx", cmd, addr)
}

// StartCaddy runs Caddy (bin) with recipe, a Caddyfile site, after global
// options: no admin endpoint, no automatic HTTPS, loopback only, state
// under a test directory. It waits until addr accepts connections, and
// stops Caddy when the test ends.
func StartCaddy(t testing.TB, bin, recipe, addr string) {
	t.Helper()
	dir := t.TempDir()
	WriteFile(t, dir, "Caddyfile", `{
	admin off
	auto_https off
	default_bind 127.0.0.1
	storage file_system `+dir+`/data
}

`+recipe)
	cmd := exec.Command(bin, "run", "--config", dir+"/Caddyfile", "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir+"/data", "XDG_CONFIG_HOME="+dir+"/config")
	runProxy(t, "caddy", cmd, addr)
}

// runProxy starts a proxy, waits until addr accepts connections, and stops
// it (SIGTERM, then SIGKILL to its process group) when the test ends; its
// log is shown when the test failed.
func runProxy(t testing.TB, name string, cmd *exec.Cmd, addr string) {
	t.Helper()
	var log LockedBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // workers go with it
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	// done is closed once the process has exited (and waitErr set), so
	// that both the wait below and the cleanup can see it.
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(proxyStopTimeout):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			t.Errorf("%s did not stop within %s of SIGTERM", name, proxyStopTimeout)
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, log.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), proxyListenTimeout)
	defer cancel()
	for {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			t.Fatalf("%s exited before listening: %v\n%s", name, waitErr, log.String())
		case <-ctx.Done():
			t.Fatalf("%s did not listen on %s within %s\n%s", name, addr, proxyListenTimeout, log.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
