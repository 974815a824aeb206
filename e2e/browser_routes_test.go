package e2e

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/session"
)

// TestBrowserRouteCORS checks per-route CORS in headless Chromium: the
// preflight of each call is answered with the allowlist of the rule the
// actual request matches, and the browser enforces the answer.
func TestBrowserRouteCORS(t *testing.T) {
	node, chromium := browserTools(t)
	up := identityUpstream(t)
	spa, partner := staticSite(t), staticSite(t)

	dir := t.TempDir()
	key := keygen(t, dir, "EdDSA")
	cfg := writeFile(t, dir, "gateway.yaml", fmt.Sprintf(`
server: {listen: "127.0.0.1:0"}
admin: {listen: ""}
store: {type: memory}
tokens: {issuer: https://gw.example.test, audience: apps}
upstream: {url: %s}
keys: [{private_key_file: %s}]
cors: {allowed_origins: [%q]}
policy:
  rules:
    - path_prefix: /partner
      methods: [GET]
      cors: {allowed_origins: [%q], allowed_methods: [GET]}
`, up.URL, key, spa, partner))
	gw := localhost(start(t, "serve", "--config", cfg).Addr)
	token, _, err := minter(t, key, "apps").Mint(session.Identity{Subject: "alice", Roles: []string{"user"}}, "s1")
	if err != nil {
		t.Fatal(err)
	}

	out := runScenario(t, node, chromium, "route-cors", map[string]any{"spa": spa, "partner": partner, "gateway": gw, "token": token})
	for _, name := range []string{"partnerApi", "spaApp"} {
		if s := out.step(name); s.Status != 200 || s.user() != "alice" {
			t.Errorf("%s: %s, want 200 as alice", name, s)
		}
	}
	for _, name := range []string{"partnerApp", "spaPartner", "partnerDelete"} {
		if s := out.step(name); s.Error != "TypeError: Failed to fetch" {
			t.Errorf("%s: %s, want the browser to refuse it (CORS)", name, s)
		}
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	for _, r := range up.reqs {
		if r.Method != http.MethodGet {
			t.Errorf("%s %s reached the upstream", r.Method, r.URL.Path)
		}
	}
}
