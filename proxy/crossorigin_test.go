package proxy

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

const (
	spaOrigin  = "https://app.example.test"
	evilOrigin = "https://evil.example.net"
)

func withCORS(c *config.Config) {
	c.CORS.AllowedOrigins = []string{spaOrigin, "https://*.tenants.example.test"}
	c.CORS.ExposedHeaders = []string{"X-App-Version"}
}

func TestPreflightAnsweredByGateway(t *testing.T) {
	e := newTestEnv(t, withCORS)
	for _, tc := range []struct {
		origin, method string
		allowed        bool
	}{
		{spaOrigin, "POST", true},
		{"https://a.tenants.example.test", "DELETE", true},
		{evilOrigin, "POST", false},
		{"https://tenants.example.test", "POST", false}, // the apex is not a subdomain
		{spaOrigin, "CONNECT", false},
	} {
		r := httptest.NewRequest("OPTIONS", "/app/items", nil)
		r.Header.Set("Origin", tc.origin)
		r.Header.Set("Access-Control-Request-Method", tc.method)
		r.Header.Set("Access-Control-Request-Headers", "content-type, x-auth-mode")
		res := e.do(r)
		acao := res.Header.Values("Access-Control-Allow-Origin")
		if res.StatusCode != 204 {
			t.Errorf("%s %s: status %d, want 204", tc.origin, tc.method, res.StatusCode)
		}
		if tc.allowed && (len(acao) != 1 || acao[0] != tc.origin || res.Header.Get("Access-Control-Allow-Credentials") != "true") {
			t.Errorf("%s %s: ACAO %q ACAC %q", tc.origin, tc.method, acao, res.Header.Get("Access-Control-Allow-Credentials"))
		}
		if !tc.allowed && len(acao) != 0 {
			t.Errorf("%s %s: refused preflight carries ACAO %q", tc.origin, tc.method, acao)
		}
	}
	if e.up.count() != 0 {
		t.Errorf("%d preflights reached the upstream", e.up.count())
	}
}

func TestActualResponsesCarryOneCORSAnswer(t *testing.T) {
	e := newTestEnv(t, withCORS)
	e.up.h = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Credentials", "false")
		w.Header().Set("Vary", "Accept-Encoding")
		w.Header().Set("X-App-Version", "7")
	}
	r := httptest.NewRequest("GET", "/app", nil)
	r.Header.Set("Origin", spaOrigin)
	r.Header.Set("Authorization", "Bearer "+e.mint(t, alice))
	res := e.do(r)
	if got := res.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != spaOrigin {
		t.Errorf("ACAO = %q, want exactly [%s]", got, spaOrigin)
	}
	if got := res.Header.Values("Access-Control-Allow-Credentials"); len(got) != 1 || got[0] != "true" {
		t.Errorf("ACAC = %q", got)
	}
	expose := res.Header.Get("Access-Control-Expose-Headers")
	for _, h := range []string{"X-App-Version", "X-Request-Id", "WWW-Authenticate"} {
		if !strings.Contains(expose, h) {
			t.Errorf("Expose-Headers %q lacks %s", expose, h)
		}
	}
	vary := strings.Join(res.Header.Values("Vary"), ",")
	if !strings.Contains(vary, "Origin") || !strings.Contains(vary, "Accept-Encoding") {
		t.Errorf("Vary = %q, want Origin added to Accept-Encoding", vary)
	}

	// The gateway's own 401 is readable by the frontend too.
	r = httptest.NewRequest("GET", "/app", nil)
	r.Header.Set("Origin", spaOrigin)
	res = e.do(r)
	if res.StatusCode != 401 || res.Header.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Errorf("401: ACAO %q", res.Header.Get("Access-Control-Allow-Origin"))
	}
	// An origin not in the list gets no CORS answer, even from the app.
	r = httptest.NewRequest("GET", "/public/", nil)
	r.Header.Set("Origin", evilOrigin)
	if res := e.do(r); res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("evil origin got ACAO %q", res.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestCSRF(t *testing.T) {
	se := newSessionEnv(t, withCORS)
	cookie := se.login(t)
	post := func(path, origin, site string, hdr ...string) *http.Response {
		r := httptest.NewRequest("POST", path, strings.NewReader("x=1"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", origin)
		r.Header.Set("Sec-Fetch-Site", site)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return se.do(r)
	}
	n := se.up.count()
	if res := post("/app/transfer", evilOrigin, "cross-site", "Cookie", cookie); res.StatusCode != 403 || errorCode(t, res) != CodeCSRFRejected {
		t.Errorf("cross-site cookie POST: %d", res.StatusCode)
	}
	if se.up.count() != n {
		t.Error("the rejected POST reached the upstream")
	}
	if res := post("/app/transfer", spaOrigin, "same-site", "Cookie", cookie); res.StatusCode != 200 {
		t.Errorf("POST from the allowed SPA: %d", res.StatusCode)
	}
	if res := post("/app/transfer", "https://b.tenants.example.test", "same-site", "Cookie", cookie); res.StatusCode != 200 {
		t.Errorf("POST from an allowed subdomain pattern: %d", res.StatusCode)
	}
	if res := post("/app/transfer", "", "same-origin", "Cookie", cookie); res.StatusCode != 200 {
		t.Errorf("same-origin POST: %d", res.StatusCode)
	}
	tok := se.mint(t, alice)
	if res := post("/app/transfer", evilOrigin, "cross-site", "Authorization", "Bearer "+tok); res.StatusCode != 200 {
		t.Errorf("bearer POST from anywhere (no ambient credential): %d", res.StatusCode)
	}
	// Login CSRF: a cross-site form logging the victim into the attacker's account.
	form := url.Values{"username": {"alice"}, "password": {"pw"}}.Encode()
	r := httptest.NewRequest("POST", "/.auth/login", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", evilOrigin)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := se.do(r); res.StatusCode != 403 || len(res.Cookies()) != 0 {
		t.Errorf("cross-site login form: %d, cookies %v", res.StatusCode, res.Cookies())
	}
}

func TestReturnURLMayUseCORSOrigin(t *testing.T) {
	se := newSessionEnv(t, withCORS)
	for rd, want := range map[string]string{spaOrigin + "/home": spaOrigin + "/home", evilOrigin + "/": "/"} {
		r := httptest.NewRequest("GET", "/.auth/logout?rd="+url.QueryEscape(rd), nil)
		if got := se.do(r).Header.Get("Location"); got != want {
			t.Errorf("rd %s: Location %q, want %q", rd, got, want)
		}
	}
}

// TestWebSocketHandshakeCSRF: a WebSocket handshake is a GET, but a
// cookie-authenticated one from a foreign page is cross-site WebSocket
// hijacking; it is judged like a state-changing request.
func TestWebSocketHandshakeCSRF(t *testing.T) {
	se := newSessionEnv(t, withCORS)
	cookie := se.login(t)
	tok := se.mint(t, alice)
	for _, tc := range []struct {
		name, origin, site string
		cred               []string
		want               int
	}{
		{"cookie, cross-site", evilOrigin, "cross-site", []string{"Cookie", cookie}, 403},
		{"cookie, foreign Origin only", evilOrigin, "", []string{"Cookie", cookie}, 403},
		{"cookie, null Origin", "null", "", []string{"Cookie", cookie}, 403},
		{"cookie, allowed SPA", spaOrigin, "same-site", []string{"Cookie", cookie}, 200},
		{"cookie, same origin", "", "same-origin", []string{"Cookie", cookie}, 200},
		{"bearer, cross-site", evilOrigin, "cross-site", []string{"Authorization", "Bearer " + tok}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := se.up.count()
			r := httptest.NewRequest("GET", "/app/socket", nil)
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", "websocket")
			r.Header.Set("Sec-WebSocket-Version", "13")
			r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.site != "" {
				r.Header.Set("Sec-Fetch-Site", tc.site)
			}
			r.Header.Set(tc.cred[0], tc.cred[1])
			res := se.do(r)
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
			if tc.want == 403 && (errorCode(t, res) != CodeCSRFRejected || se.up.count() != n) {
				t.Errorf("refused handshake: code %q, upstream calls %d", errorCode(t, res), se.up.count()-n)
			}
		})
	}
}
