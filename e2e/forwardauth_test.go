package e2e

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/e2etest"
)

// Forward-auth: nginx (auth_request) and Caddy (forward_auth) in front of
// a recording app, asking the gateway's /.auth/verify about every request.
// The proxy configurations are what `gateway recipe` writes for the test
// gateway's configuration; TestForwardAuthRecipesInDocs checks that the
// recipes in docs/forward-auth.md are what it writes for the defaults.

// faSPA is the origin of a single-page app on another port; it is only
// an origin string, nothing listens there.
const faSPA = "http://localhost:5173"

// faRecipe is a proxy, run with the recipe `gateway recipe` writes, and
// the refresh mode that recipe chooses.
type faRecipe struct {
	e2etest.ForwardAuthProxy
	refresh string
}

// faRecipes are the proxies with their refresh modes.
func faRecipes() []faRecipe {
	refresh := map[string]string{"nginx": "inline", "caddy": "redirect"}
	var out []faRecipe
	for _, p := range e2etest.ForwardAuthProxies() {
		out = append(out, faRecipe{p, refresh[p.Name]})
	}
	return out
}

// TestForwardAuthRecipesInDocs: the configurations in docs/forward-auth.md
// are what `gateway recipe` writes for the default configuration and the
// addresses the doc uses.
func TestForwardAuthRecipesInDocs(t *testing.T) {
	doc, err := os.ReadFile("../docs/forward-auth.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, proxy := range []string{"nginx", "caddy", "traefik"} {
		out, stderr, code := runCmd(t, "", "recipe", proxy)
		if code != 0 {
			t.Fatalf("gateway recipe %s: exit %d\n%s", proxy, code, stderr)
		}
		if !strings.Contains(string(doc), out) {
			t.Errorf("docs/forward-auth.md does not contain the output of `gateway recipe %s` verbatim; paste it into the doc:\n%s", proxy, out)
		}
	}
}

// TestForwardAuth runs the same requests through each proxy.
func TestForwardAuth(t *testing.T) {
	for _, r := range faRecipes() {
		t.Run(r.Name, func(t *testing.T) {
			t.Parallel()
			e := faSetup(t, r)
			for _, c := range faCases {
				t.Run(c.name, func(t *testing.T) { c.run(t, e) })
			}
		})
	}
}

// faEnv is one proxy in front of one gateway and one app.
type faEnv struct {
	recipe faRecipe
	gw     *e2etest.Proc
	app    *upstream
	base   string // the proxy, http://127.0.0.1:port
}

var faCases = []struct {
	name string
	run  func(t *testing.T, e *faEnv)
}{
	{"anonymous API request", func(t *testing.T, e *faEnv) {
		res, body := do(t, newClient(t), "GET", e.base+"/api/anonymous", "", "Accept", "application/json", "Origin", faSPA)
		if res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") != "Bearer" {
			t.Fatalf("status %d, WWW-Authenticate %q, want 401 and Bearer\n%s", res.StatusCode, res.Header.Get("WWW-Authenticate"), body)
		}
		if code := codeOf(t, body); code != "UNAUTHENTICATED" {
			t.Errorf("code %s, want UNAUTHENTICATED", code)
		}
		// The SPA can read the error only with the CORS headers.
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != faSPA {
			t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, faSPA)
		}
		e.notCalled(t, "/api/anonymous")
	}},

	{"anonymous navigation goes through the login page and back", func(t *testing.T, e *faEnv) {
		c := newClient(t)
		const page = "/app/page?x=1&y=a%2Fb"
		res, body := do(t, c, "GET", e.base+page, "", "Accept", "text/html")
		if res.StatusCode != http.StatusFound {
			t.Fatalf("status %d, want 302 to the login page\n%s", res.StatusCode, body)
		}
		loc, err := url.Parse(res.Header.Get("Location"))
		if err != nil || loc.Path != "/.auth/login" || e.resolve(loc.Query().Get("rd")) != e.base+page {
			t.Fatalf("Location %q, want /.auth/login?rd=<%s>", res.Header.Get("Location"), page)
		}
		e.notCalled(t, "/app/page")

		// The login page, through the proxy, keeps the return path ...
		rd := loc.Query().Get("rd")
		res, body = do(t, c, "GET", e.resolve(loc.String()), "", "Accept", "text/html")
		if res.StatusCode != 200 || !strings.Contains(string(body), `name="rd" value="`+html.EscapeString(rd)+`"`) {
			t.Fatalf("login page: %d, want the form with rd %q\n%s", res.StatusCode, rd, body)
		}
		// ... and the form sends the browser back to the page it asked for.
		form := url.Values{"username": {"alice"}, "password": {"alice-pw"}, "rd": {rd}}
		res, body = faPostForm(t, c, e.base+"/.auth/login", form)
		if res.StatusCode != http.StatusSeeOther || e.resolve(res.Header.Get("Location")) != e.base+page {
			t.Fatalf("login form: %d Location %q, want 303 to %s\n%s", res.StatusCode, res.Header.Get("Location"), page, body)
		}
		res, body = do(t, c, "GET", e.resolve(res.Header.Get("Location")), "", "Accept", "text/html")
		if res.StatusCode != 200 || string(body) != "app:/app/page" {
			t.Fatalf("back on the page: %d %s", res.StatusCode, body)
		}
		e.identity(t, "/app/page", "alice", "user")
	}},

	{"valid session; forged identity headers never reach the app", func(t *testing.T, e *faEnv) {
		c := e.login(t, "alice")
		req, _ := http.NewRequest("GET", e.base+"/app/forged", nil)
		req.Header.Set("Accept", "application/json")
		// Every spelling a framework might read as X-Auth-User (CGI and
		// many app servers fold "_" and "." into "-", and case).
		for _, name := range []string{"X-Auth-User", "x-auth-user", "X_Auth_User", "X.Auth.User", "X-Auth_User", "X-Auth-Roles", "X_Auth_Roles", "X-Auth-Email", "X-Auth-Assertion"} {
			req.Header[name] = []string{"admin"}
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		r := e.identity(t, "/app/forged", "alice", "user")
		if got := faFolded(r.Header, "X-Auth-Email"); len(got) != 1 || got[0] != "alice@example.test" {
			t.Errorf("app saw X-Auth-Email %q, want [alice@example.test]", got)
		}
		if got := faFolded(r.Header, "X-Auth-Session"); len(got) != 1 || got[0] == "" {
			t.Errorf("app saw X-Auth-Session %q, want the session id", got)
		}
		if got := faFolded(r.Header, "X-Auth-Assertion"); len(got) != 0 {
			t.Errorf("app saw the client's X-Auth-Assertion %q (assertions are off here)", got)
		}
	}},

	{"headers the configuration adds: forged copies never reach the app", func(t *testing.T, e *faEnv) {
		// A claim header outside X-Auth- (every route), and a renamed user
		// header and a fixed header (/renamed only): the recipe written
		// from the configuration copies and strips each, in every spelling.
		c := e.login(t, "alice")
		for path, want := range map[string]map[string]string{
			"/renamed/forged": {"X-Forwarded-Email": "alice@example.test", "X-Remote-User": "alice", "X-Tenant": "acme", "X-Auth-User": ""},
			"/app/forged2":    {"X-Forwarded-Email": "alice@example.test", "X-Remote-User": "", "X-Tenant": "", "X-Auth-User": "alice"},
		} {
			req, _ := http.NewRequest("GET", e.base+path, nil)
			req.Header.Set("Accept", "application/json")
			for _, name := range []string{"X-Forwarded-Email", "x-forwarded-email", "X_Forwarded_Email", "X.Forwarded.Email", "X-Forwarded_Email",
				"X-Remote-User", "X_Remote_User", "X.Remote.User", "X-Tenant", "x_tenant", "X.Tenant", "X-Auth-User"} {
				req.Header[name] = []string{"evil"}
			}
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("%s: status %d", path, res.StatusCode)
			}
			reqs := e.seen(path)
			if len(reqs) == 0 {
				t.Fatalf("the app never saw %s", path)
			}
			got := reqs[len(reqs)-1].Header
			for name, v := range want {
				vals := slices.DeleteFunc(faFolded(got, name), func(s string) bool { return s == "" })
				if (v == "" && len(vals) != 0) || (v != "" && (len(vals) != 1 || vals[0] != v)) {
					t.Errorf("%s: the app saw %s (all spellings, non-empty) %q, want %q", path, name, vals, v)
				}
			}
		}
	}},

	{"admin route: role allowed, empty identity values stay empty", func(t *testing.T, e *faEnv) {
		c := e.login(t, "bob") // bob has no email
		res, body := do(t, c, "GET", e.base+"/admin/x", "", "Accept", "application/json")
		if res.StatusCode != 200 {
			t.Fatalf("bob on /admin/x: %d %s", res.StatusCode, body)
		}
		r := e.identity(t, "/admin/x", "bob", "admin")
		// Caddy 2.6 sends the literal "{http.reverse_proxy.header.X-Auth-Email}"
		// when the auth response lacks the header; the gateway always sends it.
		for _, v := range faFolded(r.Header, "X-Auth-Email") {
			if v != "" {
				t.Errorf("app saw X-Auth-Email %q for a user without email, want it empty or absent", v)
			}
		}
	}},

	{"wrong role", func(t *testing.T, e *faEnv) {
		c := e.login(t, "alice")
		res, body := do(t, c, "GET", e.base+"/admin/y", "", "Accept", "application/json", "Origin", faSPA)
		if res.StatusCode != 403 {
			t.Fatalf("alice on /admin/y: %d, want 403\n%s", res.StatusCode, body)
		}
		if code := codeOf(t, body); code != "INSUFFICIENT_ROLES" {
			t.Errorf("code %s, want INSUFFICIENT_ROLES", code)
		}
		e.notCalled(t, "/admin/y")
	}},

	{"revoked session: the old cookie is refused", func(t *testing.T, e *faEnv) {
		c := e.login(t, "alice")
		old := cookieValue(c, e.base)
		if res, body := do(t, c, "GET", e.base+"/app/before-logout", ""); res.StatusCode != 200 {
			t.Fatalf("before logout: %d %s", res.StatusCode, body)
		}
		if res, body := do(t, c, "POST", e.base+"/.auth/logout", ""); res.StatusCode != 204 {
			t.Fatalf("logout through the proxy: %d %s", res.StatusCode, body)
		}
		if v := cookieValue(c, e.base); v != "" {
			t.Errorf("the jar still holds the cookie after logout")
		}
		res, body := do(t, newClient(t), "GET", e.base+"/app/after-logout", "", "Cookie", "gatehouse="+old, "Accept", "application/json")
		if res.StatusCode != 401 {
			t.Fatalf("replayed cookie: %d, want 401\n%s", res.StatusCode, body)
		}
		if code := codeOf(t, body); code != "SESSION_REVOKED" {
			t.Errorf("code %s, want SESSION_REVOKED", code)
		}
		e.notCalled(t, "/app/after-logout")
	}},

	{"CORS preflight is answered by the gateway", func(t *testing.T, e *faEnv) {
		res, body := do(t, newClient(t), "OPTIONS", e.base+"/api/things", "",
			"Origin", faSPA, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type")
		if res.StatusCode != 204 {
			t.Fatalf("preflight: %d, want 204\n%s", res.StatusCode, body)
		}
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != faSPA {
			t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, faSPA)
		}
		if got := res.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
			t.Errorf("Access-Control-Allow-Credentials = %q, want true", got)
		}
		e.notCalled(t, "/api/things")
	}},

	{"same-origin POST with the cookie passes, body and all", func(t *testing.T, e *faEnv) {
		c := e.login(t, "alice")
		res, body := do(t, c, "POST", e.base+"/api/orders", `{"item":42}`, "Origin", e.base, "Sec-Fetch-Site", "same-origin")
		if res.StatusCode != 200 {
			t.Fatalf("status %d\n%s", res.StatusCode, body)
		}
		r := e.identity(t, "/api/orders", "alice", "user")
		if r.Method != "POST" || r.ContentLength != int64(len(`{"item":42}`)) {
			t.Errorf("app saw %s with Content-Length %d, want POST with the body", r.Method, r.ContentLength)
		}
	}},

	{"cross-site POST with the cookie is refused (CSRF)", func(t *testing.T, e *faEnv) {
		c := e.login(t, "alice")
		res, body := do(t, c, "POST", e.base+"/api/transfer", `{"to":"mallory"}`, "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site")
		if res.StatusCode != 403 {
			t.Errorf("status %d, want 403 CSRF_REJECTED as in proxy mode\n%s", res.StatusCode, body)
		} else if code := codeOf(t, body); code != "CSRF_REJECTED" {
			t.Errorf("code %s, want CSRF_REJECTED", code)
		}
		e.notCalled(t, "/api/transfer")
	}},

	{"expired access token, valid refresh", func(t *testing.T, e *faEnv) {
		c := e.login(t, "alice")
		first := cookieValue(c, e.base)
		time.Sleep(2100 * time.Millisecond) // access_ttl 2s, leeway 0
		// A rule's forward_auth_refresh (deny) wins over the verify URL's
		// mode: no refresh, the client is told its token expired.
		strict, strictBody := do(t, c, "GET", e.base+"/strict/x", "", "Accept", "application/json")
		if strict.StatusCode != 401 || !strings.Contains(strict.Header.Get("WWW-Authenticate"), "expired") || cookieValue(c, e.base) != first {
			t.Errorf("forward_auth_refresh: deny: %d, WWW-Authenticate %q, cookie rotated %v; want 401 TOKEN_EXPIRED and no refresh\n%s",
				strict.StatusCode, strict.Header.Get("WWW-Authenticate"), cookieValue(c, e.base) != first, strictBody)
		}
		e.notCalled(t, "/strict/x")
		switch e.recipe.refresh {
		case "inline": // nginx passes the one Set-Cookie of the refresh
			res, body := do(t, c, "GET", e.base+"/app/expired", "", "Accept", "application/json")
			if res.StatusCode != 200 {
				t.Fatalf("status %d, want a transparent refresh\n%s", res.StatusCode, body)
			}
			if n := len(res.Header.Values("Set-Cookie")); n != 1 {
				t.Errorf("%d Set-Cookie headers reached the client, want 1", n)
			}
		case "redirect": // Caddy drops it: a navigation refreshes by redirects
			res, body := do(t, c, "GET", e.base+"/app/expired", "", "Accept", "application/json")
			if res.StatusCode != 401 || codeOf(t, body) != "TOKEN_EXPIRED" {
				t.Errorf("API request: %d, want 401 TOKEN_EXPIRED (the SPA refreshes itself)\n%s", res.StatusCode, body)
			}
			e.notCalled(t, "/app/expired")
			var hops []string
			follow := &http.Client{Jar: c.Jar, CheckRedirect: func(r *http.Request, via []*http.Request) error {
				hops = append(hops, r.URL.RequestURI())
				return nil
			}}
			res, body = do(t, follow, "GET", e.base+"/app/expired", "", "Accept", "text/html")
			if res.StatusCode != 200 || string(body) != "app:/app/expired" {
				t.Fatalf("navigation: %d %s", res.StatusCode, body)
			}
			if len(hops) != 2 || !strings.HasPrefix(hops[0], "/.auth/refresh?rd=") || hops[1] != "/app/expired" {
				t.Errorf("redirects %q, want /.auth/refresh?rd=... then /app/expired", hops)
			}
		}
		rotated := cookieValue(c, e.base)
		if rotated == "" || rotated == first {
			t.Fatal("the client's cookie was not rotated")
		}
		e.identity(t, "/app/expired", "alice", "user")
		// The rotated cookie is the session now (no reuse alarm).
		res, body := do(t, c, "GET", e.base+"/app/after-refresh", "", "Accept", "application/json")
		if res.StatusCode != 200 || len(res.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("with the rotated cookie: %d, Set-Cookie %q\n%s", res.StatusCode, res.Header.Values("Set-Cookie"), body)
		}
	}},
}

// TestForwardAuthUntrustedPeer: /.auth/verify believes forwarded headers
// only from trusted_proxies. The gateway trusts 127.0.0.1; the test
// connects from 127.0.0.2, which is also loopback on Linux but not trusted.
func TestForwardAuthUntrustedPeer(t *testing.T) {
	t.Parallel()
	gw, _, _ := faGateway(t)
	verify := "http://" + gw.Addr + "/.auth/verify"
	fwd := []string{"X-Forwarded-Method", "GET", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "app.example.test", "X-Forwarded-Uri", "/app", "Accept", "application/json"}

	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	untrusted := from("127.0.0.2")
	if _, err := untrusted.Get("http://" + gw.Addr + "/.auth/jwks.json"); err != nil {
		t.Skipf("cannot connect from 127.0.0.2 (%v); this case needs the whole 127.0.0.0/8 on loopback", err)
	}

	cases := []struct {
		name   string
		client *http.Client
		hdr    []string
		status int
		code   string
	}{
		{"untrusted peer", untrusted, fwd, 403, "UNTRUSTED_PROXY"},
		{"trusted peer, no session", from("127.0.0.1"), fwd, 401, "UNAUTHENTICATED"},
		{"trusted peer, no original URI", from("127.0.0.1"), []string{"X-Forwarded-Method", "GET", "Accept", "application/json"}, 400, "INVALID_REQUEST"},
		{"trusted peer, URI not a path", from("127.0.0.1"), []string{"X-Original-URI", "app", "Accept", "application/json"}, 400, "INVALID_REQUEST"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, body := do(t, c.client, "GET", verify, "", c.hdr...)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d\n%s", res.StatusCode, c.status, body)
			}
			if code := codeOf(t, body); code != c.code {
				t.Errorf("code %s, want %s", code, c.code)
			}
		})
	}
}

// faGateway starts a gateway for forward-auth: users alice (user, with
// an email) and bob (admin, without one), /admin/** for admins, 2s access
// tokens, 127.0.0.1 trusted, a cookie the Go jar sends over http. Besides
// the default identity headers it sets headers a hand-copied recipe would
// miss: a claim header outside X-Auth- everywhere, and under /renamed a
// renamed user header and a fixed tenant header. It returns the
// configuration file too.
func faGateway(t *testing.T) (gw *e2etest.Proc, app *upstream, cfgFile string) {
	t.Helper()
	dir := t.TempDir()
	app = newUpstream(t)
	users := writeFile(t, dir, "users.yaml", faUsers(t))
	cfgFile = writeFile(t, dir, "gateway.yaml", fmt.Sprintf(`
server: {listen: "127.0.0.1:0"}
admin: {listen: "127.0.0.1:0"}
store: {type: memory}
upstream: {url: %s}
trusted_proxies: [127.0.0.1]
keys: [{private_key_file: %s}]
tokens: {access_ttl: 2s, leeway: 0s}
cookie: {secure: false}
cors: {allowed_origins: ["%s"]}
identity_headers: {claims: {email: X-Forwarded-Email}}
log: {level: debug}
login:
  users_file: %s
  per_ip: {attempts: 1000, window: 1m}
  per_user: {attempts: 1000, window: 1m}
policy:
  rules:
    - {path: /admin/**, roles_any: [admin]}
    - {path_prefix: /strict, forward_auth_refresh: deny}
    - {path_prefix: /renamed, identity_headers: {user: X-Remote-User, set: {X-Tenant: acme}}}
`, app.URL, keygen(t, dir, "EdDSA"), faSPA, users))
	gw = start(t, "serve", "--config", cfgFile)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway log:\n%s", gw.Stderr())
		}
	})
	return gw, app, cfgFile
}

// faUsers returns the users file, hashing the passwords once per test
// binary (argon2id under -race takes about a second each).
func faUsers(t *testing.T) string {
	t.Helper()
	faUsersMu.Lock()
	defer faUsersMu.Unlock()
	if faUsersYAML != "" {
		return faUsersYAML
	}
	hash := func(pw string) string {
		out, stderr, code := runCmd(t, pw+"\n", "hash-password")
		if code != 0 {
			t.Fatalf("hash-password: exit %d %s", code, stderr)
		}
		return strings.TrimSpace(out)
	}
	faUsersYAML = fmt.Sprintf(`users:
  - username: alice
    password_hash: "%s"
    email: alice@example.test
    roles: [user]
  - username: bob
    password_hash: "%s"
    roles: [admin]
`, hash("alice-pw"), hash("bob-pw"))
	return faUsersYAML
}

var (
	faUsersMu   sync.Mutex
	faUsersYAML string
)

// faSetup starts the gateway, the app and the proxy running the recipe.
func faSetup(t *testing.T, r faRecipe) *faEnv {
	t.Helper()
	gw, app, cfg := faGateway(t)
	addr := r.Start(t, gatewayBin, cfg, gw.Addr, strings.TrimPrefix(app.URL, "http://"))
	return &faEnv{recipe: r, gw: gw, app: app, base: "http://" + addr}
}

// login signs in through the proxy's /.auth/login (JSON) with a fresh
// cookie jar.
func (e *faEnv) login(t *testing.T, user string) *http.Client {
	t.Helper()
	c := newClient(t)
	res, body := do(t, c, "POST", e.base+"/.auth/login", `{"username":"`+user+`","password":"`+user+`-pw"}`)
	if res.StatusCode != 200 || cookieValue(c, e.base) == "" {
		t.Fatalf("login as %s through %s: %d, Set-Cookie %q\n%s", user, e.recipe.Name, res.StatusCode, res.Header.Values("Set-Cookie"), body)
	}
	return c
}

// resolve makes a Location or return path absolute against the proxy.
func (e *faEnv) resolve(ref string) string {
	base, _ := url.Parse(e.base + "/")
	u, err := base.Parse(ref)
	if err != nil {
		return "unparseable: " + ref
	}
	return u.String()
}

// seen returns the requests the app received for path.
func (e *faEnv) seen(path string) []*http.Request {
	e.app.mu.Lock()
	defer e.app.mu.Unlock()
	var out []*http.Request
	for _, r := range e.app.reqs {
		if r.URL.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (e *faEnv) notCalled(t *testing.T, path string) {
	t.Helper()
	if n := len(e.seen(path)); n != 0 {
		t.Errorf("the app was called %d times for %s, want never", n, path)
	}
}

// identity checks what the app last saw for path: exactly one user and
// roles header, in any spelling, with the verified values.
func (e *faEnv) identity(t *testing.T, path, user, roles string) *http.Request {
	t.Helper()
	reqs := e.seen(path)
	if len(reqs) == 0 {
		t.Fatalf("the app never saw %s", path)
	}
	r := reqs[len(reqs)-1]
	if got := faFolded(r.Header, "X-Auth-User"); len(got) != 1 || got[0] != user {
		t.Errorf("app saw X-Auth-User (all spellings) %q, want [%s]; headers: %v", got, user, r.Header)
	}
	if got := faFolded(r.Header, "X-Auth-Roles"); len(got) != 1 || got[0] != roles {
		t.Errorf("app saw X-Auth-Roles (all spellings) %q, want [%s]", got, roles)
	}
	return r
}

// faFolded returns the values of every header whose name folds to name
// the way CGI-style servers fold them: case-insensitive, "_" and "." as "-".
func faFolded(h http.Header, name string) []string {
	fold := func(s string) string { return strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(s)) }
	var out []string
	for k, vs := range h {
		if fold(k) == fold(name) {
			out = append(out, vs...)
		}
	}
	return out
}

// faPostForm posts an HTML form the way a browser would, same-origin.
func faPostForm(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, []byte) {
	t.Helper()
	return do(t, c, "POST", u, form.Encode(), "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
}
