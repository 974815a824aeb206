package e2e

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/session"
)

// TestSeveralAppsBehindOneGateway runs the real binary in front of three
// real upstreams: an API on its own host, a legacy admin tool that
// believes it lives at "/" mounted under /legacy, and a public frontend.
// There is no default upstream, so anything else is NO_ROUTE.
func TestSeveralAppsBehindOneGateway(t *testing.T) {
	dir := t.TempDir()
	api, frontend := newUpstream(t), newUpstream(t)
	legacy := newUpstream(t)
	legacy.Config.Handler = legacyApp(legacy)
	keyFile := keygen(t, dir, "EdDSA")
	cfgFile := writeFile(t, dir, "gateway.yaml", fmt.Sprintf(`
server: {listen: "127.0.0.1:0"}
store: {type: memory}
admin: {listen: ""}
tokens: {issuer: https://gw.example.test, audience: apps}
keys: [{private_key_file: %s}]
upstreams:
  api:      {url: %s}
  legacy:   {url: %s}
  frontend: {url: %s}
policy:
  rules:
    - name: api
      host: api.example.test
      upstream: api
      identity_headers: {user: X-Remote-User}
    - name: legacy
      host: app.example.test
      path_prefix: /legacy
      roles_any: [admin]
      upstream: legacy
      strip_prefix: /legacy
      rewrite_redirects: true
    - name: frontend
      host: app.example.test
      access: public
      upstream: frontend
`, keyFile, api.URL, legacy.URL, frontend.URL))
	gw := start(t, "serve", "--config", cfgFile)
	base := "http://" + gw.Addr
	tokens := minter(t, keyFile, "apps")
	mint := func(sub string, roles ...string) string {
		tok, _, err := tokens.Mint(session.Identity{Subject: sub, Roles: roles}, "s-"+sub)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	alice, root := mint("alice", "user"), mint("root", "admin")

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(host, rawPath, token string, hdr ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("GET", base+rawPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("Accept", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}

	t.Run("each host and path reaches its own app", func(t *testing.T) {
		tests := []struct {
			name, host, path, token string
			up                      *upstream
			wantPath                string
		}{
			{"api host", "api.example.test", "/v1/items", alice, api, "/v1/items"},
			{"api host, other spelling", "API.Example.Test.", "/v1/items", alice, api, "/v1/items"},
			{"legacy under its prefix", "app.example.test", "/legacy/users", root, legacy, "/users"},
			{"legacy after canonicalisation", "app.example.test", "/static/..//legacy/%61dmin/./x", root, legacy, "/admin/x"},
			{"frontend", "app.example.test", "/index.html", "", frontend, "/index.html"},
			{"frontend, not the legacy prefix", "app.example.test", "/legacyx", "", frontend, "/legacyx"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				n := tt.up.count()
				res := get(tt.host, tt.path, tt.token, "X-Remote-User", "mallory", "X-Auth-User", "mallory")
				if res.StatusCode != 200 || tt.up.count() != n+1 {
					t.Fatalf("status %d, upstream hits %d -> %d", res.StatusCode, n, tt.up.count())
				}
				if got := tt.up.last(t).URL.Path; got != tt.wantPath {
					t.Errorf("the app saw path %q, want %q", got, tt.wantPath)
				}
			})
		}
	})

	t.Run("identity and prefix headers per app", func(t *testing.T) {
		get("api.example.test", "/v1/me", alice, "X-Remote-User", "mallory", "X-Auth-User", "mallory")
		h := api.last(t).Header
		if h.Values("X-Remote-User")[0] != "alice" || len(h.Values("X-Remote-User")) != 1 || len(h.Values("X-Auth-User")) != 0 {
			t.Errorf("api headers: X-Remote-User %q, X-Auth-User %q", h.Values("X-Remote-User"), h.Values("X-Auth-User"))
		}
		get("app.example.test", "/legacy/users", root, "X-Remote-User", "mallory")
		h = legacy.last(t).Header
		if h.Get("X-Auth-User") != "root" || h.Get("X-Auth-Roles") != "admin" || h.Get("X-Forwarded-Prefix") != "/legacy" || len(h.Values("X-Remote-User")) != 0 {
			t.Errorf("legacy headers: %v", h)
		}
		get("app.example.test", "/index.html", "", "X-Auth-User", "mallory")
		if h := frontend.last(t).Header; len(h.Values("X-Auth-User")) != 0 || h.Get("X-Forwarded-Prefix") != "" {
			t.Errorf("frontend headers: %v", h)
		}
	})

	t.Run("the legacy app's redirects and cookie paths are rewritten", func(t *testing.T) {
		res := get("app.example.test", "/legacy/login", root)
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/legacy/home" {
			t.Errorf("login: %d Location %q, want 302 /legacy/home", res.StatusCode, res.Header.Get("Location"))
		}
		if got := res.Header.Values("Set-Cookie"); len(got) != 1 || !strings.Contains(got[0], "Path=/legacy") {
			t.Errorf("Set-Cookie %q, want Path=/legacy", got)
		}
		res = get("app.example.test", "/legacy/abs", root)
		if got := res.Header.Get("Location"); got != "/legacy/done?x=1" {
			t.Errorf("absolute redirect to the app itself: Location %q", got)
		}
		// The jar scopes the rewritten cookie to the legacy app only.
		get("app.example.test", "/legacy/users", root)
		if legacy.last(t).Header.Get("Cookie") != "legacy_sid=1" {
			t.Errorf("legacy app did not get its cookie back: %q", legacy.last(t).Header.Get("Cookie"))
		}
		get("app.example.test", "/index.html", "")
		if c := frontend.last(t).Header.Get("Cookie"); c != "" {
			t.Errorf("the frontend received the legacy cookie: %q", c)
		}
	})

	t.Run("access is decided by the routing rule", func(t *testing.T) {
		n := legacy.count()
		if res := get("app.example.test", "/legacy/users", alice); res.StatusCode != 403 || decodeError(t, res.Body) != "INSUFFICIENT_ROLES" {
			t.Errorf("legacy as a user: %d", res.StatusCode)
		}
		if legacy.count() != n {
			t.Error("a refused request reached the legacy app")
		}
	})

	t.Run("unknown host is NO_ROUTE", func(t *testing.T) {
		hits := api.count() + legacy.count() + frontend.count()
		for _, host := range []string{"evil.example.test", "example.test", "api.example.test.evil"} {
			for _, tok := range []string{"", root} {
				res := get(host, "/v1/items", tok)
				if res.StatusCode != 404 || decodeError(t, res.Body) != "NO_ROUTE" {
					t.Errorf("%s: status %d", host, res.StatusCode)
				}
			}
		}
		if api.count()+legacy.count()+frontend.count() != hits {
			t.Error("a request for an unknown host reached an app")
		}
	})

	t.Run("check --explain names the upstream the request reached", func(t *testing.T) {
		out, stderr, code := runCmd(t, "", "check", "--config", cfgFile, "--explain", "GET",
			"http://app.example.test/static/..//legacy/%61dmin/./x")
		want := fmt.Sprintf("=> if allowed: upstream legacy %s, path /admin/x, X-Forwarded-Prefix /legacy", legacy.URL)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d, output:\n%s%s\nwant a line %q", code, out, stderr, want)
		}
		out, _, _ = runCmd(t, "", "check", "--config", cfgFile)
		for _, row := range []string{"api.example.test", "path_prefix /legacy", "none: 404 NO_ROUTE"} {
			if !strings.Contains(out, row) {
				t.Errorf("route table lacks %q:\n%s", row, out)
			}
		}
	})
}

// legacyApp is an app that assumes it lives at "/": it redirects to
// absolute paths and to its own absolute URL, and sets a cookie for "/".
func legacyApp(u *upstream) http.Handler {
	record := u.Config.Handler
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			http.SetCookie(w, &http.Cookie{Name: "legacy_sid", Value: "1", Path: "/"})
			http.Redirect(w, r, "/home", http.StatusFound)
			return
		case "/abs":
			// The app sees the upstream's own host in Host.
			w.Header().Set("Location", (&url.URL{Scheme: "http", Host: r.Host, Path: "/done", RawQuery: "x=1"}).String())
			w.WriteHeader(http.StatusFound)
			return
		}
		record.ServeHTTP(w, r)
	})
}
