package proxy

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
)

// routedEnv is a gateway in front of three recording upstreams: the
// default (e.up), "api" and "legacy" (mounted under /legacy), with rules
// for two hosts.
type routedEnv struct {
	*testEnv
	api, legacy *recorder
	legacySrv   *httptest.Server
}

func newRoutedEnv(t *testing.T, mutate ...func(*config.Config)) *routedEnv {
	t.Helper()
	re := &routedEnv{api: &recorder{}, legacy: &recorder{}}
	apiSrv := httptest.NewServer(re.api)
	t.Cleanup(apiSrv.Close)
	re.legacySrv = httptest.NewServer(re.legacy)
	t.Cleanup(re.legacySrv.Close)
	re.testEnv = newTestEnv(t, append([]func(*config.Config){func(c *config.Config) {
		c.Upstreams = map[string]config.Upstream{"api": {URL: apiSrv.URL}, "legacy": {URL: re.legacySrv.URL}}
		c.Policy.Rules = []config.Rule{
			{Name: "api", Host: "api.example.test", Upstream: "api", PassAuthorization: true,
				CORS:            &config.CORS{AllowedOrigins: []string{"https://spa.example.test"}, AllowedMethods: []string{"GET", "DELETE"}},
				IdentityHeaders: &config.RouteHeaders{User: "X-Remote-User", Set: map[string]string{"X-Tenant": "acme"}}},
			{Name: "legacy", Host: "app.example.test", PathPrefix: "/legacy", Upstream: "legacy",
				StripPrefix: "/legacy", RewriteRedirects: true},
			{Name: "app", Host: "app.example.test", Access: "public"},
			{Name: "blocked", Host: "other.example.test", PathPrefix: "/internal", Access: "deny"},
		}
	}}, mutate...)...)
	return re
}

func (re *routedEnv) get(t *testing.T, host, path string, hdr ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest("GET", "http://"+host+path, nil)
	r.Host = host
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return re.do(r)
}

func TestRoutesPickTheRuleUpstream(t *testing.T) {
	re := newRoutedEnv(t)
	tok := re.mint(t, alice)
	tests := []struct {
		name, host, path string
		want             *recorder
		wantPath         string
	}{
		{"api host", "api.example.test", "/v1/items", re.api, "/v1/items"},
		{"host case and trailing dot", "API.Example.Test.", "/v1/items", re.api, "/v1/items"},
		{"host with port", "api.example.test:8443", "/v1", re.api, "/v1"},
		{"prefix stripped", "app.example.test", "/legacy/admin/x", re.legacy, "/admin/x"},
		{"the prefix itself is the root", "app.example.test", "/legacy", re.legacy, "/"},
		{"after canonicalisation", "app.example.test", "/static/../legacy//a/./b", re.legacy, "/a/b"},
		{"encoded letters", "app.example.test", "/%6cegacy/x", re.legacy, "/x"},
		{"not under the prefix", "app.example.test", "/legacyx", re.up, "/legacyx"},
		{"host-less default", "app.example.test", "/", re.up, "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.want.count()
			res := re.get(t, tt.host, tt.path, "Authorization", "Bearer "+tok)
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if tt.want.count() != before+1 {
				t.Fatalf("the wanted upstream was not reached")
			}
			if got := tt.want.request(t).URL.Path; got != tt.wantPath {
				t.Errorf("upstream path %q, want %q", got, tt.wantPath)
			}
		})
	}
}

func TestRouteOptionsReachTheUpstream(t *testing.T) {
	re := newRoutedEnv(t)
	tok := re.mint(t, alice)

	re.get(t, "api.example.test", "/v1", "Authorization", "Bearer "+tok,
		"X-Auth-User", "mallory", "X_Remote_User", "mallory", "x-tenant", "evil", "X-Forwarded-Prefix", "/evil")
	got := re.api.request(t).Header
	if got.Get("X-Remote-User") != "alice" || len(got.Values("X-Remote-User")) != 1 {
		t.Errorf("api X-Remote-User = %q, want the verified user only", got.Values("X-Remote-User"))
	}
	if v, ok := got["X-Auth-User"]; ok {
		t.Errorf("api received X-Auth-User %q: the renamed top-level header must be stripped, not sent", v)
	}
	if _, ok := got["X_remote_user"]; ok {
		t.Error("api received the underscore spelling")
	}
	if got.Get("X-Tenant") != "acme" || len(got.Values("X-Tenant")) != 1 {
		t.Errorf("X-Tenant = %q, want only the route's value", got.Values("X-Tenant"))
	}
	if got.Get("Authorization") != "Bearer "+tok {
		t.Error("pass_authorization: the Authorization header was not forwarded")
	}
	if got.Get("X-Forwarded-Prefix") != "" {
		t.Errorf("an untrusted X-Forwarded-Prefix reached a route without a prefix: %q", got.Get("X-Forwarded-Prefix"))
	}

	re.get(t, "app.example.test", "/legacy/x", "Authorization", "Bearer "+tok, "X-Forwarded-Prefix", "/evil",
		"X-Remote-User", "mallory", "X-Tenant", "evil")
	got = re.legacy.request(t).Header
	if got.Get("X-Forwarded-Prefix") != "/legacy" {
		t.Errorf("X-Forwarded-Prefix = %q, want /legacy", got.Get("X-Forwarded-Prefix"))
	}
	if got.Get("Authorization") != "" {
		t.Error("a route without pass_authorization forwarded the consumed token")
	}
	if got.Get("X-Auth-User") != "alice" || len(got.Values("X-Remote-User")) != 0 || len(got.Values("X-Tenant")) != 0 {
		t.Errorf("legacy identity headers: X-Auth-User %q, X-Remote-User %q, X-Tenant %q: another app's headers must be stripped",
			got.Get("X-Auth-User"), got.Values("X-Remote-User"), got.Values("X-Tenant"))
	}
}

func TestNoRoute(t *testing.T) {
	re := newRoutedEnv(t, func(c *config.Config) { c.Upstream.URL = "" })
	tok := re.mint(t, alice)
	tests := []struct {
		name, host, path string
		status           int
		code             string
	}{
		{"unknown host", "unknown.example.test", "/", 404, CodeNoRoute},
		{"unknown host, api path", "evil.test", "/v1/items", 404, CodeNoRoute},
		{"known host, no upstream rule", "app.example.test", "/", 404, CodeNoRoute},
		{"a deny rule still forbids", "other.example.test", "/internal/x", 403, CodeForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, hdr := range [][]string{nil, {"Authorization", "Bearer " + tok}} {
				res := re.get(t, tt.host, tt.path, hdr...)
				if res.StatusCode != tt.status || errorCode(t, res) != tt.code {
					t.Errorf("status %d, want %d %s", res.StatusCode, tt.status, tt.code)
				}
			}
		})
	}
	if re.up.count()+re.api.count()+re.legacy.count() != 0 {
		t.Error("an unrouted request reached an upstream")
	}
	if res := re.get(t, "api.example.test", "/v1", "Authorization", "Bearer "+tok); res.StatusCode != 200 {
		t.Errorf("a routed request: %d", res.StatusCode)
	}
}

func TestRewriteRedirectsAndCookies(t *testing.T) {
	re := newRoutedEnv(t)
	re.legacy.h = func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			w.Header().Set("Location", "/home?x=1")
		case "/abs":
			w.Header().Set("Location", re.legacySrv.URL+"/done")
		case "/elsewhere":
			w.Header().Set("Location", "https://idp.example.test/auth")
		}
		w.Header().Add("Set-Cookie", "sid=1; Path=/; HttpOnly")
		w.Header().Add("Set-Cookie", "pref=2; path=/settings")
		w.Header().Add("Set-Cookie", "__Host-x=3; Path=/; Secure")
		w.WriteHeader(http.StatusFound)
	}
	tests := []struct{ path, location string }{
		{"/legacy/login", "/legacy/home?x=1"},
		{"/legacy/abs", "/legacy/done"},
		{"/legacy/elsewhere", "https://idp.example.test/auth"},
	}
	for _, tt := range tests {
		res := re.get(t, "app.example.test", tt.path, "Authorization", "Bearer "+re.mint(t, alice))
		if got := res.Header.Get("Location"); got != tt.location {
			t.Errorf("%s: Location %q, want %q", tt.path, got, tt.location)
		}
		want := []string{"sid=1; Path=/legacy; HttpOnly", "pref=2; Path=/legacy/settings", "__Host-x=3; Path=/; Secure"}
		if got := res.Header.Values("Set-Cookie"); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Errorf("%s: Set-Cookie %q, want %q", tt.path, got, want)
		}
	}
}

func TestRouteCORS(t *testing.T) {
	re := newRoutedEnv(t, withCORS)
	preflight := func(host, origin, method string) *http.Response {
		r := httptest.NewRequest("OPTIONS", "http://"+host+"/v1/items", nil)
		r.Host = host
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", method)
		return re.do(r)
	}
	tests := []struct {
		name, host, origin, method string
		allowed                    bool
	}{
		{"route origin on the api", "api.example.test", "https://spa.example.test", "DELETE", true},
		{"route method list", "api.example.test", "https://spa.example.test", "PUT", false},
		{"top-level origin not on the api", "api.example.test", "https://app.example.test", "GET", false},
		{"route origin not elsewhere", "app.example.test", "https://spa.example.test", "GET", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := preflight(tt.host, tt.origin, tt.method)
			got := res.Header.Get("Access-Control-Allow-Origin") == tt.origin
			if got != tt.allowed {
				t.Errorf("allowed = %v (status %d, ACAO %q), want %v", got, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"), tt.allowed)
			}
		})
	}
	if re.api.count() != 0 {
		t.Error("a preflight reached the upstream")
	}
}

func TestVerifyUsesRouteOptions(t *testing.T) {
	se := newSessionEnv(t, trustLoopback, func(c *config.Config) {
		c.Policy.Rules = append([]config.Rule{{Name: "strict", PathPrefix: "/strict", ForwardAuthRefresh: "deny",
			IdentityHeaders: &config.RouteHeaders{User: "X-Remote-User"}}}, c.Policy.Rules...)
	})
	cookie := se.login(t)
	res := se.verify("", "GET", "/strict/x", false, "Cookie", cookie)
	if res.StatusCode != 200 || res.Header.Get("X-Remote-User") != "alice" {
		t.Fatalf("verify: %d, X-Remote-User %q", res.StatusCode, res.Header.Get("X-Remote-User"))
	}
	// Every route's headers are in every answer, empty where the route
	// sets none: the proxy copies one list (docs/forward-auth.md).
	if v, ok := res.Header["X-Auth-User"]; !ok || len(v) != 1 || v[0] != "" {
		t.Errorf("verify on the renamed route: X-Auth-User %q, want present and empty", v)
	}
	if res := se.verify("", "GET", "/app/x", false, "Cookie", cookie); res.StatusCode != 200 || res.Header.Get("X-Auth-User") != "alice" {
		t.Errorf("verify on another route: %d, X-Auth-User %q", res.StatusCode, res.Header.Get("X-Auth-User"))
	} else if v, ok := res.Header["X-Remote-User"]; !ok || len(v) != 1 || v[0] != "" {
		t.Errorf("verify on another route: X-Remote-User %q, want present and empty", v)
	}
	se.clock.Advance(se.cfg.Tokens.AccessTTL + se.cfg.Tokens.Leeway + time.Second)
	if res := se.verify("?refresh=inline", "GET", "/strict/x", false, "Cookie", cookie, "Accept", "application/json"); res.StatusCode != 401 || errorCode(t, res) != CodeTokenExpired {
		t.Errorf("forward_auth_refresh: deny: %d, want 401 TOKEN_EXPIRED without a refresh", res.StatusCode)
	}
	if res := se.verify("?refresh=inline", "GET", "/app/x", false, "Cookie", cookie); res.StatusCode != 200 || len(res.Header.Values("Set-Cookie")) == 0 {
		t.Errorf("other rules keep the URL's inline refresh: %d", res.StatusCode)
	}
}

func TestRouteUpstreamDown(t *testing.T) {
	re := newRoutedEnv(t, withCORS)
	re.legacySrv.Close()
	res := re.get(t, "app.example.test", "/legacy/x", "Authorization", "Bearer "+re.mint(t, alice), "Origin", spaOrigin)
	if res.StatusCode != http.StatusBadGateway || errorCode(t, res) != CodeUpstreamUnavailable {
		t.Fatalf("status %d, want 502 UPSTREAM_UNAVAILABLE", res.StatusCode)
	}
	if res.Header.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Errorf("the error lacks the route's CORS headers: %v", res.Header)
	}
	if res := re.get(t, "app.example.test", "/index.html", "Authorization", "Bearer "+re.mint(t, alice)); res.StatusCode != 200 {
		t.Errorf("another upstream of the same gateway: %d", res.StatusCode)
	}
}

func TestReturnURLMayUseRouteCORSOrigin(t *testing.T) {
	re := newRoutedEnv(t, withCORS)
	for rd, want := range map[string]string{
		"https://spa.example.test/home": "https://spa.example.test/home", // the api rule's origin
		spaOrigin + "/x":                spaOrigin + "/x",                // the top-level origin
		evilOrigin + "/":                "/",
	} {
		r := httptest.NewRequest("GET", "/.auth/logout?rd="+url.QueryEscape(rd), nil)
		if got := re.do(r).Header.Get("Location"); got != want {
			t.Errorf("rd %s: Location %q, want %q", rd, got, want)
		}
	}
}
