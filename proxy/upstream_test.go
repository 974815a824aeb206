package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
)

func TestSessionCookieNeverReachesUpstream(t *testing.T) {
	e := newTestEnv(t)
	name := e.gw.cookies.Name()
	r := httptest.NewRequest("GET", "/app", nil)
	r.Header.Set("Cookie", "theme=dark; "+name+"="+e.mint(t, alice)+"; lang=en")
	if res := e.do(r); res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	up := e.up.request(t)
	if got := up.Header.Get("Cookie"); got != "theme=dark; lang=en" {
		t.Errorf("upstream Cookie = %q, want the app's cookies only", got)
	}
	if got := up.Header.Get("X-Auth-User"); got != "alice" {
		t.Errorf("upstream X-Auth-User = %q", got)
	}
}

func TestDuplicateSessionCookiesRefused(t *testing.T) {
	e := newTestEnv(t)
	name := e.gw.cookies.Name()
	r := httptest.NewRequest("GET", "/app", nil)
	r.Header.Add("Cookie", name+"="+e.mint(t, alice))
	r.Header.Add("Cookie", name+"="+e.mint(t, root))
	res := e.do(r)
	if res.StatusCode != 401 {
		t.Fatalf("status %d, want 401", res.StatusCode)
	}
	if got := errorCode(t, res); got != CodeDuplicateSessionCookie {
		t.Errorf("code %q", got)
	}
	cleared := false
	for _, c := range res.Cookies() {
		if c.Name == name && c.MaxAge < 0 {
			cleared = true
		}
	}
	if !cleared {
		t.Errorf("the session cookie was not cleared: %q", res.Header.Values("Set-Cookie"))
	}
	if e.up.count() != 0 {
		t.Error("the upstream was called")
	}
}

func TestUpstreamCannotOverwriteSessionCookie(t *testing.T) {
	e := newTestEnv(t)
	e.up.h = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", e.gw.cookies.Name()+"=stolen; Path=/")
		w.Header().Add("Set-Cookie", "app=1; Path=/")
	}
	res := e.do(httptest.NewRequest("GET", "/public/", nil))
	got := res.Header.Values("Set-Cookie")
	if len(got) != 1 || got[0] != "app=1; Path=/" {
		t.Errorf("Set-Cookie = %q, want only the app's own cookie", got)
	}
}

func TestUpstreamFailures(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := "http://" + ln.Addr().String()
		ln.Close() // nothing listens there any more
		e := newTestEnv(t, func(c *config.Config) { c.Upstream.URL = dead })
		res := e.do(httptest.NewRequest("GET", "/public/", nil))
		if res.StatusCode != http.StatusBadGateway || errorCode(t, res) != CodeUpstreamUnavailable {
			t.Errorf("status %d, want 502 UPSTREAM_UNAVAILABLE", res.StatusCode)
		}
	})
	t.Run("too slow", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		e := newTestEnv(t, func(c *config.Config) { c.Upstream.ResponseHeaderTimeout = 50 * time.Millisecond })
		e.up.h = func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		res := e.do(httptest.NewRequest("GET", "/public/", nil))
		if res.StatusCode != http.StatusGatewayTimeout || errorCode(t, res) != CodeUpstreamTimeout {
			t.Errorf("status %d, want 504 UPSTREAM_TIMEOUT", res.StatusCode)
		}
	})
}

// TestStreamingFlushes shows a server-sent event reaches the client while
// the upstream is still writing.
func TestStreamingFlushes(t *testing.T) {
	e := newTestEnv(t)
	release := make(chan struct{})
	e.up.h = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "data: last\n\n")
	}
	srv := httptest.NewServer(e.gw)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/app/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.mint(t, alice))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	close(release)
	if err != nil || line != "data: first\n" {
		t.Fatalf("first event = %q, %v", line, err)
	}
}

// TestWebSocketUpgrade shows an upgrade passes through once authorized,
// and is refused (never reaching the app) without a session.
func TestWebSocketUpgrade(t *testing.T) {
	e := newTestEnv(t)
	e.up.h = func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" || r.Header.Get("X-Auth-User") != "alice" {
			http.Error(w, "bad upgrade", 400)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo " + line)
		brw.Flush()
	}
	srv := httptest.NewServer(e.gw)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	upgrade := func(authz string) (*bufio.Reader, net.Conn, *http.Response) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		req := "GET /app/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + authz + "\r\n"
		c.Write([]byte(req))
		br := bufio.NewReader(c)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		return br, c, res
	}

	br, c, res := upgrade("Authorization: Bearer " + e.mint(t, alice) + "\r\n")
	defer c.Close()
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", res.StatusCode)
	}
	c.Write([]byte("ping\n"))
	if line, _ := br.ReadString('\n'); line != "echo ping\n" {
		t.Errorf("through the tunnel: %q", line)
	}

	hits := e.up.count()
	_, c2, res := upgrade("")
	defer c2.Close()
	if res.StatusCode != http.StatusUnauthorized || e.up.count() != hits {
		t.Errorf("anonymous upgrade: status %d, upstream hits %d->%d", res.StatusCode, hits, e.up.count())
	}
}

func TestUpstreamSeesCanonicalPath(t *testing.T) {
	e := newTestEnv(t)
	for raw, want := range map[string]string{
		"/public//a/./b/../c": "/public/a/c",
		"/public/%61bc":       "/public/abc",
		"/public/a%20b":       "/public/a b",
	} {
		r := httptest.NewRequest("GET", "http://gw"+raw, nil)
		if res := e.do(r); res.StatusCode != 200 {
			t.Fatalf("%s: status %d", raw, res.StatusCode)
		}
		if got := e.up.request(t).URL.Path; got != want {
			t.Errorf("%s: upstream path %q, want %q", raw, got, want)
		}
	}
}
