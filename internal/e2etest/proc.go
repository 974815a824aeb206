package e2etest

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"
)

// Time limits for a gateway process. They bound waits for a process that
// is broken; a working one is far quicker.
const (
	startTimeout  = 30 * time.Second // until the public listener is logged
	adminTimeout  = 10 * time.Second // until the admin listener is logged
	stopTimeout   = 20 * time.Second // from SIGINT to exit
	outputTimeout = 10 * time.Second // until expected stdout is copied
)

// listeningRE matches the gateway's "listening" log line in JSON and in
// text format.
var listeningRE = regexp.MustCompile(`"msg":"listening","listener":"(public|admin)","addr":"([^"]+)"|msg=listening listener=(public|admin) addr=(\S+)`)

// Proc is a running gateway process.
type Proc struct {
	// Addr is the host:port of the public listener.
	Addr string

	cmd    *exec.Cmd
	stdout LockedBuffer
	stderr LockedBuffer

	admin      string        // set before adminReady is closed
	adminReady chan struct{} // closed when the admin listener is logged
	done       chan struct{} // closed when the process has exited
	scanned    chan struct{} // closed when its whole log has been read
	exitErr    error         // set before done is closed
	stopOnce   sync.Once
}

// Start runs the gateway binary bin with args and waits until it logs its
// public listening address. The process is stopped when the test ends (see
// Stop); a clean shutdown must exit 0.
func Start(t testing.TB, bin string, args ...string) *Proc {
	t.Helper()
	p := &Proc{cmd: exec.Command(bin, args...), adminReady: make(chan struct{}),
		done: make(chan struct{}), scanned: make(chan struct{})}
	pr, pw := io.Pipe()
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = io.MultiWriter(&p.stderr, pw)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting the gateway: %v", err)
	}
	public := make(chan string, 1)
	go func() {
		p.scan(pr, public)
		close(p.scanned)
	}()
	go func() {
		p.exitErr = p.cmd.Wait()
		close(p.done)
		pw.Close()
	}()
	select {
	case p.Addr = <-public:
	case <-p.done:
		<-p.scanned // a process may log its address and exit at once
		select {
		case p.Addr = <-public:
		default:
			t.Fatalf("gateway %v exited before listening: %v\nstderr:\n%s", args, p.exitErr, p.Stderr())
		}
	case <-time.After(startTimeout):
		p.cmd.Process.Kill()
		t.Fatalf("gateway %v did not start in %s\nstderr:\n%s", args, startTimeout, p.Stderr())
	}
	t.Cleanup(func() { p.Stop(t) })
	return p
}

// scan reads the log for the listening lines: the public address goes to
// public, the admin address to p.admin.
func (p *Proc) scan(log io.Reader, public chan<- string) {
	sc := bufio.NewScanner(log)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := listeningRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if name, addr := m[1]+m[3], m[2]+m[4]; name == "admin" {
			select {
			case <-p.adminReady:
			default:
				p.admin = addr
				close(p.adminReady)
			}
		} else {
			select {
			case public <- addr:
			default:
			}
		}
	}
	io.Copy(io.Discard, log)
}

// AdminAddr waits for the admin listener's address to be logged and
// returns it; the test fails when none is.
func (p *Proc) AdminAddr(t testing.TB) string {
	t.Helper()
	select {
	case <-p.adminReady:
		return p.admin
	case <-p.scanned: // the process has exited: the log is complete
		select {
		case <-p.adminReady:
			return p.admin
		default:
		}
	case <-time.After(adminTimeout):
	}
	t.Fatalf("the gateway logged no admin listener\nstderr:\n%s", p.Stderr())
	return ""
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait waits up to d for the process to exit. It reports whether the
// process exited in time and, if so, its exit error (nil for status 0).
func (p *Proc) Wait(d time.Duration) (exited bool, exitErr error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		select { // both may be ready: an exit wins
		case <-p.done:
		default:
			return false, nil
		}
	}
	return true, p.exitErr
}

// Stop sends SIGINT and waits for the process: a clean shutdown must exit
// 0 within 20s, or the test fails. A process that has already exited is
// judged by its exit status alone. It is safe to call more than once;
// only the first call acts.
func (p *Proc) Stop(t testing.TB) {
	t.Helper()
	p.stopOnce.Do(func() {
		p.cmd.Process.Signal(os.Interrupt)
		exited, err := p.Wait(stopTimeout)
		if !exited {
			p.cmd.Process.Kill()
			t.Errorf("gateway did not stop within %s of SIGINT", stopTimeout)
			return
		}
		if err != nil {
			t.Errorf("gateway did not shut down cleanly: %v\nstderr:\n%s", err, p.Stderr())
		}
	})
}

// WaitStdout waits for the process's stdout to match re and returns the
// match and its submatches. Stdout and the log are copied from separate
// pipes, so a line printed before the listening line may still be in
// flight when Start returns: read what the gateway prints with this, not
// Stdout. The test fails when nothing matches by the time the process
// exits or outputTimeout passes.
func (p *Proc) WaitStdout(t testing.TB, re *regexp.Regexp) []string {
	t.Helper()
	return p.waitOutput(t, "stdout", p.Stdout, re)
}

// WaitLog is WaitStdout for the log (stderr): a line the gateway logged
// just before answering may reach the test after the answer does.
func (p *Proc) WaitLog(t testing.TB, re *regexp.Regexp) []string {
	t.Helper()
	return p.waitOutput(t, "the log", p.Stderr, re)
}

func (p *Proc) waitOutput(t testing.TB, name string, output func() string, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.NewTimer(outputTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if m := re.FindStringSubmatch(output()); m != nil {
			return m
		}
		select {
		case <-tick.C:
			continue
		case <-p.done: // Wait has copied all output: one last look
			if m := re.FindStringSubmatch(output()); m != nil {
				return m
			}
			t.Fatalf("the process exited (%v) without writing %q to %s:\n%s", p.exitErr, re, name, output())
		case <-deadline.C:
			t.Fatalf("no %q in %s after %s:\n%s", re, name, outputTimeout, output())
		}
		return nil
	}
}

// Stdout returns what the process has written to stdout so far.
func (p *Proc) Stdout() string { return p.stdout.String() }

// Stderr returns the process's log so far.
func (p *Proc) Stderr() string { return p.stderr.String() }
