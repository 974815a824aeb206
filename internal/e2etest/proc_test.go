package e2etest

import (
	"regexp"
	"strings"
	"testing"
)

// The process tests run /bin/sh scripts that print the gateway's listening
// lines: they test the harness's handling of a process (addresses, output,
// shutdown), which the e2e suites then use with the real gateway.

// serve is a script that logs listening lines (in the format given), says
// hello on stdout and exits with code on SIGINT.
func serve(lines, code string) []string {
	return []string{"-c", "trap 'exit " + code + "' INT; " + lines + "; echo hello; while :; do sleep 0.05; done"}
}

const (
	jsonLines = `echo '{"level":"INFO","msg":"listening","listener":"public","addr":"127.0.0.1:1001"}' >&2; ` +
		`echo '{"level":"INFO","msg":"listening","listener":"admin","addr":"127.0.0.1:1002"}' >&2`
	textLines = `echo 'level=INFO msg=listening listener=admin addr=127.0.0.1:2002' >&2; ` +
		`echo 'level=INFO msg=listening listener=public addr=127.0.0.1:2001' >&2`
)

func TestStartFindsListeners(t *testing.T) {
	for _, c := range []struct {
		name, lines, public, admin string
	}{
		{"json", jsonLines, "127.0.0.1:1001", "127.0.0.1:1002"},
		{"text, admin first", textLines, "127.0.0.1:2001", "127.0.0.1:2002"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := Start(t, "/bin/sh", serve(c.lines, "0")...)
			if p.Addr != c.public {
				t.Errorf("Addr = %q, want %q", p.Addr, c.public)
			}
			if got := p.AdminAddr(t); got != c.admin {
				t.Errorf("AdminAddr = %q, want %q", got, c.admin)
			}
			if !strings.Contains(p.Stderr(), "listening") {
				t.Errorf("Stderr() lacks the log: %q", p.Stderr())
			}
			if m := p.WaitStdout(t, regexp.MustCompile(`^hello\n$`)); m == nil {
				t.Fatal("WaitStdout returned no match")
			}
		})
	}
}

// TestWaitStdoutWaits: what a process prints after its listening line (or
// what is still in the stdout pipe when Start returns) is waited for, and a
// process that exits without printing it fails the test instead of hanging.
func TestWaitStdoutWaits(t *testing.T) {
	late := []string{"-c", "trap 'exit 0' INT; " + jsonLines + "; sleep 0.3; echo DEMO=abc; while :; do sleep 0.05; done"}
	p := Start(t, "/bin/sh", late...)
	if got := p.Stdout(); got != "" {
		t.Fatalf("Stdout() = %q right after Start; the script prints later", got)
	}
	if m := p.WaitStdout(t, regexp.MustCompile(`DEMO=(\S+)`)); m == nil || m[1] != "abc" {
		t.Errorf("WaitStdout = %q, want the DEMO line's value abc", m)
	}

	rec := &recordingTB{TB: t}
	rec.run(func(tb testing.TB) {
		quiet := Start(tb, "/bin/sh", "-c", jsonLines+"; sleep 0.2; exit 0")
		quiet.WaitStdout(tb, regexp.MustCompile(`DEMO=`))
	})
	if !strings.Contains(rec.fatal, "exited") {
		t.Errorf("WaitStdout on a process that exits silently: fatal %q, want one saying it exited", rec.fatal)
	}
}

func TestStopJudgesTheExit(t *testing.T) {
	for _, c := range []struct {
		name, code string
		wantErr    string // "" for a clean shutdown
	}{
		{"exit 0 is clean", "0", ""},
		{"exit 3 is not", "3", "did not shut down cleanly: exit status 3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			var p *Proc
			rec.run(func(tb testing.TB) {
				p = Start(tb, "/bin/sh", serve(jsonLines, c.code)...)
				p.Stop(tb)
				p.Stop(tb) // acts once
			})
			if rec.fatal != "" {
				t.Fatalf("Start: %s", rec.fatal)
			}
			if exited, _ := p.Wait(0); !exited {
				t.Error("the process still runs after Stop")
			}
			switch {
			case c.wantErr == "" && len(rec.errors) != 0:
				t.Errorf("Stop reported %q, want nothing", rec.errors)
			case c.wantErr != "" && (len(rec.errors) != 1 || !strings.Contains(rec.errors[0], c.wantErr)):
				t.Errorf("Stop reported %q, want one error with %q", rec.errors, c.wantErr)
			}
		})
	}
}

func TestStartFailsWhenTheProcessExits(t *testing.T) {
	rec := &recordingTB{TB: t}
	rec.run(func(tb testing.TB) { Start(tb, "/bin/sh", "-c", "echo 'config: bad' >&2; exit 2") })
	if !strings.Contains(rec.fatal, "exited before listening: exit status 2") || !strings.Contains(rec.fatal, "config: bad") {
		t.Errorf("Start's failure %q, want the exit status and the log", rec.fatal)
	}
}

func TestAdminAddrFailsWithoutAdminListener(t *testing.T) {
	rec := &recordingTB{TB: t}
	rec.run(func(tb testing.TB) {
		p := Start(tb, "/bin/sh", serve(`echo '{"msg":"listening","listener":"public","addr":"127.0.0.1:1"}' >&2; exit 0`, "0")...)
		p.AdminAddr(tb)
	})
	if !strings.Contains(rec.fatal, "no admin listener") {
		t.Errorf("AdminAddr's failure %q, want \"no admin listener\"", rec.fatal)
	}
}

func TestRun(t *testing.T) {
	out, errOut, code := Run(t, "/bin/sh", "in\n", "-c", "read x; echo out:$x; echo err >&2; exit 4")
	if out != "out:in\n" || errOut != "err\n" || code != 4 {
		t.Errorf("Run = %q, %q, %d; want out:in, err, 4", out, errOut, code)
	}
	rec := &recordingTB{TB: t}
	rec.run(func(tb testing.TB) { Run(tb, "/nonexistent/gateway", "") })
	if !strings.Contains(rec.fatal, "/nonexistent/gateway") {
		t.Errorf("Run of a missing binary: %q, want a failure naming it", rec.fatal)
	}
}
