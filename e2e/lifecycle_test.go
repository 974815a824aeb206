package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown: on SIGTERM readiness turns false at once, requests
// in flight finish, and the process exits 0; `gateway healthcheck` follows
// readiness.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseAll := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(releaseAll) // never leave the handler blocked: Close would wait for it
	arrived := make(chan struct{}, 1)
	slow := newUpstream(t)
	slow.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		fmt.Fprint(w, "slow done")
	})
	cfg := writeFile(t, dir, "gateway.yaml", fmt.Sprintf(`
server: {listen: "127.0.0.1:0", drain_delay: 1s, shutdown_timeout: 10s}
admin: {listen: "127.0.0.1:0"}
store: {type: memory}
upstream: {url: %s}
keys: [{private_key_file: %s}]
policy: {default: public}
`, slow.URL, keygen(t, dir, "EdDSA")))
	gw := start(t, "serve", "--config", cfg)
	ready := "http://" + gw.AdminAddr(t) + "/readyz"
	if _, stderr, code := runCmd(t, "", "healthcheck", "--url", ready); code != 0 {
		t.Fatalf("healthcheck on a ready gateway: exit %d %s", code, stderr)
	}

	// Metrics are on the admin listener only.
	res, body := do(t, http.DefaultClient, "GET", "http://"+gw.AdminAddr(t)+"/metrics", "")
	if res.StatusCode != 200 || !strings.Contains(string(body), "gatehouse_build_info") || !strings.Contains(string(body), "go_goroutines") {
		t.Errorf("admin /metrics: %d", res.StatusCode)
	}
	if res, _ := do(t, http.DefaultClient, "GET", "http://"+gw.Addr+"/metrics", ""); res.StatusCode == 200 {
		t.Error("the public listener serves /metrics")
	}

	inflight := make(chan int, 1)
	go func() {
		res, err := http.Get("http://" + gw.Addr + "/slow")
		if err != nil {
			inflight <- -1
			return
		}
		res.Body.Close()
		inflight <- res.StatusCode
	}()
	// Wait until the slow request is at the upstream, then SIGTERM.
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow request never reached the upstream")
	}
	gw.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond) // inside the 1s drain delay
	if res, err := http.Get(ready); err != nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining: %v %v", res, err)
	}
	if _, _, code := runCmd(t, "", "healthcheck", "--url", ready); code != 1 {
		t.Errorf("healthcheck while draining: exit %d, want 1", code)
	}
	releaseAll()
	if st := <-inflight; st != 200 {
		t.Errorf("the in-flight request got %d, want 200", st)
	}
	exited, err := gw.Wait(15 * time.Second)
	if !exited {
		t.Fatal("the gateway did not exit within 15s of SIGTERM")
	}
	if err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, gw.Stderr())
	}
}

// TestHotReload: SIGHUP swaps in a changed policy without a restart; a
// logout made before the reload stays in force, refresh tokens issued
// before it still work, and an invalid file is refused while the last good
// configuration keeps serving.
func TestHotReload(t *testing.T) {
	gw, _, cfgFile := sessionGateway(t, "", "tokens: {access_ttl: 1m}\n")
	base := "http://" + gw.Addr
	original, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	withAdminRule := strings.Replace(string(original), "    - {path_prefix: /public, access: public}",
		"    - {path_prefix: /public, access: public}\n    - {path_prefix: /admin, roles_any: [admin]}", 1)
	writeFile(t, filepath.Dir(cfgFile), filepath.Base(cfgFile), withAdminRule)
	hup := func() {
		t.Helper()
		if err := gw.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	waitStatus := func(tok string, want int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			st, code := bearerGet(t, base+"/admin", tok)
			if st == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET /admin: %d %s, want %d", st, code, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	kept, gone := headerLogin(t, base), headerLogin(t, base)
	hup()
	waitStatus(kept.Access, 403) // the new rule is in force

	res, _ := do(t, http.DefaultClient, "POST", base+"/.auth/logout", "", "Authorization", "Bearer "+gone.Access, "X-Auth-Mode", "header")
	if res.StatusCode != 204 {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	writeFile(t, filepath.Dir(cfgFile), filepath.Base(cfgFile), string(original))
	hup()
	waitStatus(kept.Access, 200) // the rule is gone again
	if st, code := bearerGet(t, base, gone.Access); st != 401 || code != "SESSION_REVOKED" {
		t.Errorf("a logout from before the reload: %d %s", st, code)
	}
	if st, _, body := headerRefresh(t, base, kept.Refresh); st != 200 {
		t.Errorf("a refresh token from before the reloads: %d %s", st, body)
	}

	writeFile(t, filepath.Dir(cfgFile), filepath.Base(cfgFile), withAdminRule+"\nfrobnicate: 1\n")
	hup()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(gw.Stderr(), "reload refused") {
		if time.Now().After(deadline) {
			t.Fatalf("an invalid reload was not refused in the log:\n%s", gw.Stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(gw.Stderr(), "frobnicate") {
		t.Error("the refusal does not name the bad key")
	}
	if st, _ := bearerGet(t, base+"/admin", kept.Access); st != 200 {
		t.Errorf("after a refused reload the last good configuration must keep serving: %d", st)
	}
}
