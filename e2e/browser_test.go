package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/e2etest"
)

// TestBrowser proves CORS, cookies, CSRF protection and refresh in real
// headless Chromium (issue #5): a single-page app on http://localhost:A
// talks with fetch() to the gateway on http://localhost:B (same site,
// cross-origin), the way a real frontend does. Each scenario is one script
// in e2e/browser that prints what the page could see; the assertions are
// here.
func TestBrowser(t *testing.T) {
	node, chromium := browserTools(t)

	up := identityUpstream(t)

	spa := staticSite(t)  // in cors.allowed_origins
	evil := staticSite(t) // same site (localhost), not in the list

	const ttl = 2 * time.Second
	gw := browserGateway(t, up.URL, spa, ttl)
	cfg := map[string]any{
		"spa":      spa,
		"evil":     evil,
		"gateway":  gw,
		"user":     "alice",
		"password": "alice-pw",
		// Past the access token's expiry: exp is iat+ttl in whole seconds
		// (iat truncated), so ttl plus a margin is always enough.
		"expireMs": (ttl + 500*time.Millisecond).Milliseconds(),
		// csrf-form posts to a path of its own, so the upstream's recorder
		// tells whether that POST got through.
		"target": gw + "/app/transfer",
	}

	scenarios := []struct {
		name  string
		check func(t *testing.T, out browserResult)
	}{
		{"cookie-mode", checkCookieMode},
		{"header-mode", checkHeaderMode},
		{"foreign-origin", checkForeignOrigin},
		{"csrf-form", func(t *testing.T, out browserResult) { checkCSRFForm(t, out, up) }},
	}
	// A group, so that the check below runs after every parallel scenario.
	t.Run("scenarios", func(t *testing.T) {
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				// Parallel, so that the two waits for the token to expire
				// overlap: the whole test stays well under a minute.
				t.Parallel()
				sc.check(t, runScenario(t, node, chromium, sc.name, cfg))
			})
		}
	})

	// The gateway answers preflights itself: none may reach the app.
	up.mu.Lock()
	defer up.mu.Unlock()
	for _, r := range up.reqs {
		if r.Method == http.MethodOptions {
			t.Errorf("a preflight (OPTIONS %s) reached the upstream", r.URL.Path)
		}
	}
}

func checkCookieMode(t *testing.T, out browserResult) {
	if l := out.step("login"); l.Status != 200 {
		t.Fatalf("login from the SPA: %s", l)
	}
	first := out.cookie(t, "cookiesAfterLogin", "__Host-gatehouse")
	if first == nil {
		t.Fatal("after login the browser holds no __Host-gatehouse cookie")
	}
	if !first.Secure || !first.HTTPOnly {
		t.Errorf("session cookie %+v, want Secure and HttpOnly", first)
	}

	app := out.step("app")
	if app.Status != 200 || app.user() != "alice" {
		t.Errorf("credentialed fetch of /app: %s, want 200 with user alice", app)
	}
	if v := app.Headers["X-App-Version"]; v == nil || *v != "7" {
		t.Errorf("X-App-Version read by the page = %v, want \"7\" (listed in cors.exposed_headers)", deref(v))
	}

	expired := out.step("appAfterExpiry")
	if expired.Status != 200 || expired.user() != "alice" {
		t.Errorf("fetch after the access token expired: %s, want a transparent refresh (200, no 401)", expired)
	}
	rotated := out.cookie(t, "cookiesAfterExpiry", "__Host-gatehouse")
	if rotated == nil || rotated.Value == first.Value {
		t.Errorf("the cookie was not rotated by the transparent refresh (before %.20q…, after %+v)", first.Value, rotated)
	}

	if l := out.step("logout"); l.Status != 204 {
		t.Errorf("logout from the SPA: %s, want 204", l)
	}
	if c := out.cookie(t, "cookiesAfterLogout", "__Host-gatehouse"); c != nil {
		t.Errorf("the browser still holds the session cookie after logout: %+v", c)
	}
	after := out.step("appAfterLogout")
	if after.Status != 401 || after.code() != "UNAUTHENTICATED" {
		t.Errorf("fetch after logout: %s, want a readable 401 UNAUTHENTICATED", after)
	}
	if v := after.Headers["WWW-Authenticate"]; v == nil || *v != "Bearer" {
		t.Errorf("WWW-Authenticate read by the page = %v, want \"Bearer\"", deref(v))
	}
}

func checkHeaderMode(t *testing.T, out browserResult) {
	login := out.step("login")
	if login.Status != 200 || login.JSON["access_token"] == nil || login.JSON["refresh_token"] == nil || login.JSON["expires_in"] == nil {
		t.Fatalf("header-mode login from the SPA (a preflighted request): %s", login)
	}
	app := out.step("app")
	if app.Status != 200 || app.user() != "alice" {
		t.Errorf("bearer fetch of /app: %s", app)
	}
	if v := app.Headers["X-App-Version"]; v == nil || *v != "7" {
		t.Errorf("X-App-Version read by the page = %v, want \"7\"", deref(v))
	}

	expired := out.step("appExpired")
	if expired.Status != 401 || expired.code() != "TOKEN_EXPIRED" {
		t.Errorf("bearer fetch after expiry: %s, want a readable 401 TOKEN_EXPIRED", expired)
	}
	if v := expired.Headers["WWW-Authenticate"]; v == nil || !strings.Contains(*v, `error="invalid_token"`) || !strings.Contains(*v, "expired") {
		t.Errorf("WWW-Authenticate read by the page = %v, want the invalid_token/expired challenge (exposed by the gateway)", deref(v))
	}
	if v := expired.Headers["X-Request-Id"]; v == nil || *v == "" {
		t.Errorf("X-Request-Id read by the page = %v, want it exposed", deref(v))
	}

	refresh := out.step("refresh")
	if refresh.Status != 200 || refresh.JSON["access_token"] == nil || refresh.JSON["access_token"] == login.JSON["access_token"] {
		t.Errorf("header-mode refresh: %s, want new tokens", refresh)
	}
	if retried := out.step("appRetried"); retried.Status != 200 || retried.user() != "alice" {
		t.Errorf("retry with the refreshed token: %s", retried)
	}

	var cookies []browserCookie
	out.decode(t, "cookies", &cookies)
	if len(cookies) != 0 {
		t.Errorf("header mode left cookies in the browser: %+v", cookies)
	}
}

func checkForeignOrigin(t *testing.T, out browserResult) {
	if l := out.step("login"); l.Status != 200 || out.cookie(t, "cookies", "__Host-gatehouse") == nil {
		// Without a live session the negative below proves nothing.
		t.Fatalf("login through the gateway's login page: %s, want 200 and a __Host-gatehouse cookie", l)
	}
	for _, name := range []string{"session", "app"} {
		s := out.step(name)
		if s.Error != "TypeError: Failed to fetch" {
			t.Errorf("credentialed fetch of %s from a foreign origin: %s, want TypeError: Failed to fetch (CORS refused)", name, s)
		}
	}
}

func checkCSRFForm(t *testing.T, out browserResult, up *upstream) {
	if l := out.step("login"); l.Status != 200 || out.cookie(t, "cookies", "__Host-gatehouse") == nil {
		// Without a live session the negative below proves nothing.
		t.Fatalf("login through the gateway's login page: %s, want 200 and a __Host-gatehouse cookie", l)
	}
	var form struct {
		Status     int
		Body       string
		SentCookie bool
	}
	out.decode(t, "form", &form)
	if !form.SentCookie {
		t.Error("the browser did not send the session cookie with the forged form: the scenario tests nothing")
	}
	if form.Status != 403 || !strings.Contains(form.Body, `"CSRF_REJECTED"`) {
		t.Errorf("cross-origin form POST with a session cookie: %d %s, want 403 CSRF_REJECTED", form.Status, form.Body)
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	for _, r := range up.reqs {
		if r.URL.Path == "/app/transfer" {
			t.Errorf("the forged %s %s reached the upstream as user %q", r.Method, r.URL.Path, r.Header.Get("X-Auth-User"))
		}
	}
}

// identityUpstream is an app that records every request and answers with
// the identity it was given, as JSON {"user", "path"}, and a custom header
// (X-App-Version) that scripts may read only when cors.exposed_headers
// lists it.
func identityUpstream(t *testing.T) *upstream {
	t.Helper()
	up := &upstream{}
	up.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up.mu.Lock()
		up.reqs = append(up.reqs, r.Clone(r.Context()))
		up.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-App-Version", "7")
		json.NewEncoder(w).Encode(map[string]string{"user": r.Header.Get("X-Auth-User"), "path": r.URL.Path})
	}))
	t.Cleanup(up.Close)
	return up
}

// browserTools returns the paths of node and Chromium, having installed the
// scripts' dependencies. Without the tools the test is skipped, except in
// CI, where a skipped test would be a false pass.
func browserTools(t *testing.T) (node, chromium string) {
	t.Helper()
	const install = "`apt-get install chromium nodejs npm` (never `npx playwright install`)"
	chromium = e2etest.FindProgram(t, "chromium", install)
	node = e2etest.FindProgram(t, "node", install)
	e2etest.NodeModules(t, "browser", "playwright-core", install)
	return node, chromium
}

// staticSite serves an empty page at / and, at /form?action=URL, a page
// that auto-submits a POST form to URL. It returns its origin, spelled
// http://localhost:PORT: same site as the gateway, and a secure context
// for Chromium, so the __Host- cookie works over plain HTTP.
func staticSite(t *testing.T) string {
	t.Helper()
	form := template.Must(template.New("form").Parse(`<!doctype html><title>form</title>
<form method="post" action="{{.}}"><input name="amount" value="1000"></form>
<script>document.forms[0].submit()</script>`))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>app</title>")
	})
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		form.Execute(w, r.URL.Query().Get("action"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return localhost(srv.Listener.Addr().String())
}

// browserGateway starts the gateway binary with default cookie settings
// (so the cookie is __Host-gatehouse) and the SPA's origin as the only
// CORS origin; it returns the gateway's origin.
func browserGateway(t *testing.T, upstreamURL, spa string, ttl time.Duration) string {
	t.Helper()
	dir := t.TempDir()
	hash, stderr, code := runCmd(t, "alice-pw\n", "hash-password")
	if code != 0 {
		t.Fatalf("hash-password: exit %d: %s", code, stderr)
	}
	users := writeFile(t, dir, "users.yaml", fmt.Sprintf("users:\n  - username: alice\n    password_hash: %q\n    roles: [user]\n", strings.TrimSpace(hash)))
	cfg := writeFile(t, dir, "gateway.yaml", fmt.Sprintf(`
server: {listen: "127.0.0.1:0"}
admin: {listen: "127.0.0.1:0"}
store: {type: memory}
upstream: {url: %s}
keys: [{private_key_file: %s}]
tokens: {access_ttl: %s, leeway: 0s}
login: {users_file: %s}
cors:
  allowed_origins: [%q]
  exposed_headers: [X-App-Version]
`, upstreamURL, keygen(t, dir, "EdDSA"), ttl, users, spa))
	return localhost(start(t, "serve", "--config", cfg).Addr)
}

// localhost turns 127.0.0.1:PORT into http://localhost:PORT.
func localhost(addr string) string {
	return "http://localhost:" + addr[strings.LastIndexByte(addr, ':')+1:]
}

// browserResult is the one JSON line a scenario script prints: its
// observations by name, or {"error": ...} when the script itself failed.
type browserResult map[string]json.RawMessage

// runScenario runs e2e/browser/<name>.mjs with cfg (as JSON) as its
// argument and decodes its result line. A script that fails, or reports an
// error, fails the test with its output.
func runScenario(t *testing.T, node, chromium, name string, cfg any) browserResult {
	t.Helper()
	arg, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("browser", name+".mjs"), string(arg))
	var stdout, stderr bytes.Buffer
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium) // read by lib.mjs
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	begin := time.Now()
	err = cmd.Run()
	t.Logf("%s.mjs ran in %v", name, time.Since(begin).Round(10*time.Millisecond))
	var out browserResult
	if jerr := json.Unmarshal(stdout.Bytes(), &out); err != nil || jerr != nil {
		t.Fatalf("node %s.mjs: %v %v\nstdout:\n%s\nstderr:\n%s", name, err, jerr, stdout.String(), stderr.String())
	}
	if msg, ok := out["error"]; ok {
		t.Fatalf("%s.mjs failed: %s\nstderr:\n%s", name, msg, stderr.String())
	}
	return out
}

func (r browserResult) decode(t *testing.T, key string, v any) {
	t.Helper()
	raw, ok := r[key]
	if !ok {
		t.Fatalf("the scenario reported no %q", key)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%q: %v in %s", key, err, raw)
	}
}

// fetchResult is what a page's script saw of one fetch (lib.mjs call).
type fetchResult struct {
	Status  int                `json:"status"`
	Error   string             `json:"error"`   // e.g. "TypeError: Failed to fetch"
	Headers map[string]*string `json:"headers"` // nil: hidden by CORS or absent
	JSON    map[string]any     `json:"json"`
	Text    string             `json:"text"`
	raw     string
}

// step returns the fetch the scenario reported as key; a missing one reads
// as status 0 and prints as such.
func (r browserResult) step(key string) fetchResult {
	raw, ok := r[key]
	if !ok {
		return fetchResult{raw: "<" + key + " not reported>"}
	}
	var f fetchResult
	json.Unmarshal(raw, &f)
	f.raw = string(raw)
	return f
}

func (f fetchResult) String() string { return f.raw }

func (f fetchResult) user() string {
	u, _ := f.JSON["user"].(string)
	return u
}

func (f fetchResult) code() string {
	e, _ := f.JSON["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// browserCookie is one cookie of the browser's store (context.cookies()).
type browserCookie struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Secure   bool   `json:"secure"`
	HTTPOnly bool   `json:"httpOnly"`
	SameSite string `json:"sameSite"`
}

// cookie returns the named cookie from the store snapshot key, or nil.
func (r browserResult) cookie(t *testing.T, key, name string) *browserCookie {
	t.Helper()
	var cs []browserCookie
	r.decode(t, key, &cs)
	for _, c := range cs {
		if c.Name == name {
			return &c
		}
	}
	return nil
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}
