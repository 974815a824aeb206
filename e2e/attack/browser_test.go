package attack

import (
	"bufio"
	"html"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
)

// openRedirects reads testdata/open-redirect.txt.
func openRedirects(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("testdata/open-redirect.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := strconv.Unquote(line)
		if err != nil {
			t.Fatalf("open-redirect.txt:%d: %v", n, err)
		}
		out = append(out, s)
	}
	// Beyond the length limit, to an allowed origin and as a path.
	out = append(out, "https://partner.attack.test/"+strings.Repeat("a", 4096), "/"+strings.Repeat("a", 8192))
	if len(out) < 150 {
		t.Fatalf("only %d payloads in the corpus", len(out))
	}
	return out
}

// TestOpenRedirects: every payload of the corpus, as the return URL of
// each endpoint that redirects: logout, the refresh navigation, the login
// page's form, a failed and a successful login. The answer always stays
// on this host ("/").
func TestOpenRedirects(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	payloads := openRedirects(t)
	q := func(rd string) string { return url.QueryEscape(rd) }
	for i, rd := range payloads {
		t.Run(strconv.Itoa(i)+"/"+strconv.QuoteToASCII(rd), func(t *testing.T) {
			res := sendRaw(t, e.addr, rawRequest("GET", "/.auth/logout?rd="+q(rd), "gw.attack.test", "Accept: text/html"))
			if res == nil || res.Header.Get("Location") != "/" {
				t.Errorf("logout: Location %q, want /", location(res))
			}
			res = sendRaw(t, e.addr, rawRequest("GET", "/.auth/refresh?rd="+q(rd), "gw.attack.test", "Accept: text/html"))
			if res == nil || res.Header.Get("Location") != "/.auth/login?rd=%2F" {
				t.Errorf("refresh without a session: Location %q, want /.auth/login?rd=%%2F", location(res))
			}
			res = sendRaw(t, e.addr, rawRequest("GET", "/.auth/login?rd="+q(rd), "gw.attack.test", "Accept: text/html"))
			if res == nil || res.StatusCode != 200 || !strings.Contains(string(res.Body), `name="rd" value="/"`) {
				t.Errorf("login page: the form does not carry rd=/")
			}
			form := url.Values{"username": {"alice"}, "password": {""}, "rd": {rd}}.Encode()
			res = sendRaw(t, e.addr, rawRequest("POST", "/.auth/login", "gw.attack.test", "Content-Type: application/x-www-form-urlencoded",
				"Content-Length: "+strconv.Itoa(len(form)), "Accept: text/html")+form)
			if res == nil || res.StatusCode != 400 || !strings.Contains(string(res.Body), `name="rd" value="/"`) {
				t.Errorf("failed login form: the re-rendered form does not carry rd=/")
			}
			if res != nil && strings.Contains(string(res.Body), html.EscapeString(rd)) && len(rd) > 3 {
				t.Errorf("the page echoes the payload")
			}
		})
	}
	// A successful login (argon2id: a sample, not the whole corpus).
	for _, rd := range []string{"//evil.attack.test", `/\evil.attack.test`, "https://partner.attack.test@evil.attack.test/",
		"javascript:alert(1)", "/\t/evil.attack.test", "https://p\u0430rtner.attack.test/"} {
		form := url.Values{"username": {"alice"}, "password": {"alice-pw"}, "rd": {rd}}.Encode()
		res := sendRaw(t, e.addr, rawRequest("POST", "/.auth/login", "gw.attack.test", "Content-Type: application/x-www-form-urlencoded",
			"Content-Length: "+strconv.Itoa(len(form)), "Accept: text/html", "Sec-Fetch-Site: same-origin")+form)
		if res == nil || res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
			t.Errorf("login with rd %q: Location %q, want /", rd, location(res))
		}
	}
	// Controls: listed origins and local paths are kept (look-alike
	// slashes in a path are path characters, percent-encoded by browsers).
	for rd, want := range map[string]string{
		"/\u2215\u2215evil.attack.test": "/\u2215\u2215evil.attack.test",
		"/app/x?y=1":                    "/app/x?y=1", "https://partner.attack.test/back": "https://partner.attack.test/back",
		"https://app.attack.test/": "https://app.attack.test/",
	} {
		res := sendRaw(t, e.addr, rawRequest("GET", "/.auth/logout?rd="+q(rd), "gw.attack.test"))
		if res == nil || res.Header.Get("Location") != want {
			t.Errorf("control rd %q: Location %q, want %q", rd, location(res), want)
		}
	}
}

func location(r *rawResponse) string {
	if r == nil {
		return "<no response>"
	}
	return r.Header.Get("Location")
}

// TestCrossOrigin: CORS origin tricks, login CSRF, and cookie tossing
// from a sibling subdomain.
func TestCrossOrigin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	preflight := func(origin string) string {
		return rawRequest("OPTIONS", "/app/x", "gw.attack.test", "{{case}}", "Origin: "+origin, "Access-Control-Request-Method: PUT")
	}
	acao := func(want string) func(t *testing.T, r *rawResponse) {
		return func(t *testing.T, r *rawResponse) {
			t.Helper()
			got := r.Header.Values("Access-Control-Allow-Origin")
			if want == "" && len(got) != 0 || want != "" && (len(got) != 1 || got[0] != want) {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, want)
			}
			if !strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Origin") {
				t.Errorf("no Vary: Origin")
			}
		}
	}
	cases := []attackCase{
		{name: "preflight, exact origin", req: preflight("https://app.attack.test"), status: 204, response: acao("https://app.attack.test")},
		{name: "preflight, pattern", req: preflight("https://x.spa.attack.test"), status: 204, response: acao("https://x.spa.attack.test")},
	}
	for _, o := range []string{
		"https://evil.attack.test", "null", "https://app.attack.test.evil.test", "https://evilapp.attack.test", "https://app.attack.testevil.test",
		"http://app.attack.test", "https://app.attack.test:8443", "https://spa.attack.test", "https://x.spa.attack.test.evil.test",
		"https://xspa.attack.test", "https://evil.test/https://app.attack.test", "https://app.attack.test/", "https://app.attack.test%60.evil.test",
		"https://app.attack.test\x60evil.test", "https://app.attack.test_.evil.test", "file://", "https://app.attack.test@evil.test",
		"*", "https://*.spa.attack.test", "http://localhost:5174", "http://localhost", "https://localhost:5173",
	} {
		cases = append(cases,
			attackCase{name: "preflight, origin " + o, req: preflight(o), status: 204, response: acao("")},
			attackCase{name: "simple request, origin " + o, req: rawRequest("GET", "/public/x", "gw.attack.test", "{{case}}", "Origin: "+o),
				status: 200, reaches: true, response: acao("")},
		)
	}
	// Login CSRF: a cross-site form logs the victim into the attacker's
	// account; and a forced logout.
	form := "username=alice&password=alice-pw"
	for _, hdr := range [][]string{
		{"Origin: https://evil.attack.test", "Sec-Fetch-Site: cross-site"},
		{"Origin: https://evil.attack.test"},
		{"Origin: null"},
		{"Sec-Fetch-Site: cross-site"},
		{"Origin: https://gw.attack.test.evil.test"},
	} {
		for _, ep := range []string{"/.auth/login", "/.auth/logout", "/.auth/refresh"} {
			h := append([]string{"{{case}}", "Content-Type: application/x-www-form-urlencoded", "Content-Length: " + strconv.Itoa(len(form))}, hdr...)
			cases = append(cases, attackCase{name: "CSRF " + ep + " " + strings.Join(hdr, " "),
				req: rawRequest("POST", ep, "gw.attack.test", h...) + form, status: 403, code: "CSRF_REJECTED",
				response: func(t *testing.T, r *rawResponse) {
					for _, sc := range r.Header.Values("Set-Cookie") {
						if !strings.HasPrefix(sc, "gatehouse=;") {
							t.Errorf("a refused cross-site request set a cookie: %q", sc)
						}
					}
				}})
		}
	}
	// Cookie tossing: a sibling subdomain plants its own genuine session
	// cookie (another Domain or Path) beside the victim's.
	_, _, victim := login(t, e.base, "alice", false)
	_, _, attacker := login(t, e.base, "bob", false)
	get := func(cookies ...string) string {
		h := []string{"{{case}}", "Accept: application/json"}
		for _, c := range cookies {
			h = append(h, "Cookie: "+c)
		}
		return rawRequest("GET", "/app/x", "gw.attack.test", h...)
	}
	cases = append(cases,
		attackCase{name: "tossing: control, victim only", req: get("gatehouse=" + victim), status: 200, reaches: true, upstream: wantIdentity("alice", "user")},
		attackCase{name: "tossing: attacker's cookie first", req: get("gatehouse=" + attacker + "; gatehouse=" + victim), status: 401, code: "DUPLICATE_SESSION_COOKIE"},
		attackCase{name: "tossing: attacker's cookie last", req: get("gatehouse=" + victim + "; gatehouse=" + attacker), status: 401, code: "DUPLICATE_SESSION_COOKIE"},
		attackCase{name: "tossing: two Cookie lines", req: get("gatehouse="+attacker, "gatehouse="+victim), status: 401, code: "DUPLICATE_SESSION_COOKIE"},
		attackCase{name: "tossing: junk planted beside the victim's", req: get("gatehouse=junk; gatehouse=" + victim), status: 200, reaches: true, upstream: wantIdentity("alice", "user")},
		attackCase{name: "tossing: forged token planted", req: get("gatehouse=" + e.keys.valid(t, "bob", nil)[:40] + "x.y.z; gatehouse=" + victim), status: 200, reaches: true, upstream: wantIdentity("alice", "user")},
		attackCase{name: "tossing: quoted copy", req: get(`gatehouse="` + attacker + `"; gatehouse=` + victim), status: 401, code: "DUPLICATE_SESSION_COOKIE"},
		attackCase{name: "tossing: case variant name is not ours", req: get("Gatehouse=" + attacker + "; gatehouse=" + victim), status: 200, reaches: true, upstream: wantIdentity("alice", "user")},
	)
	e.run(t, cases)
}

// TestLoginPageReflection: what a link or a failed form puts into the
// login page comes back escaped, and the page cannot be framed (a framed
// login form is login CSRF by clickjacking).
func TestLoginPageReflection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	const xss = `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	form := url.Values{"username": {xss}, "password": {""}, "rd": {"/app?x=" + xss}}.Encode()
	for name, req := range map[string]string{
		"login page rd": rawRequest("GET", "/.auth/login?rd="+url.QueryEscape("/app?x="+xss), "gw.attack.test", "Accept: text/html"),
		"failed form": rawRequest("POST", "/.auth/login", "gw.attack.test", "Content-Type: application/x-www-form-urlencoded",
			"Content-Length: "+strconv.Itoa(len(form)), "Accept: text/html") + form,
	} {
		t.Run(name, func(t *testing.T) {
			res := sendRaw(t, e.addr, req)
			if res == nil {
				t.Fatal("no response")
			}
			for _, raw := range []string{"<script>alert(1)", "<img src=x"} {
				if strings.Contains(string(res.Body), raw) {
					t.Errorf("the page reflects %q unescaped", raw)
				}
			}
			if res.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Errorf("the login page can be framed: %v", res.Header)
			}
		})
	}
}
