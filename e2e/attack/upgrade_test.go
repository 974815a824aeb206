package attack

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestH2CSmuggling: the recording app accepts "Upgrade: h2c"
// (recorder.acceptH2C); if the gateway relayed that upgrade, the client
// would hold a raw connection to the app on which it could ask for any
// path with no policy in between (h2c smuggling).
func TestH2CSmuggling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	user := "Authorization: Bearer " + e.keys.valid(t, "alice", nil)
	for i, hdr := range [][]string{
		{"Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"},
		{"Connection: upgrade, http2-settings", "Upgrade: H2C", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"},
		{"Connection: Upgrade", "Upgrade: h2c"},
		{"Connection: Upgrade", "Upgrade: h2c, websocket"},
	} {
		for _, auth := range [][]string{{user}, nil} {
			t.Run(fmt.Sprintf("%d/session=%v", i, auth != nil), func(t *testing.T) {
				id := t.Name()
				c, err := net.DialTimeout("tcp", e.addr, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				req := rawRequest("GET", "/public/x", "gw.attack.test", append(append(hdr, caseHdr+": "+id), auth...)...)
				io.WriteString(c, strings.Replace(req, "Connection: close\r\n", "", 1))
				res, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Fatalf("reading the answer: %v", err)
				}
				res.Body.Close()
				if res.StatusCode == http.StatusSwitchingProtocols {
					t.Errorf("the gateway relayed an h2c upgrade (101)")
					io.WriteString(c, "GET /admin/secret HTTP/1.1\r\nHost: app\r\n\r\n")
					time.Sleep(1500 * time.Millisecond) // the app reads for 1s
				}
				got := e.up.forCase(id)
				for _, r := range got {
					if r.Method == "SMUGGLED" {
						t.Errorf("the app received %q over a smuggled connection", r.Body)
					}
				}
				if len(got) != 1 || got[0].Header.Get("Upgrade") != "" {
					t.Errorf("want one plain request at the app, got %+v", got)
				}
			})
		}
	}
}

// TestWebSocketOrigin: a WebSocket handshake is a GET, so the CSRF check
// for unsafe methods does not cover it; with a cookie session a foreign
// page could open a socket as the user (cross-site WebSocket hijacking).
func TestWebSocketOrigin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	_, _, cookie := login(t, e.base, "alice", false)
	ws := func(origin string, cred string) string {
		return rawRequest("GET", "/app/ws", "gw.attack.test", "{{case}}", "Connection: Upgrade", "Upgrade: websocket",
			"Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Origin: "+origin, cred)
	}
	cases := []attackCase{
		{name: "cookie, same origin", req: ws("http://gw.attack.test", "Cookie: gatehouse="+cookie), status: 200, reaches: true, upstream: wantIdentity("alice", "user")},
		{name: "cookie, allowed origin", req: ws("https://app.attack.test", "Cookie: gatehouse="+cookie), status: 200, reaches: true},
		{name: "bearer, foreign origin (no ambient credential)", req: ws("https://evil.attack.test", "Authorization: Bearer "+e.keys.valid(t, "alice", nil)), status: 200, reaches: true},
	}
	for _, o := range []string{"https://evil.attack.test", "null", "https://app.attack.test.evil.test", "https://evilapp.attack.test", "http://app.attack.test", "https://app.attack.test:8443"} {
		cases = append(cases, attackCase{name: "cookie, origin " + o, req: ws(o, "Cookie: gatehouse="+cookie), status: 403, code: "CSRF_REJECTED"})
	}
	e.run(t, cases)
}
