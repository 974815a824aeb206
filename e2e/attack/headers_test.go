package attack

import (
	"net/http"
	"strings"
	"testing"
)

// identitySpellings are the names a framework might read as one of the
// gateway's identity headers: CGI and many app servers fold case, "_" and
// "." into "-" (HTTP_X_AUTH_USER).
var identitySpellings = []string{
	"X-Auth-User", "x-auth-user", "X-AUTH-USER", "X_Auth_User", "x_auth_user", "X.Auth.User",
	"X-Auth_User", "X_Auth-User", "X-Auth-Roles", "X_AUTH_ROLES", "X-Auth-Email", "X-Auth-Session",
	"X-Auth-Dept", "X-Auth-Anything", "X_Auth_Something", "X-User", "X_User", "Remote-User",
	"REMOTE_USER", "Remote.User", "Gatehouse-Grant", "Gatehouse_Grant",
}

// forwardedSpellings are the headers by which a peer describes the client.
var forwardedSpellings = []string{
	"X-Forwarded-For: 6.6.6.6", "X_Forwarded_For: 6.6.6.6", "x-forwarded-for: 6.6.6.6",
	"X-Forwarded-Host: evil.attack.test", "X-Forwarded-Proto: https-evil", "X-Forwarded-Port: 6666",
	"X-Forwarded-Prefix: /evil", "X-Forwarded-Uri: /evil", "X-Forwarded-Server: evil.attack.test",
	"Forwarded: for=6.6.6.6;host=evil.attack.test;proto=https", "X-Real-IP: 6.6.6.6", "X_Real_IP: 6.6.6.6",
	"X-Original-URI: /evil", "X-Original-URL: http://evil.attack.test/evil", "X-Original-Host: evil.attack.test",
	"X-Client-IP: 6.6.6.6", "True-Client-IP: 6.6.6.6", "CF-Connecting-IP: 6.6.6.6",
}

// noForgery fails when any header value the upstream saw carries the
// attacker's marker.
func noForgery(marker string) func(t *testing.T, r record) {
	return func(t *testing.T, r record) {
		t.Helper()
		for k, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, marker) && k != caseHdr {
					t.Errorf("the upstream received %s: %q", k, v)
				}
			}
		}
	}
}

func all(checks ...func(t *testing.T, r record)) func(t *testing.T, r record) {
	return func(t *testing.T, r record) {
		t.Helper()
		for _, c := range checks {
			c(t, r)
		}
	}
}

// gatewaysOwnForwarding checks the forwarding headers are the gateway's
// own account of an untrusted peer.
func gatewaysOwnForwarding(host string) func(t *testing.T, r record) {
	return func(t *testing.T, r record) {
		t.Helper()
		want := map[string]string{"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Host": host, "X-Forwarded-Proto": "http"}
		for name, v := range want {
			if got := folded(r.Header, name); len(got) != 1 || got[0] != v {
				t.Errorf("upstream %s (all spellings) = %q, want [%s]", name, got, v)
			}
		}
		for _, name := range []string{"Forwarded", "X-Real-IP", "X-Original-URI", "X-Original-URL", "X-Forwarded-Uri", "X-Forwarded-Prefix", "True-Client-IP"} {
			if got := folded(r.Header, name); len(got) != 0 {
				t.Errorf("upstream %s (all spellings) = %q, want none", name, got)
			}
		}
	}
}

// TestHeaders: identity and forwarding headers a client sends, in every
// spelling, with and without a session, on public and protected routes;
// and what of the gateway's credentials the upstream may see.
func TestHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	alice := e.keys.valid(t, "alice", map[string]any{"email": "alice@attack.test", "dept": "eng"})
	bearer := "Authorization: Bearer " + alice
	get := func(path string, hdr ...string) string {
		return rawRequest("GET", path, "gw.attack.test", append([]string{"{{case}}", "Accept: application/json"}, hdr...)...)
	}
	var cases []attackCase
	for _, name := range identitySpellings {
		forged := name + ": forged-admin"
		cases = append(cases,
			attackCase{name: "public, anonymous: " + name, req: get("/public/x", forged, forged),
				status: 200, reaches: true, upstream: all(noForgery("forged"), wantIdentity("", ""))},
			attackCase{name: "session: " + name, req: get("/app/x", forged, bearer, forged),
				status: 200, reaches: true, upstream: all(noForgery("forged"), wantIdentity("alice", "user"))},
			attackCase{name: "protected, anonymous: " + name, req: get("/app/x", forged),
				status: 401, code: "UNAUTHENTICATED"},
			attackCase{name: "admin route, forged roles: " + name, req: get("/admin/x", bearer, strings.Replace(forged, "forged-admin", "admin", 1)),
				status: 403, code: "INSUFFICIENT_ROLES"},
		)
	}
	// Every spelling at once, each twice, and named in Connection.
	var many []string
	for _, name := range identitySpellings {
		many = append(many, name+": forged-admin", name+": forged-admin-2")
	}
	conn := "Connection: " + strings.Join([]string{"X-Auth-User", "X-Auth-Roles", "X-Forwarded-For", "X-Forwarded-Host", "X-Request-Id", "Authorization", "Cookie"}, ", ")
	cases = append(cases,
		attackCase{name: "every spelling twice, with a session", req: get("/app/x", append(many, bearer)...),
			status: 200, reaches: true, upstream: all(noForgery("forged"), wantIdentity("alice", "user"))},
		attackCase{name: "every spelling twice, public", req: get("/public/x", many...),
			status: 200, reaches: true, upstream: all(noForgery("forged"), wantIdentity("", ""))},
		attackCase{name: "Connection names identity and forwarding headers", req: get("/app/x", bearer, conn),
			status: 200, reaches: true, upstream: all(wantIdentity("alice", "user"), gatewaysOwnForwarding("gw.attack.test"), func(t *testing.T, r record) {
				if r.Header.Get("X-Request-Id") == "" {
					t.Errorf("X-Request-Id was dropped by naming it in Connection")
				}
			})},
		attackCase{name: "Connection names identity headers, anonymous public", req: get("/public/x", "X-Auth-User: forged-admin", "Connection: close, X-Auth-User"),
			status: 200, reaches: true, upstream: noForgery("forged")},
		// net/http joins an obs-fold continuation into the previous value:
		// it stays X-Foo's text, never a header of its own.
		attackCase{name: "identity header folded onto two lines (obs-fold)", req: get("/public/x", "X-Foo: a", " X-Auth-User: forged"),
			status: 200, reaches: true, upstream: func(t *testing.T, r record) {
				if got := folded(r.Header, "X-Auth-User"); len(got) != 0 {
					t.Errorf("upstream X-Auth-User = %q, want none", got)
				}
			}},
		attackCase{name: "identity header name with a space before the colon", req: get("/public/x", "X-Auth-User : forged-admin"),
			status: 400},
		attackCase{name: "NUL in a header name", req: get("/public/x", "X-Auth-User\x00x: forged-admin"),
			status: 400},
	)
	// Forwarding headers from an untrusted peer (the test connects from
	// 127.0.0.1; trusted_proxies is empty).
	for _, h := range forwardedSpellings {
		cases = append(cases,
			attackCase{name: "untrusted " + h, req: get("/app/x", bearer, h, h),
				status: 200, reaches: true, upstream: all(noForgery("evil"), noForgery("6.6.6.6"), gatewaysOwnForwarding("gw.attack.test"))},
			attackCase{name: "untrusted, public " + h, req: get("/public/x", h),
				status: 200, reaches: true, upstream: all(noForgery("evil"), noForgery("6.6.6.6"), gatewaysOwnForwarding("gw.attack.test"))},
		)
	}
	cases = append(cases,
		attackCase{name: "X-Forwarded-Host names the admin host", req: get("/app/x", bearer, "X-Forwarded-Host: admin.attack.test"),
			status: 200, reaches: true, upstream: gatewaysOwnForwarding("gw.attack.test")},
		attackCase{name: "X-Original-URI names a public path on a protected one", req: get("/app/x", "X-Original-URI: /public/x"),
			status: 401, code: "UNAUTHENTICATED"},
		attackCase{name: "X-Request-Id from an untrusted peer is replaced", req: get("/public/x", "X-Request-Id: forged\r\nX-Auth-User: x"),
			status: 200, reaches: true, upstream: noForgery("forged")},
	)
	// Credentials: the gateway's cookie and a consumed Authorization never
	// reach the upstream; other cookies and schemes do.
	_, _, cookie := login(t, e.base, "alice", false)
	noCred := func(t *testing.T, r record) {
		t.Helper()
		if v := r.Header.Get("Authorization"); strings.HasPrefix(v, "Bearer") {
			t.Errorf("the bearer token reached the upstream: %q", v)
		}
		for _, c := range r.Header.Values("Cookie") {
			if strings.Contains(c, "gatehouse=") || strings.Contains(c, cookie[:20]) {
				t.Errorf("the session cookie reached the upstream: %q", c)
			}
		}
	}
	wantCookie := func(want string) func(t *testing.T, r record) {
		return func(t *testing.T, r record) {
			t.Helper()
			if got := strings.Join(r.Header.Values("Cookie"), "; "); got != want {
				t.Errorf("upstream Cookie = %q, want %q", got, want)
			}
		}
	}
	cases = append(cases,
		attackCase{name: "bearer on a protected route", req: get("/app/x", bearer), status: 200, reaches: true, upstream: noCred},
		attackCase{name: "invalid bearer on a public route", req: get("/public/x", "Authorization: Bearer not.a.token"), status: 200, reaches: true, upstream: noCred},
		attackCase{name: "lower-case bearer scheme", req: get("/app/x", "authorization: bearer "+alice), status: 200, reaches: true, upstream: noCred},
		attackCase{name: "Basic credentials are the app's", req: get("/public/x", "Authorization: Basic dXNlcjpwYXNz"), status: 200, reaches: true,
			upstream: func(t *testing.T, r record) {
				if r.Header.Get("Authorization") != "Basic dXNlcjpwYXNz" {
					t.Errorf("upstream Authorization = %q, want the Basic credentials", r.Header.Get("Authorization"))
				}
			}},
		attackCase{name: "session cookie among others", req: get("/app/x", "Cookie: a=1; gatehouse="+cookie+"; b=2"),
			status: 200, reaches: true, upstream: all(noCred, wantIdentity("alice", "user"), wantCookie("a=1; b=2"))},
		attackCase{name: "session cookie on a second Cookie line", req: get("/app/x", "Cookie: a=1", "Cookie: gatehouse="+cookie),
			status: 200, reaches: true, upstream: all(noCred, wantCookie("a=1"))},
		attackCase{name: "session cookie with spaces around the name", req: get("/app/x", "Cookie: a=1;   gatehouse="+cookie+"  ;b=2"),
			status: 200, reaches: true, upstream: all(noCred)},
		attackCase{name: "session cookie on a public route", req: get("/public/x", "Cookie: gatehouse="+cookie),
			status: 200, reaches: true, upstream: all(noCred, wantIdentity("alice", "user"), wantCookie(""))},
		attackCase{name: "junk session cookie on a public route", req: get("/public/x", "Cookie: gatehouse=junk; keep=1"),
			status: 200, reaches: true, upstream: all(noCred, wantCookie("keep=1"))},
		attackCase{name: "bearer and cookie", req: get("/app/x", bearer, "Cookie: gatehouse="+cookie),
			status: 200, reaches: true, upstream: noCred},
	)
	// Identity values from claims with CR/LF, NUL and non-ASCII.
	for _, v := range []struct{ name, sub, dept string }{
		{"CRLF in dept", "alice", "eng\r\nX-Auth-User: forged-admin"},
		{"LF in sub", "alice\nX-Auth-Roles: forged", "eng"},
		{"NUL in sub", "alice\x00forged", "eng"},
		{"non-ASCII", "ålice", "ingénierie\u2028x"},
		{"DEL and C1", "alice\x7f\u0085", "eng\u0085"},
	} {
		tok := e.keys.valid(t, v.sub, map[string]any{"dept": v.dept})
		cases = append(cases, attackCase{name: "claim value: " + v.name, req: get("/app/x", "Authorization: Bearer "+tok),
			status: 200, reaches: true, upstream: func(t *testing.T, r record) {
				for k, vs := range r.Header {
					for _, hv := range vs {
						if strings.ContainsAny(hv, "\r\n\x00") {
							t.Errorf("upstream %s carries a control byte: %q", k, hv)
						}
					}
				}
				if got := folded(r.Header, "X-Auth-User"); len(got) != 1 {
					t.Errorf("upstream X-Auth-User = %q, want exactly one", got)
				}
				if got := folded(r.Header, "X-Auth-Roles"); len(got) != 1 || got[0] != "user" {
					t.Errorf("upstream X-Auth-Roles = %q, want [user]", got)
				}
			}})
	}
	e.run(t, cases)

	// What the client gets back: the upstream cannot plant the session
	// cookie (checked for every case by checkCase) and the gateway's
	// error answers carry no credential material.
	res := sendRaw(t, e.addr, get("/app/x", "Authorization: Bearer "+alice+"x"))
	if res == nil || res.StatusCode != http.StatusUnauthorized || strings.Contains(string(res.Body), alice[:30]) {
		t.Errorf("an invalid token's answer: %v", res)
	}
}
