package attack

import (
	"testing"
)

// TestTrustedProxyHost: behind a trusted proxy (trusted_proxies covers the
// test's 127.0.0.1) the app is told the original host in
// X-Forwarded-Host. Whatever host the app is told is the host the policy
// must have judged: a proxy that passes a client's X-Forwarded-Host
// through, or that rewrites Host, must not let a host rule be skipped.
func TestTrustedProxyHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{extra: "trusted_proxies: [127.0.0.1]\n"})
	user := "Authorization: Bearer " + e.keys.valid(t, "alice", nil)
	admin := "Authorization: Bearer " + e.keys.valid(t, "bob", map[string]any{"roles": []string{"admin"}})
	req := func(host string, hdr ...string) string {
		return rawRequest("GET", "/app/x", host, append([]string{"{{case}}", "Accept: application/json"}, hdr...)...)
	}
	e.run(t, []attackCase{
		{name: "X-Forwarded-Host names the admin host", req: req("gw.attack.test", user, "X-Forwarded-Host: admin.attack.test"), status: 403},
		{name: "X-Forwarded-Host names the admin host, spelled oddly", req: req("gw.attack.test", user, "X-Forwarded-Host: ADMIN.attack.test.:443"), status: 403},
		{name: "Host is the admin host, X-Forwarded-Host another", req: req("admin.attack.test", user, "X-Forwarded-Host: gw.attack.test"),
			status: 200, reaches: true, upstream: forwardedHost("gw.attack.test")},
		{name: "two X-Forwarded-Host values", req: req("gw.attack.test", user, "X-Forwarded-Host: gw.attack.test, admin.attack.test"), status: 403},
		{name: "control: admin on the admin host", req: req("gw.attack.test", admin, "X-Forwarded-Host: admin.attack.test"),
			status: 200, reaches: true, upstream: forwardedHost("admin.attack.test")},
		{name: "control: no X-Forwarded-Host", req: req("admin.attack.test", user), status: 403},
	})
}
