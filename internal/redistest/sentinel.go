package redistest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// StartSentinel starts a Redis Sentinel (redis-server --sentinel) that
// monitors master under name with a quorum of 1, so a client configured
// with the Sentinel's address and name finds the master through it.
// WithPassword sets the Sentinel's own password (a client's
// SentinelPassword); the master is expected to need none.
func StartSentinel(t testing.TB, master *Server, name string, opts ...Option) *Server {
	t.Helper()
	Require(t)
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	host, port, err := net.SplitHostPort(master.Addr)
	if err != nil {
		t.Fatalf("redistest: sentinel: master address %q: %v", master.Addr, err)
	}
	dir := t.TempDir()
	// Sentinel rewrites its config file, so it must be its own, writable.
	o.sentinelConf = filepath.Join(dir, "sentinel.conf")
	conf := fmt.Sprintf("sentinel monitor %s %s %s 1\n", name, host, port)
	if err := os.WriteFile(o.sentinelConf, []byte(conf), 0o600); err != nil {
		t.Fatalf("redistest: sentinel: %v", err)
	}
	return start(t, dir, o, false)
}
