package attack

import (
	"strings"
	"testing"
)

// TestRequestFraming: requests whose length the gateway and the app could
// read differently (CL.TE, TE.CL, obfuscated Transfer-Encoding), and
// methods that are not a plain GET, on protected routes without a session.
// A framing the gateway cannot be sure of is refused before the app.
func TestRequestFraming(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	user := "Authorization: Bearer " + e.keys.valid(t, "alice", nil)
	smuggled := "GET /admin/x HTTP/1.1\r\nHost: gw.attack.test\r\n\r\n"
	post := func(path string, hdr []string, body string) string {
		h := append([]string{"{{case}}", "Accept: application/json", "Content-Type: text/plain"}, hdr...)
		return strings.Replace(rawRequest("POST", path, "gw.attack.test", h...), "Connection: close\r\n", "", 1) + body
	}
	chunked := "0\r\n\r\n" + smuggled
	var cases []attackCase
	// Refused outright: lengths that cannot be read one way (400), and
	// transfer codings net/http does not implement (501, as RFC 9112
	// section 6.1 asks).
	for name, c := range map[string]struct {
		hdr    []string
		status int
	}{
		"two Content-Lengths": {[]string{"Content-Length: 5", "Content-Length: 50"}, 400},
		"Content-Length list": {[]string{"Content-Length: 5, 50"}, 400},
		"negative length":     {[]string{"Content-Length: -1"}, 400},
		"length with a plus":  {[]string{"Content-Length: +5"}, 400},
		"TE xchunked":         {[]string{"Transfer-Encoding: xchunked"}, 501},
		"TE chunked, chunked": {[]string{"Transfer-Encoding: chunked, chunked"}, 501},
		"TE identity":         {[]string{"Transfer-Encoding: identity", "Content-Length: 5"}, 501},
		"TE on two lines":     {[]string{"Transfer-Encoding: gzip", "Transfer-Encoding: chunked"}, 501},
	} {
		cases = append(cases, attackCase{name: name, req: post("/public/x", append(c.hdr, user), chunked), status: c.status})
	}
	// Transfer-Encoding beside Content-Length: net/http reads the chunked
	// body (RFC 9112 section 6.3) and the gateway re-frames the request
	// for the app, so the app gets the empty body the gateway read; the
	// bytes after it are a request of their own, judged by the gateway.
	for name, hdr := range map[string][]string{
		"CL.TE":         {"Content-Length: 6", "Transfer-Encoding: chunked"},
		"TE.CL":         {"Transfer-Encoding: chunked", "Content-Length: 3"},
		"TE with a tab": {"Transfer-Encoding:\tchunked", "Content-Length: 5"},
	} {
		cases = append(cases, attackCase{name: name, req: post("/public/x", append(hdr, user), chunked), status: 200, reaches: true,
			upstream: func(t *testing.T, r record) {
				if r.Body != "" || r.Header.Get("Transfer-Encoding") != "" && r.Header.Get("Content-Length") != "" {
					t.Errorf("the app got body %q with %v", r.Body, r.Header)
				}
			}})
	}
	// Whatever the gateway accepts, the app gets one request with the body
	// the gateway read, and a smuggled second request is judged itself.
	cases = append(cases,
		attackCase{name: "chunked body carrying a request", req: post("/public/x", []string{"Transfer-Encoding: chunked"}, "1c\r\n"+smuggled[:28]+"\r\n0\r\n\r\n"),
			status: 200, reaches: true, upstream: func(t *testing.T, r record) {
				if r.Body != smuggled[:28] || r.Path != "/public/x" {
					t.Errorf("the app read %q %q", r.Path, r.Body)
				}
			}},
	)
	for _, m := range []string{"OPTIONS", "TRACE", "HEAD", "PROPFIND", "CONNECT"} {
		cases = append(cases, attackCase{name: m + " anonymous on a protected path", req: rawRequest(m, "/admin/x", "gw.attack.test", "{{case}}", "Accept: application/json"), status: 401})
	}
	cases = append(cases,
		attackCase{name: "OPTIONS that looks like a preflight without Origin", req: rawRequest("OPTIONS", "/admin/x", "gw.attack.test", "{{case}}", "Access-Control-Request-Method: GET", "Accept: application/json"), status: 401},
		attackCase{name: "HTTP/1.0 without Host", req: strings.Replace(rawRequest("GET", "/admin/x", "gw.attack.test", "{{case}}", "Accept: application/json"), "HTTP/1.1\r\nHost: gw.attack.test\r\n", "HTTP/1.0\r\n", 1), status: 401},
		attackCase{name: "HTTP/0.9 style request line", req: "GET /admin/x\r\n\r\n{{case}}", status: 400},
		attackCase{name: "HTTP/2 preface on HTTP/1", req: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n{{case}}", status: 400},
	)
	e.run(t, cases)
	e.up.mu.Lock()
	defer e.up.mu.Unlock()
	for _, r := range e.up.reqs {
		if strings.HasPrefix(r.Path, "/admin") {
			t.Errorf("a smuggled request reached the app: %s %s", r.Method, r.RequestURI)
		}
	}
}
