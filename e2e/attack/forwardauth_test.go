package attack

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/e2etest"
)

// faCase is a request through a proxy. Proxies answer refusals in their
// own ways (nginx turns a 400 from the auth service into a 500), so a
// refused case only requires a status of 400 or more and an untouched app.
type faCase struct {
	name    string
	req     string
	allowed bool
	// noUpgrade: refused, or reached the app as a plain request (the
	// proxy does not relay the upgrade: nginx without Upgrade set).
	noUpgrade bool
	upstream  func(t *testing.T, r record)
}

// TestForwardAuth: the header and path families through nginx and Caddy
// running the documented recipes, the gateway answering /.auth/verify.
func TestForwardAuth(t *testing.T) {
	t.Parallel()
	for _, r := range e2etest.ForwardAuthProxies() {
		t.Run(r.Name, func(t *testing.T) {
			t.Parallel()
			pe := newProxyEnv(t, r)
			_, _, alice := login(t, "http://"+pe.proxy, "alice", false)
			session := "Cookie: gatehouse=" + alice
			get := func(method, target, host string, hdr ...string) string {
				h := append([]string{"{{case}}", "Accept: application/json"}, hdr...)
				if method != "GET" {
					h = append(h, "Content-Length: 0")
				}
				return rawRequest(method, target, host, h...)
			}
			var cases []faCase
			// The original request is what the proxy says, never what the
			// client adds: a client-sent X-Forwarded-Uri or X-Original-URI
			// naming a public path, or a method the rule allows.
			for _, h := range []string{
				"X-Forwarded-Uri: /public/x", "X-Original-URI: /public/x", "X-Original-URL: http://gw.attack.test/public/x",
				"x-forwarded-uri: /public/x", "X-Forwarded-Prefix: /public",
			} {
				cases = append(cases,
					faCase{name: "anonymous, " + h, req: get("GET", "/app/x", "gw.attack.test", h)},
					faCase{name: "user on admin, " + h, req: get("GET", "/admin/x", "gw.attack.test", h, session)},
				)
			}
			for _, h := range []string{"X-Forwarded-Method: GET", "X-Original-Method: GET", "X-HTTP-Method-Override: GET"} {
				cases = append(cases, faCase{name: "POST as user, " + h, req: get("POST", "/api/write/x", "gw.attack.test", h, session, "Origin: http://gw.attack.test")})
			}
			// Method-override headers never reach the app: an allowed GET
			// must not run as a DELETE in an app that honours them.
			for _, h := range []string{"X-HTTP-Method-Override: DELETE", "X-HTTP-Method: DELETE", "X-Method-Override: DELETE", "x-http-method-override: DELETE",
				"X_HTTP_Method_Override: DELETE", "X.HTTP.Method.Override: DELETE", "X.Method.Override: DELETE"} {
				cases = append(cases, faCase{name: "GET as user, " + h, req: get("GET", "/app/x", "gw.attack.test", h, session), allowed: true,
					upstream: func(t *testing.T, r record) {
						for _, n := range []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"} {
							if v := folded(r.Header, n); len(v) > 0 {
								t.Errorf("the app received %s: %q", n, v)
							}
						}
					}})
			}
			// Hosts: the rule for the host the app is asked for.
			for _, h := range []string{"admin.attack.test", "ADMIN.attack.test.", "admin.attack.test:80"} {
				cases = append(cases,
					faCase{name: "host " + h + " as user", req: get("GET", "/app/x", h, session, "X-Forwarded-Host: gw.attack.test")},
				)
			}
			cases = append(cases, faCase{name: "X-Forwarded-Host admin from the client", req: get("GET", "/app/x", "gw.attack.test", session, "X-Forwarded-Host: admin.attack.test"),
				allowed: true, upstream: func(t *testing.T, r record) {
					for _, v := range folded(r.Header, "X-Forwarded-Host") {
						if strings.Contains(v, "admin") {
							t.Errorf("the app was told X-Forwarded-Host %q, which the policy did not judge", v)
						}
					}
				}})
			// Paths.
			for _, p := range []string{"/public/../admin/x", "/public/%2e%2e/admin/x", "//admin/x", "/public/..%2fadmin/x", "/public/..;/admin/x",
				`/public/..\admin\x`, "/public/%252e%252e/admin/x", "/public/%c0%ae%c0%ae/admin/x", "/admin%00/x", "/public%23/../admin/x", "/admin/x#"} {
				cases = append(cases, faCase{name: "path " + p, req: get("GET", p, "gw.attack.test", session)})
			}
			// Identity headers: forged ones never reach the app, with or
			// without a session.
			for _, name := range []string{"X-Auth-User", "x-auth-user", "X-AUTH-USER", "X_Auth_User", "X.Auth.User", "X-Auth_User", "X-Auth-Roles", "X-Auth-Email", "X-Auth-Session"} {
				forged := name + ": forged-admin"
				cases = append(cases,
					faCase{name: "anonymous " + name, req: get("GET", "/app/x", "gw.attack.test", forged)},
					faCase{name: "admin route " + name, req: get("GET", "/admin/x", "gw.attack.test", session, strings.Replace(forged, "forged-admin", "admin", 1))},
					faCase{name: "session " + name, req: get("GET", "/app/x", "gw.attack.test", session, forged, forged), allowed: true,
						upstream: all(noForgery("forged"), wantIdentity("alice", "user"))},
				)
			}
			// Cross-site WebSocket hijacking: a foreign page's handshake
			// with the user's cookie.
			ws := []string{session, "Upgrade: websocket", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Origin: https://evil.attack.test"}
			cases = append(cases, faCase{name: "websocket from a foreign origin", noUpgrade: true,
				req: strings.Replace(get("GET", "/app/ws", "gw.attack.test", ws...), "Connection: close", "Connection: Upgrade", 1)})
			cases = append(cases, faCase{name: "control: public", req: get("GET", "/public/x", "gw.attack.test"), allowed: true})
			t.Run("h2c upgrade", func(t *testing.T) { h2cThroughProxy(t, pe, session) })
			for i, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					id := t.Name() + "-" + strings.Repeat("i", i%2)
					req := strings.Replace(c.req, "{{case}}", caseHdr+": "+id, 1)
					res := sendRaw(t, pe.proxy, req)
					if res == nil {
						t.Fatalf("no answer from %s", r.Name)
					}
					got := pe.up.forCase(id)
					switch {
					case c.noUpgrade && len(got) == 1:
						if v := got[0].Header.Get("Upgrade"); v != "" {
							t.Errorf("a cross-site handshake reached the app as an upgrade (%q)", v)
						}
					case c.allowed && (res.StatusCode != 200 || len(got) != 1):
						t.Fatalf("status %d, app called %d times; want 200 and once\n%s", res.StatusCode, len(got), res.Body)
					case c.allowed && c.upstream != nil:
						c.upstream(t, got[0])
					case !c.allowed && (res.StatusCode < 400 || len(got) != 0):
						t.Errorf("status %d, app called %d times; want a refusal that never reaches the app\n%s", res.StatusCode, len(got), res.Body)
					}
				})
			}
		})
	}
}

// h2cThroughProxy asks for an h2c upgrade through the proxy on an allowed
// route; if the proxy relays it, it sends a request for /admin on the
// switched connection. The app accepts h2c upgrades (recorder.acceptH2C).
func h2cThroughProxy(t *testing.T, pe *proxyEnv, session string) {
	id := t.Name()
	c, err := net.DialTimeout("tcp", pe.proxy, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	req := rawRequest("GET", "/public/x", "gw.attack.test", caseHdr+": "+id, session,
		"Upgrade: h2c", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA")
	req = strings.Replace(req, "Connection: close", "Connection: Upgrade, HTTP2-Settings", 1)
	io.WriteString(c, req)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusSwitchingProtocols {
		io.WriteString(c, "GET /admin/secret HTTP/1.1\r\nHost: app\r\n\r\n")
		time.Sleep(1500 * time.Millisecond) // the app reads for 1s
	}
	for _, r := range pe.up.forCase(id) {
		if r.Method == "SMUGGLED" {
			t.Errorf("the proxy relayed an h2c upgrade: the app received %q past the policy", r.Body)
		}
	}
}
