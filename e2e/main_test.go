package e2e

import (
	"encoding/json"
	"io"
	"os"
	"testing"

	"github.com/gatehouse/gatehouse/internal/e2etest"
)

// gatewayBin is the binary under test, built once by TestMain.
var gatewayBin string

func TestMain(m *testing.M) {
	os.Exit(e2etest.Main(m, "gatehouse-e2e-", func(bin string) { gatewayBin = bin }))
}

// start runs the gateway with args and waits until it logs its listening
// address. The process is stopped (SIGINT) when the test ends, and its
// exit status is checked: a clean shutdown must exit 0.
func start(t *testing.T, args ...string) *e2etest.Proc {
	t.Helper()
	return e2etest.Start(t, gatewayBin, args...)
}

// runCmd runs the gateway to completion and returns its output and exit code.
func runCmd(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return e2etest.Run(t, gatewayBin, stdin, args...)
}

// writeFile writes a file under dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	return e2etest.WriteFile(t, dir, name, content)
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
