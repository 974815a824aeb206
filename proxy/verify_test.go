package proxy

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
)

func trustLoopback(c *config.Config) { c.TrustedProxies = []string{"192.0.2.1"} }

// verify asks the forward-auth endpoint about a request, as a trusted
// proxy (peer 192.0.2.1) would, with the nginx or the Traefik/Caddy
// header convention.
func (se *sessionEnv) verify(query, method, uri string, nginx bool, hdr ...string) *http.Response {
	r := httptest.NewRequest("GET", "/.auth/verify"+query, nil)
	r.RemoteAddr = "192.0.2.1:40000"
	if nginx {
		r.Header.Set("X-Original-Method", method)
		r.Header.Set("X-Original-URI", uri)
	} else {
		r.Header.Set("X-Forwarded-Method", method)
		r.Header.Set("X-Forwarded-Uri", uri)
		r.Header.Set("X-Forwarded-Host", "app.example.test")
		r.Header.Set("X-Forwarded-Proto", "https")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return se.do(r)
}

func TestVerifyDecisions(t *testing.T) {
	se := newSessionEnv(t, trustLoopback, withCORS)
	cookie := se.login(t)
	for _, nginx := range []bool{true, false} {
		name := map[bool]string{true: "nginx", false: "traefik/caddy"}[nginx]
		t.Run(name, func(t *testing.T) {
			res := se.verify("", "GET", "/app/x?y=1", nginx, "Cookie", cookie)
			if res.StatusCode != 200 || res.Header.Get("X-Auth-User") != "alice" {
				t.Fatalf("allowed: %d, X-Auth-User %q", res.StatusCode, res.Header.Get("X-Auth-User"))
			}
			for _, h := range []string{"X-Auth-Email", "X-Auth-Roles", "X-Auth-Session"} {
				if _, ok := res.Header[h]; !ok {
					t.Errorf("allowed answer lacks %s (Caddy 2.6 would send a placeholder upstream)", h)
				}
			}
			if res := se.verify("", "GET", "/admin/panel", nginx, "Cookie", cookie); res.StatusCode != 403 || errorCode(t, res) != CodeInsufficientRoles {
				t.Errorf("wrong role: %d", res.StatusCode)
			}
			if res := se.verify("", "DELETE", "/app", nginx, "Accept", "application/json"); res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("anonymous API call: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
			}
			nav := []string{"Accept", "text/html", "Sec-Fetch-Mode", "navigate"}
			res = se.verify("", "GET", "/app/page", nginx, nav...)
			if res.StatusCode != 302 || res.Header.Get("Location") != "/.auth/login?rd=%2Fapp%2Fpage" {
				t.Errorf("anonymous navigation: %d %q", res.StatusCode, res.Header.Get("Location"))
			}
			if res := se.verify("?login=status", "GET", "/app/page", nginx, nav...); res.StatusCode != 401 {
				t.Errorf("anonymous navigation with login=status (nginx): %d", res.StatusCode)
			}
			if res := se.verify("", "GET", "/public/x", nginx); res.StatusCode != 200 || res.Header.Get("X-Auth-User") != "" {
				t.Errorf("public route: %d %q", res.StatusCode, res.Header.Get("X-Auth-User"))
			}
			if res := se.verify("", "GET", "/public/../admin/x", nginx, "Cookie", cookie); res.StatusCode != 403 {
				t.Errorf("dot segments in the forwarded URI: %d, want the admin rule's 403", res.StatusCode)
			}
		})
	}
}

func TestVerifyRefreshModes(t *testing.T) {
	se := newSessionEnv(t, trustLoopback)
	nav := []string{"Accept", "text/html", "Sec-Fetch-Mode", "navigate"}

	cookie := se.login(t)
	se.clock.Advance(6 * time.Minute)
	res := se.verify("", "GET", "/app", true, "Cookie", cookie)
	rotated, _ := newCookie(res, se.gw.cookies.Name())
	if res.StatusCode != 200 || rotated == "" || len(res.Header.Values("Set-Cookie")) != 1 {
		t.Fatalf("inline: %d, Set-Cookie %q", res.StatusCode, res.Header.Values("Set-Cookie"))
	}

	cookie = se.login(t)
	se.clock.Advance(6 * time.Minute)
	res = se.verify("?refresh=redirect", "GET", "/app/page?x=1", false, append(nav, "Cookie", cookie)...)
	loc := res.Header.Get("Location")
	if res.StatusCode != 302 || loc != "/.auth/refresh?rd="+url.QueryEscape("/app/page?x=1") || len(res.Cookies()) != 0 {
		t.Fatalf("redirect: %d %q %v", res.StatusCode, loc, res.Cookies())
	}
	// The browser follows it: GET /.auth/refresh rotates and returns.
	r := httptest.NewRequest("GET", loc, nil)
	r.Header.Set("Cookie", cookie)
	res = se.do(r)
	if rot, _ := newCookie(res, se.gw.cookies.Name()); res.StatusCode != 302 || res.Header.Get("Location") != "/app/page?x=1" || rot == "" {
		t.Fatalf("GET refresh: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	// A fetch in redirect mode is told to refresh itself.
	if res := se.verify("?refresh=redirect", "GET", "/app", false, "Cookie", cookie, "Accept", "application/json"); res.StatusCode != 401 || errorCode(t, res) != CodeTokenExpired {
		t.Errorf("redirect mode, API call: %d", res.StatusCode)
	}

	cookie = se.login(t)
	se.clock.Advance(6 * time.Minute)
	if res := se.verify("?refresh=deny", "GET", "/app", true, "Cookie", cookie, "Accept", "application/json"); res.StatusCode != 401 || errorCode(t, res) != CodeTokenExpired || len(res.Cookies()) != 0 {
		t.Errorf("deny: %d", res.StatusCode)
	}
}

func TestVerifyRefusesBadInput(t *testing.T) {
	se := newSessionEnv(t, trustLoopback, withCORS)
	// An untrusted peer cannot describe a request.
	r := httptest.NewRequest("GET", "/.auth/verify", nil)
	r.RemoteAddr = "203.0.113.9:1234"
	r.Header.Set("X-Forwarded-Uri", "/public/x")
	if res := se.do(r); res.StatusCode != 403 || errorCode(t, res) != CodeUntrustedProxy {
		t.Errorf("untrusted peer: %d", res.StatusCode)
	}
	for name, hdr := range map[string][]string{
		"no uri":           {},
		"relative uri":     {"X-Forwarded-Uri", "app"},
		"absolute uri":     {"X-Forwarded-Uri", "http://evil/app"},
		"bad method":       {"X-Forwarded-Uri", "/app", "X-Forwarded-Method", "GET /x"},
		"bad original url": {"X-Original-URL", "not a url"},
	} {
		r := httptest.NewRequest("GET", "/.auth/verify", nil)
		r.RemoteAddr = "192.0.2.1:1"
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		if res := se.do(r); res.StatusCode/100 == 2 || res.StatusCode >= 500 {
			t.Errorf("%s: %d, want a 4xx", name, res.StatusCode)
		}
	}
	if res := se.verify("", "GET", "/a%2Fb", true); res.StatusCode != 400 {
		t.Errorf("encoded slash: %d", res.StatusCode)
	}
	res := se.verify("", "OPTIONS", "/app", false, "Origin", spaOrigin, "Access-Control-Request-Method", "POST")
	if res.StatusCode != 403 || errorCode(t, res) != CodePreflightNotRouted {
		t.Errorf("forwarded preflight: %d", res.StatusCode)
	}
	// CSRF applies to the original request, not to the auth subrequest
	// (always a GET).
	cookie := se.login(t)
	res = se.verify("", "POST", "/app/transfer", true, "Cookie", cookie, "Origin", evilOrigin, "Sec-Fetch-Site", "cross-site")
	if res.StatusCode != 403 || errorCode(t, res) != CodeCSRFRejected {
		t.Errorf("cross-site cookie POST through forward-auth: %d", res.StatusCode)
	}
	if res := se.verify("", "POST", "/app/transfer", true, "Cookie", cookie, "Origin", spaOrigin, "Sec-Fetch-Site", "same-site"); res.StatusCode != 200 {
		t.Errorf("POST from the allowed SPA through forward-auth: %d", res.StatusCode)
	}
	// The nginx absolute form.
	r = httptest.NewRequest("GET", "/.auth/verify", nil)
	r.RemoteAddr = "192.0.2.1:1"
	r.Header.Set("X-Original-URL", "https://app.example.test/public/?q=1")
	if res := se.do(r); res.StatusCode != 200 {
		t.Errorf("X-Original-URL: %d", res.StatusCode)
	}
}

// TestVerifyConflictingOriginal: nginx sets X-Original-URI and passes a
// client's X-Forwarded-Uri through unchanged; two different accounts of
// the original request are refused, never one of them believed.
func TestVerifyConflictingOriginal(t *testing.T) {
	se := newSessionEnv(t, trustLoopback)
	for _, tc := range []struct {
		name   string
		nginx  bool
		method string
		hdr    []string
		want   int
	}{
		{"client X-Forwarded-Uri beside nginx's X-Original-URI", true, "GET", []string{"X-Forwarded-Uri", "/public/x"}, 400},
		{"client X-Original-URI beside Caddy's X-Forwarded-Uri", false, "GET", []string{"X-Original-URI", "/public/x"}, 400},
		{"client X-Forwarded-Method beside nginx's X-Original-Method", true, "POST", []string{"X-Forwarded-Method", "GET"}, 400},
		{"the same value twice is one account", true, "GET", []string{"X-Forwarded-Uri", "/app/x"}, 401},
		{"control: nginx alone", true, "GET", nil, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := se.verify("", tc.method, "/app/x", tc.nginx, append(tc.hdr, "Accept", "application/json")...)
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
			if tc.want == 400 && errorCode(t, res) != CodeInvalidRequest {
				t.Errorf("code %q, want %s", errorCode(t, res), CodeInvalidRequest)
			}
		})
	}
}

// TestVerifyRefusesForeignUpgrades: Caddy relays any upgrade the app
// accepts, so an h2c upgrade on an allowed route would tunnel past the
// policy (e2e/attack TestForwardAuth/caddy/h2c_upgrade); verify refuses it.
func TestVerifyRefusesForeignUpgrades(t *testing.T) {
	se := newSessionEnv(t, trustLoopback)
	for up, want := range map[string]int{"h2c": 400, "H2C": 400, "TLS/1.0": 400, "websocket": 200} {
		res := se.verify("", "GET", "/public/x", false, "Connection", "Upgrade", "Upgrade", up)
		if res.StatusCode != want {
			t.Errorf("Upgrade %s: status %d, want %d", up, res.StatusCode, want)
		}
	}
}
