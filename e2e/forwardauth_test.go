package e2e

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Forward-auth: nginx (auth_request) and Caddy (forward_auth) in front of
// a recording app, asking the gateway's /.auth/verify about every request.
// The proxy configurations are the recipes of docs/forward-auth.md, kept
// as templates in testdata/forward-auth; TestForwardAuthRecipesInDocs
// fails when the two diverge.

// faSPA is the origin of a single-page app on another port; it is only
// an origin string, nothing listens there.
const faSPA = "http://localhost:5173"

// faRecipe is one proxy's recipe and how to run it.
type faRecipe struct {
	name     string
	bin      string // where Debian installs it; PATH is tried first
	template string // under testdata/forward-auth
	// docValues are the placeholder values the documentation shows.
	docValues map[string]string
	// testValues are the placeholder values the test runs with.
	testValues func(gateway, app string, port int) map[string]string
	// start writes the proxy's configuration (recipe included) into dir
	// and returns the command that runs it in the foreground.
	start func(t *testing.T, bin, dir, recipe string) *exec.Cmd
	// refresh is the gateway's refresh mode the recipe chooses.
	refresh string
}

var faRecipes = []faRecipe{
	{
		name:     "nginx",
		bin:      "/usr/sbin/nginx",
		template: "nginx.conf",
		docValues: map[string]string{
			"{{gateway}}": "127.0.0.1:8080", "{{app}}": "127.0.0.1:3000",
			"{{listen}}": "80", "{{server_name}}": "app.example.com",
		},
		testValues: func(gateway, app string, port int) map[string]string {
			return map[string]string{
				"{{gateway}}": gateway, "{{app}}": app,
				"{{listen}}": "127.0.0.1:" + strconv.Itoa(port), "{{server_name}}": "localhost",
			}
		},
		start:   startNginx,
		refresh: "inline",
	},
	{
		name:     "caddy",
		bin:      "/usr/bin/caddy",
		template: "Caddyfile",
		docValues: map[string]string{
			"{{gateway}}": "127.0.0.1:8080", "{{app}}": "127.0.0.1:3000",
			"{{site}}": "app.example.com",
		},
		testValues: func(gateway, app string, port int) map[string]string {
			return map[string]string{
				"{{gateway}}": gateway, "{{app}}": app,
				"{{site}}": "http://127.0.0.1:" + strconv.Itoa(port),
			}
		},
		start:   startCaddy,
		refresh: "redirect",
	},
}

// render substitutes a recipe template's placeholders.
func (r faRecipe) render(t *testing.T, values map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "forward-auth", r.template))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for k, v := range values {
		s = strings.ReplaceAll(s, k, v)
	}
	if i := strings.Index(s, "{{"); i >= 0 {
		t.Fatalf("%s: placeholder left unsubstituted: %q", r.template, s[i:min(len(s), i+20)])
	}
	return s
}

// TestForwardAuthRecipesInDocs: the configurations in docs/forward-auth.md
// are exactly the ones the e2e tests run.
func TestForwardAuthRecipesInDocs(t *testing.T) {
	doc, err := os.ReadFile("../docs/forward-auth.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range faRecipes {
		body := r.render(t, r.docValues)
		if !strings.Contains(string(doc), body) {
			t.Errorf("docs/forward-auth.md does not contain testdata/forward-auth/%s verbatim (with %v substituted); copy it into the doc", r.template, r.docValues)
		}
	}
}

// TestForwardAuth runs the same requests through each proxy.
func TestForwardAuth(t *testing.T) {
	for _, r := range faRecipes {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			bin := faFind(t, r.name, r.bin)
			e := faSetup(t, r, bin)
			for _, c := range faCases {
				t.Run(c.name, func(t *testing.T) { c.run(t, e) })
			}
		})
	}
}

// faEnv is one proxy in front of one gateway and one app.
type faEnv struct {
	recipe faRecipe
	gw     *proc
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
		for _, name := range []string{"X-Auth-User", "x-auth-user", "X_Auth_User", "X.Auth.User", "X-Auth_User", "X-Auth-Roles", "X_Auth_Roles", "X-Auth-Email"} {
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
	gw, _ := faGateway(t)
	verify := "http://" + gw.addr + "/.auth/verify"
	fwd := []string{"X-Forwarded-Method", "GET", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "app.example.test", "X-Forwarded-Uri", "/app", "Accept", "application/json"}

	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	untrusted := from("127.0.0.2")
	if _, err := untrusted.Get("http://" + gw.addr + "/.auth/jwks.json"); err != nil {
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
// tokens, 127.0.0.1 trusted, a cookie the Go jar sends over http.
func faGateway(t *testing.T) (*proc, *upstream) {
	t.Helper()
	dir := t.TempDir()
	app := newUpstream(t)
	users := writeFile(t, dir, "users.yaml", faUsers(t))
	cfg := writeFile(t, dir, "gateway.yaml", fmt.Sprintf(`
server: {listen: "127.0.0.1:0"}
admin: {listen: "127.0.0.1:0"}
store: {type: memory}
upstream: {url: %s}
trusted_proxies: [127.0.0.1]
keys: [{private_key_file: %s}]
tokens: {access_ttl: 2s, leeway: 0s}
cookie: {secure: false}
cors: {allowed_origins: ["%s"]}
log: {level: debug}
login:
  users_file: %s
  per_ip: {attempts: 1000, window: 1m}
  per_user: {attempts: 1000, window: 1m}
policy:
  rules:
    - {path: /admin/**, roles_any: [admin]}
`, app.URL, keygen(t, dir, "EdDSA"), faSPA, users))
	gw := start(t, "serve", "--config", cfg)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway log:\n%s", gw.Stderr())
		}
	})
	return gw, app
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
func faSetup(t *testing.T, r faRecipe, bin string) *faEnv {
	t.Helper()
	gw, app := faGateway(t)
	port := faFreePort(t)
	dir := t.TempDir()
	recipe := r.render(t, r.testValues(gw.addr, strings.TrimPrefix(app.URL, "http://"), port))
	cmd := r.start(t, bin, dir, recipe)
	faRun(t, r.name, cmd, "127.0.0.1:"+strconv.Itoa(port))
	return &faEnv{recipe: r, gw: gw, app: app, base: "http://127.0.0.1:" + strconv.Itoa(port)}
}

// startNginx wraps the recipe (an http {} include) in a main configuration
// that keeps every file nginx writes under dir.
func startNginx(t *testing.T, bin, dir, recipe string) *exec.Cmd {
	writeFile(t, dir, "gatehouse.conf", recipe)
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n" // workers as root: the temp dir is 0700
	}
	writeFile(t, dir, "nginx.conf", user+`worker_processes 1;
events { worker_connections 256; }
http {
    access_log `+dir+`/access.log;
    client_body_temp_path `+dir+`/client_body;
    proxy_temp_path `+dir+`/proxy;
    fastcgi_temp_path `+dir+`/fastcgi;
    uwsgi_temp_path `+dir+`/uwsgi;
    scgi_temp_path `+dir+`/scgi;
    include `+dir+`/gatehouse.conf;
}
`)
	return exec.Command(bin, "-p", dir, "-c", dir+"/nginx.conf",
		"-g", "daemon off; pid "+dir+"/nginx.pid; error_log stderr;")
}

// startCaddy puts global options before the recipe: no admin endpoint, no
// automatic HTTPS, loopback only, state under dir.
func startCaddy(t *testing.T, bin, dir, recipe string) *exec.Cmd {
	writeFile(t, dir, "Caddyfile", `{
	admin off
	auto_https off
	default_bind 127.0.0.1
	storage file_system `+dir+`/data
}

`+recipe)
	cmd := exec.Command(bin, "run", "--config", dir+"/Caddyfile", "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir+"/data", "XDG_CONFIG_HOME="+dir+"/config")
	return cmd
}

// faRun starts a proxy, waits until addr accepts connections, and stops it
// (SIGTERM, then SIGKILL) when the test ends; its log is shown on failure.
func faRun(t *testing.T, name string, cmd *exec.Cmd, addr string) {
	t.Helper()
	var mu sync.Mutex
	var log strings.Builder
	w := faWriter{&mu, &log}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // workers go with it
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	logText := func() string { mu.Lock(); defer mu.Unlock(); return log.String() }
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			t.Errorf("%s did not stop within 10s of SIGTERM", name)
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logText())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			t.Fatalf("%s exited before listening: %v\n%s", name, err, logText())
		case <-ctx.Done():
			t.Fatalf("%s did not listen on %s within 20s\n%s", name, addr, logText())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

type faWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w faWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// faFind returns the proxy's executable, or skips (fails under CI) when it
// is not installed.
func faFind(t *testing.T, name, fallback string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if _, err := os.Stat(fallback); err == nil {
		return fallback
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; CI must run the forward-auth recipes (apt-get install %s)", name, name)
	}
	t.Skipf("%s is not installed (apt-get install %s); skipping its forward-auth recipe", name, name)
	return ""
}

// faFreePort returns a loopback port that was free a moment ago. The
// proxies cannot report an ephemeral port the way the gateway does.
func faFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// login signs in through the proxy's /.auth/login (JSON) with a fresh
// cookie jar.
func (e *faEnv) login(t *testing.T, user string) *http.Client {
	t.Helper()
	c := newClient(t)
	res, body := do(t, c, "POST", e.base+"/.auth/login", `{"username":"`+user+`","password":"`+user+`-pw"}`)
	if res.StatusCode != 200 || cookieValue(c, e.base) == "" {
		t.Fatalf("login as %s through %s: %d, Set-Cookie %q\n%s", user, e.recipe.name, res.StatusCode, res.Header.Values("Set-Cookie"), body)
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
