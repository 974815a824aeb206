package redistest

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// clusterTimeout bounds cluster creation and convergence.
const clusterTimeout = 30 * time.Second

// StartCluster starts three masters with cluster mode on (no replicas),
// joins them with redis-cli --cluster create, and waits until every node
// reports cluster_state:ok. It returns their addresses; the servers are
// killed at t.Cleanup.
func StartCluster(t testing.TB) []string {
	t.Helper()
	Require(t)
	var addrs []string
	for range 3 {
		s := start(t, t.TempDir(), options{args: []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", // relative to --dir
			"--cluster-node-timeout", "5000",
		}}, true)
		addrs = append(addrs, s.Addr)
	}

	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}

	deadline := time.Now().Add(clusterTimeout)
	for _, addr := range addrs {
		for {
			info, err := do(addr, "", "CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("redistest: cluster node %s not ok after %s: %v\n%s", addr, clusterTimeout, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return addrs
}
