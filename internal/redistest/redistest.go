// Package redistest runs real redis-server processes for tests: one server
// on a free loopback port with its own directory, or a three-node Redis
// Cluster. Tests kill and restart them to exercise failures; nothing is
// mocked.
//
// Every server is started with --save "" (no RDB snapshots), bound to
// 127.0.0.1, in the foreground, with its directory under t.TempDir(), and
// is killed at t.Cleanup. The host's own Redis (if any) is never touched.
package redistest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take to answer PING after it
// was started (it includes replaying an append-only file on Restart).
const startTimeout = 10 * time.Second

// Option configures a server started by Start.
type Option func(*options)

type options struct {
	appendOnly bool
	password   string
	args       []string
	// sentinelConf, if set, runs the server as a Sentinel with this
	// config file (StartSentinel).
	sentinelConf string
}

// WithAppendOnly turns on the append-only file with appendfsync always,
// so that every acknowledged write survives Kill and Restart.
func WithAppendOnly() Option { return func(o *options) { o.appendOnly = true } }

// WithPassword makes the server require password (requirepass).
func WithPassword(password string) Option { return func(o *options) { o.password = password } }

// WithArgs appends raw redis-server arguments, such as "--maxmemory", "1mb".
func WithArgs(args ...string) Option {
	return func(o *options) { o.args = append(o.args, args...) }
}

// Server is a redis-server process the test owns, on a free loopback port,
// with its own temp dir. It is killed at t.Cleanup.
type Server struct {
	// Addr is the server's host:port on 127.0.0.1. It does not change
	// across Restart.
	Addr string

	t        testing.TB
	port     int
	dir      string
	password string
	args     []string // everything but --port

	mu   sync.Mutex
	proc *process // nil when not running
}

// process is one run of redis-server.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// Require skips the test when redis-server or redis-cli is not installed,
// unless the CI environment variable is set: then the missing server is a
// broken CI image, and the test fails.
func Require(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			msg := fmt.Sprintf("redistest: %s not found (%v); install it: apt-get install redis-server", bin, err)
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// Start starts a redis-server on a free port and waits until it answers
// PING. The test fails if it cannot.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	Require(t)
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return start(t, t.TempDir(), o, false)
}

// start starts a server in dir on a free port (and, with bus, a free
// cluster bus port), trying other ports if the one picked was taken
// meanwhile. It fails the test if the server does not come up.
func start(t testing.TB, dir string, o options, bus bool) *Server {
	t.Helper()
	s := newServer(t, dir, o)
	t.Cleanup(s.Kill)
	var last error
	for range 10 {
		port, err := freePort(bus)
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		if last = s.startOn(port); last == nil {
			return s
		}
		if !errors.Is(last, errBind) {
			break
		}
	}
	t.Fatalf("redistest: %v", last)
	return nil
}

func newServer(t testing.TB, dir string, o options) *Server {
	var args []string
	if o.sentinelConf != "" {
		args = []string{o.sentinelConf, "--sentinel"}
	}
	args = append(args,
		"--save", "",
		"--bind", "127.0.0.1",
		"--protected-mode", "no",
		"--daemonize", "no",
		"--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log"),
	)
	if o.appendOnly {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	}
	if o.password != "" {
		args = append(args, "--requirepass", o.password)
	}
	args = append(args, o.args...)
	return &Server{t: t, dir: dir, password: o.password, args: args}
}

// Dir is the server's working directory (AOF, cluster config, log).
func (s *Server) Dir() string { return s.dir }

// Kill sends SIGKILL to the server and waits until it has exited. Killing
// a server that is not running does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	_ = s.proc.cmd.Process.Kill()
	<-s.proc.done
	s.proc = nil
}

// Pause stops the server process (SIGSTOP) without closing anything: its
// connections stay open and new ones are even accepted by the kernel, but
// nothing is answered — a hung server, or a network that drops packets.
// Resume continues it; Kill works on a paused server too.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a server stopped by Pause.
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		s.t.Fatalf("redistest: %s is not running", s.Addr)
	}
	if err := s.proc.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("redistest: signal %v to %s: %v", sig, s.Addr, err)
	}
}

// Restart starts the server again, on the same port and directory, so
// that with WithAppendOnly the data written before Kill is back. It
// waits until the server answers PING (with the data loaded). A running
// server is killed first.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	// The port was free when the server last bound it; something else
	// may grab it meanwhile, so retry briefly before giving up.
	deadline := time.Now().Add(startTimeout)
	for {
		err := s.startOn(s.port)
		if err == nil {
			return
		}
		if !errors.Is(err, errBind) || time.Now().After(deadline) {
			s.t.Fatalf("redistest: restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// errBind marks a start that failed because the port was taken.
var errBind = errors.New("port in use")

// startOn runs redis-server on port and waits for PING.
func (s *Server) startOn(port int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logFile := filepath.Join(s.dir, "redis.log")
	logStart := fileSize(logFile)

	cmd := exec.Command("redis-server", append(s.args, "--port", strconv.Itoa(port))...)
	cmd.SysProcAttr = sysProcAttr()
	var out bytes.Buffer // startup errors go to stdout before the log file is open
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()

	deadline := time.Now().Add(startTimeout)
	for {
		reply, err := do(addr, s.password, "PING")
		if err == nil && reply == "PONG" {
			s.port, s.Addr, s.proc = port, addr, p
			return nil
		}
		select {
		case <-p.done:
			log := tail(logFile, logStart)
			if bytes.Contains([]byte(log), []byte("Address already in use")) {
				return fmt.Errorf("%s: %w", addr, errBind)
			}
			return fmt.Errorf("redis-server on %s exited: %s%s", addr, out.String(), log)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-p.done
			return fmt.Errorf("redis-server on %s did not answer PING within %s (last: %q, %v): %s",
				addr, startTimeout, reply, err, tail(logFile, logStart))
		}
	}
}

// freePort returns a loopback port that was free a moment ago (listen on
// port 0, close). With bus, port+10000 (the Cluster bus port) was free
// too. The caller retries if someone else takes it meanwhile.
func freePort(bus bool) (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if !bus {
			_ = l.Close()
			return port, nil
		}
		if port+10000 > 65535 {
			_ = l.Close()
			continue
		}
		lb, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000)))
		_ = l.Close()
		if err != nil {
			continue
		}
		_ = lb.Close()
		return port, nil
	}
	return 0, errors.New("find a free port pair for a cluster node: none after 100 tries")
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// tail returns what was appended to the log at path since offset, for
// failure messages.
func tail(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	b = b[offset:]
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
