package attack

import (
	"os"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/e2etest"
)

// gatewayBin is the binary under attack, built once (with -race, so a data
// race a hostile request provokes fails the run) by TestMain.
var gatewayBin string

func TestMain(m *testing.M) {
	os.Exit(e2etest.Main(m, "gatehouse-attack-", func(bin string) { gatewayBin = bin }))
}

// startGateway runs `gateway serve` with the configuration file and waits
// for its listening addresses. It is stopped when the test ends; a panic
// or a data race in its log fails the test.
func startGateway(t *testing.T, cfgFile string) *e2etest.Proc {
	t.Helper()
	p := e2etest.Start(t, gatewayBin, "serve", "--config", cfgFile)
	p.AdminAddr(t)
	// Cleanups run last-in first-out: this one runs before the Stop that
	// Start registered, so it stops the gateway itself (Stop acts once).
	t.Cleanup(func() {
		p.Stop(t)
		log := p.Stderr()
		for _, bad := range []string{"WARNING: DATA RACE", "panic:", "goroutine "} {
			if strings.Contains(log, bad) {
				t.Errorf("the gateway log shows %q:\n%s", bad, log)
				return
			}
		}
		if t.Failed() {
			t.Logf("gateway log:\n%s", log)
		}
	})
	return p
}

// runGateway runs the binary to completion (keygen, hash-password); a
// non-zero exit fails the test.
func runGateway(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, stderr, code := e2etest.Run(t, gatewayBin, stdin, args...)
	if code != 0 {
		t.Fatalf("gateway %v: exit %d\n%s", args, code, stderr)
	}
	return out
}

// writeFile writes a file under dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	return e2etest.WriteFile(t, dir, name, content)
}
