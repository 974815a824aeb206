package redistest

import (
	"strings"
	"testing"
)

func TestStartKillRestart(t *testing.T) {
	s := Start(t, WithAppendOnly(), WithPassword("pw"), WithArgs("--maxmemory", "16mb"))
	if _, err := do(s.Addr, "pw", "SET", "k", "v"); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if _, err := do(s.Addr, "", "GET", "k"); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("GET without the password: error %v, want NOAUTH", err)
	}
	if info, err := do(s.Addr, "pw", "INFO", "memory"); err != nil || !strings.Contains(info, "maxmemory:16777216") {
		t.Errorf("INFO memory = %v, want maxmemory:16777216 from WithArgs", err)
	}

	addr := s.Addr
	s.Kill()
	if _, err := do(addr, "pw", "PING"); err == nil {
		t.Fatal("PING after Kill succeeded")
	}
	s.Kill() // a second Kill does nothing

	s.Restart()
	if s.Addr != addr {
		t.Errorf("Restart moved the server from %s to %s", addr, s.Addr)
	}
	if got, err := do(s.Addr, "pw", "GET", "k"); err != nil || got != "v" {
		t.Errorf("GET after Restart = %q, %v; want the value written before Kill (appendonly)", got, err)
	}
}

func TestTwoServersDifferentPorts(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Addr == b.Addr || a.Dir() == b.Dir() {
		t.Errorf("two servers share %s / %s", a.Addr, a.Dir())
	}
}

func TestStartCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	addrs := StartCluster(t)
	if len(addrs) != 3 {
		t.Fatalf("StartCluster returned %d addresses, want 3", len(addrs))
	}
	for _, addr := range addrs {
		info, err := do(addr, "", "CLUSTER", "INFO")
		if err != nil || !strings.Contains(info, "cluster_known_nodes:3") || !strings.Contains(info, "cluster_slots_assigned:16384") {
			t.Errorf("CLUSTER INFO on %s = %v\n%s", addr, err, info)
		}
	}
}

func TestStartSentinel(t *testing.T) {
	master := Start(t)
	s := StartSentinel(t, master, "mymaster", WithPassword("sentinel-pw"))
	if _, err := do(s.Addr, "sentinel-pw", "PING"); err != nil {
		t.Fatalf("PING the sentinel: %v", err)
	}
}

func TestPauseResume(t *testing.T) {
	s := Start(t)
	s.Pause()
	if _, err := do(s.Addr, "", "PING"); err == nil {
		t.Error("PING answered while paused")
	}
	s.Resume()
	if got, err := do(s.Addr, "", "PING"); err != nil || got != "PONG" {
		t.Errorf("PING after Resume = %q, %v", got, err)
	}
	s.Pause()
	s.Kill() // a paused server can be killed
}
