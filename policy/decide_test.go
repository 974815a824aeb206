package policy

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
)

// user returns a principal with the given roles and extra claims.
func user(roles []string, claims map[string]any) *session.Principal {
	return &session.Principal{Identity: session.Identity{
		Subject: "u1", Email: "u1@example.com", Roles: roles, Claims: claims,
	}}
}

// get is a canonical GET request for host and path.
func get(host, path string, p *session.Principal) Request {
	return Request{Host: host, Path: path, Method: "GET", Principal: p}
}

func mustCompile(t testing.TB, p config.Policy) *Engine {
	t.Helper()
	e, err := Compile(p)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return e
}

func TestDecide(t *testing.T) {
	anyone := user(nil, nil)
	admin := user([]string{"admin"}, nil)
	pub := func(r config.Rule) config.Rule { r.Access = "public"; return r }
	deny := func(r config.Rule) config.Rule { r.Access = "deny"; return r }

	type want struct {
		allow  bool
		rule   string
		access Access
		code   string
	}
	allowed := func(rule string, a Access) want { return want{true, rule, a, ""} }
	refused := func(rule string, a Access, code string) want { return want{false, rule, a, code} }
	tests := []struct {
		name  string
		def   string
		rules []config.Rule
		req   Request
		want  want
	}{
		// Access kinds.
		{"public without principal", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/x"})},
			get("", "/x", nil), allowed("r", Public)},
		{"public with principal", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/x"})},
			get("", "/x", admin), allowed("r", Public)},
		{"deny without principal is forbidden, not unauthenticated", "",
			[]config.Rule{deny(config.Rule{Name: "r", Path: "/x"})},
			get("", "/x", nil), refused("r", Deny, CodeForbidden)},
		{"deny with admin", "", []config.Rule{deny(config.Rule{Name: "r", Path: "/x"})},
			get("", "/x", admin), refused("r", Deny, CodeForbidden)},
		{"authenticated without principal", "", []config.Rule{{Name: "r", Path: "/x"}},
			get("", "/x", nil), refused("r", Authenticated, CodeUnauthenticated)},
		{"authenticated with principal", "", []config.Rule{{Name: "r", Path: "/x", Access: "authenticated"}},
			get("", "/x", anyone), allowed("r", Authenticated)},

		// Roles.
		{"roles_any met by one", "", []config.Rule{{Name: "r", RolesAny: []string{"ops", "admin"}}},
			get("", "/", admin), allowed("r", Authenticated)},
		{"roles_any unmet", "", []config.Rule{{Name: "r", RolesAny: []string{"ops", "admin"}}},
			get("", "/", user([]string{"dev"}, nil)), refused("r", Authenticated, CodeInsufficientRoles)},
		{"roles_any without principal", "", []config.Rule{{Name: "r", RolesAny: []string{"admin"}}},
			get("", "/", nil), refused("r", Authenticated, CodeUnauthenticated)},
		{"roles are case-sensitive", "", []config.Rule{{Name: "r", RolesAny: []string{"admin"}}},
			get("", "/", user([]string{"Admin"}, nil)), refused("r", Authenticated, CodeInsufficientRoles)},
		{"roles_all met", "", []config.Rule{{Name: "r", RolesAll: []string{"a", "b"}}},
			get("", "/", user([]string{"b", "c", "a"}, nil)), allowed("r", Authenticated)},
		{"roles_all missing one", "", []config.Rule{{Name: "r", RolesAll: []string{"a", "b"}}},
			get("", "/", user([]string{"a"}, nil)), refused("r", Authenticated, CodeInsufficientRoles)},
		{"roles_any and roles_all both required", "",
			[]config.Rule{{Name: "r", RolesAny: []string{"x", "y"}, RolesAll: []string{"a"}}},
			get("", "/", user([]string{"y"}, nil)), refused("r", Authenticated, CodeInsufficientRoles)},
		{"roles are checked before claims", "",
			[]config.Rule{{Name: "r", RolesAny: []string{"admin"}, Claims: map[string]any{"mfa": true}}},
			get("", "/", anyone), refused("r", Authenticated, CodeInsufficientRoles)},

		// Claims: bool.
		{"bool claim equal", "", []config.Rule{{Name: "r", Claims: map[string]any{"email_verified": true}}},
			get("", "/", user(nil, map[string]any{"email_verified": true})), allowed("r", Authenticated)},
		{"bool claim differs", "", []config.Rule{{Name: "r", Claims: map[string]any{"email_verified": true}}},
			get("", "/", user(nil, map[string]any{"email_verified": false})), refused("r", Authenticated, CodeClaimRequired)},
		{"bool claim as string does not count", "", []config.Rule{{Name: "r", Claims: map[string]any{"email_verified": true}}},
			get("", "/", user(nil, map[string]any{"email_verified": "true"})), refused("r", Authenticated, CodeClaimRequired)},
		{"claim missing", "", []config.Rule{{Name: "r", Claims: map[string]any{"email_verified": true}}},
			get("", "/", anyone), refused("r", Authenticated, CodeClaimRequired)},
		{"required false, principal false", "", []config.Rule{{Name: "r", Claims: map[string]any{"guest": false}}},
			get("", "/", user(nil, map[string]any{"guest": false})), allowed("r", Authenticated)},

		// Claims: numbers, whatever their Go type on either side.
		{"yaml int, json float64", "", []config.Rule{{Name: "r", Claims: map[string]any{"level": 3}}},
			get("", "/", user(nil, map[string]any{"level": 3.0})), allowed("r", Authenticated)},
		{"yaml int, json.Number", "", []config.Rule{{Name: "r", Claims: map[string]any{"level": 3}}},
			get("", "/", user(nil, map[string]any{"level": json.Number("3")})), allowed("r", Authenticated)},
		{"yaml float64, int64", "", []config.Rule{{Name: "r", Claims: map[string]any{"level": 3.0}}},
			get("", "/", user(nil, map[string]any{"level": int64(3)})), allowed("r", Authenticated)},
		{"yaml uint64, uint64", "", []config.Rule{{Name: "r", Claims: map[string]any{"id": uint64(1) << 60}}},
			get("", "/", user(nil, map[string]any{"id": float64(uint64(1) << 60)})), allowed("r", Authenticated)},
		{"number differs", "", []config.Rule{{Name: "r", Claims: map[string]any{"level": 3}}},
			get("", "/", user(nil, map[string]any{"level": 3.5})), refused("r", Authenticated, CodeClaimRequired)},
		{"number as string does not count", "", []config.Rule{{Name: "r", Claims: map[string]any{"level": 3}}},
			get("", "/", user(nil, map[string]any{"level": "3"})), refused("r", Authenticated, CodeClaimRequired)},
		{"malformed json.Number", "", []config.Rule{{Name: "r", Claims: map[string]any{"level": 3}}},
			get("", "/", user(nil, map[string]any{"level": json.Number("3x")})), refused("r", Authenticated, CodeClaimRequired)},

		// Claims: strings.
		{"string claim equal", "", []config.Rule{{Name: "r", Claims: map[string]any{"tenant": "acme"}}},
			get("", "/", user(nil, map[string]any{"tenant": "acme"})), allowed("r", Authenticated)},
		{"string claim is case-sensitive", "", []config.Rule{{Name: "r", Claims: map[string]any{"tenant": "acme"}}},
			get("", "/", user(nil, map[string]any{"tenant": "ACME"})), refused("r", Authenticated, CodeClaimRequired)},
		{"registered claim email", "", []config.Rule{{Name: "r", Claims: map[string]any{"email": "u1@example.com"}}},
			get("", "/", anyone), allowed("r", Authenticated)},
		{"all claims required", "", []config.Rule{{Name: "r", Claims: map[string]any{"tenant": "acme", "mfa": true}}},
			get("", "/", user(nil, map[string]any{"tenant": "acme"})), refused("r", Authenticated, CodeClaimRequired)},

		// Claims: lists contain the required value.
		{"[]any contains string", "", []config.Rule{{Name: "r", Claims: map[string]any{"groups": "eng"}}},
			get("", "/", user(nil, map[string]any{"groups": []any{"ops", "eng"}})), allowed("r", Authenticated)},
		{"[]string contains string", "", []config.Rule{{Name: "r", Claims: map[string]any{"groups": "eng"}}},
			get("", "/", user(nil, map[string]any{"groups": []string{"eng"}})), allowed("r", Authenticated)},
		{"[]any contains number", "", []config.Rule{{Name: "r", Claims: map[string]any{"teams": 7}}},
			get("", "/", user(nil, map[string]any{"teams": []any{1.0, 7.0}})), allowed("r", Authenticated)},
		{"[]any lacks value", "", []config.Rule{{Name: "r", Claims: map[string]any{"groups": "eng"}}},
			get("", "/", user(nil, map[string]any{"groups": []any{"ops"}})), refused("r", Authenticated, CodeClaimRequired)},
		{"[]string never holds a number", "", []config.Rule{{Name: "r", Claims: map[string]any{"groups": 7}}},
			get("", "/", user(nil, map[string]any{"groups": []string{"7"}})), refused("r", Authenticated, CodeClaimRequired)},
		{"empty list", "", []config.Rule{{Name: "r", Claims: map[string]any{"groups": "eng"}}},
			get("", "/", user(nil, map[string]any{"groups": []any{}})), refused("r", Authenticated, CodeClaimRequired)},
		{"roles claim as a list", "", []config.Rule{{Name: "r", Claims: map[string]any{"roles": "admin"}}},
			get("", "/", admin), allowed("r", Authenticated)},

		// Hosts.
		{"exact host", "deny", []config.Rule{pub(config.Rule{Name: "r", Host: "app.example.com"})},
			get("app.example.com", "/", nil), allowed("r", Public)},
		{"exact host written in upper case with a dot", "deny",
			[]config.Rule{pub(config.Rule{Name: "r", Host: "App.Example.COM."})},
			get("app.example.com", "/", nil), allowed("r", Public)},
		{"other host", "deny", []config.Rule{pub(config.Rule{Name: "r", Host: "app.example.com"})},
			get("api.example.com", "/", nil), refused("default", Deny, CodeForbidden)},
		{"no host", "deny", []config.Rule{pub(config.Rule{Name: "r", Host: "app.example.com"})},
			get("", "/", nil), refused("default", Deny, CodeForbidden)},
		{"wildcard subdomain", "deny", []config.Rule{pub(config.Rule{Name: "r", Host: "*.example.com"})},
			get("a.example.com", "/", nil), allowed("r", Public)},
		{"wildcard deep subdomain", "deny", []config.Rule{pub(config.Rule{Name: "r", Host: "*.example.com"})},
			get("a.b.c.example.com", "/", nil), allowed("r", Public)},
		{"wildcard never the apex", "deny", []config.Rule{pub(config.Rule{Name: "r", Host: "*.example.com"})},
			get("example.com", "/", nil), refused("default", Deny, CodeForbidden)},
		{"wildcard never an evil suffix", "deny", []config.Rule{pub(config.Rule{Name: "r", Host: "*.example.com"})},
			get("evilexample.com", "/", nil), refused("default", Deny, CodeForbidden)},
		{"wildcard never a lookalike", "deny", []config.Rule{pub(config.Rule{Name: "r", Host: "*.example.com"})},
			get("a.example.com.evil.net", "/", nil), refused("default", Deny, CodeForbidden)},
		{"IPv6 host", "deny", []config.Rule{pub(config.Rule{Name: "r", Host: "[::1]"})},
			get("::1", "/", nil), allowed("r", Public)},

		// Exact paths; a trailing slash never matters.
		{"exact path", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/health"})},
			get("", "/health", nil), allowed("r", Public)},
		{"exact path with trailing slash", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/health"})},
			get("", "/health/", nil), allowed("r", Public)},
		{"exact pattern with trailing slash", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/health/"})},
			get("", "/health", nil), allowed("r", Public)},
		{"exact path not below", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/health"})},
			get("", "/health/x", nil), refused("default", Authenticated, CodeUnauthenticated)},
		{"exact path not a longer name", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/health"})},
			get("", "/healthz", nil), refused("default", Authenticated, CodeUnauthenticated)},
		{"paths are case-sensitive", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/health"})},
			get("", "/Health", nil), refused("default", Authenticated, CodeUnauthenticated)},
		{"exact root", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/"})},
			get("", "/", nil), allowed("r", Public)},
		{"exact root only", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/"})},
			get("", "/x", nil), refused("default", Authenticated, CodeUnauthenticated)},

		// Globs.
		{"star one segment", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/a/*/c"})},
			get("", "/a/b/c", nil), allowed("r", Public)},
		{"star not two segments", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/a/*/c"})},
			get("", "/a/b/x/c", nil), refused("default", Authenticated, CodeUnauthenticated)},
		{"star not zero segments", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/a/*/c"})},
			get("", "/a/c", nil), refused("default", Authenticated, CodeUnauthenticated)},
		{"star within a segment", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/files/*.png"})},
			get("", "/files/cat.png", nil), allowed("r", Public)},
		{"star within a segment, other suffix", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/files/*.png"})},
			get("", "/files/cat.png.exe", nil), refused("default", Authenticated, CodeUnauthenticated)},
		{"star within a segment, not deeper", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/files/*.png"})},
			get("", "/files/x/cat.png", nil), refused("default", Authenticated, CodeUnauthenticated)},
		{"several stars in a segment", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/v*-*-x"})},
			get("", "/v1-2-3-x", nil), allowed("r", Public)},
		{"double star matches the base", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/api/**"})},
			get("", "/api", nil), allowed("r", Public)},
		{"double star matches the base with slash", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/api/**"})},
			get("", "/api/", nil), allowed("r", Public)},
		{"double star matches deep", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/api/**"})},
			get("", "/api/x/y/z", nil), allowed("r", Public)},
		{"double star respects the segment", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/api/**"})},
			get("", "/apix", nil), refused("default", Authenticated, CodeUnauthenticated)},
		{"double star alone matches the root", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/**"})},
			get("", "/", nil), allowed("r", Public)},
		{"double star in the middle, none", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/a/**/z"})},
			get("", "/a/z", nil), allowed("r", Public)},
		{"double star in the middle, several", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/a/**/z"})},
			get("", "/a/b/z/c/z", nil), allowed("r", Public)},
		{"double star in the middle, no end", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/a/**/z"})},
			get("", "/a/b/z/c", nil), refused("default", Authenticated, CodeUnauthenticated)},
		{"leading double star", "", []config.Rule{pub(config.Rule{Name: "r", Path: "/**/*.css"})},
			get("", "/x/y/site.css", nil), allowed("r", Public)},

		// Prefixes.
		{"prefix itself", "", []config.Rule{pub(config.Rule{Name: "r", PathPrefix: "/api"})},
			get("", "/api", nil), allowed("r", Public)},
		{"prefix with slash", "", []config.Rule{pub(config.Rule{Name: "r", PathPrefix: "/api"})},
			get("", "/api/", nil), allowed("r", Public)},
		{"below prefix", "", []config.Rule{pub(config.Rule{Name: "r", PathPrefix: "/api"})},
			get("", "/api/v1/x", nil), allowed("r", Public)},
		{"prefix on segment boundary", "", []config.Rule{pub(config.Rule{Name: "r", PathPrefix: "/api"})},
			get("", "/apix", nil), refused("default", Authenticated, CodeUnauthenticated)},
		{"prefix written with trailing slash", "", []config.Rule{pub(config.Rule{Name: "r", PathPrefix: "/api/"})},
			get("", "/api", nil), allowed("r", Public)},
		{"prefix written with trailing slash, boundary", "", []config.Rule{pub(config.Rule{Name: "r", PathPrefix: "/api/"})},
			get("", "/apix/y", nil), refused("default", Authenticated, CodeUnauthenticated)},
		{"root prefix", "", []config.Rule{pub(config.Rule{Name: "r", PathPrefix: "/"})},
			get("", "/any/thing", nil), allowed("r", Public)},

		// Methods.
		{"method listed", "", []config.Rule{pub(config.Rule{Name: "r", Methods: []string{"get"}})},
			get("", "/", nil), allowed("r", Public)},
		{"GET brings HEAD", "", []config.Rule{pub(config.Rule{Name: "r", Methods: []string{"GET"}})},
			Request{Path: "/", Method: "HEAD"}, allowed("r", Public)},
		{"POST does not bring HEAD", "", []config.Rule{pub(config.Rule{Name: "r", Methods: []string{"POST"}})},
			Request{Path: "/", Method: "HEAD"}, refused("default", Authenticated, CodeUnauthenticated)},
		{"method not listed", "", []config.Rule{pub(config.Rule{Name: "r", Methods: []string{"GET", "HEAD"}})},
			Request{Path: "/", Method: "POST"}, refused("default", Authenticated, CodeUnauthenticated)},
		{"request method in lower case", "", []config.Rule{deny(config.Rule{Name: "r", Methods: []string{"DELETE"}})},
			Request{Path: "/", Method: "delete", Principal: admin}, refused("r", Deny, CodeForbidden)},

		// Combined fields, order and the default.
		{"all fields must match", "",
			[]config.Rule{pub(config.Rule{Name: "r", Host: "a.example.com", Path: "/x", Methods: []string{"POST"}})},
			get("a.example.com", "/x", nil), refused("default", Authenticated, CodeUnauthenticated)},
		{"first match wins", "",
			[]config.Rule{pub(config.Rule{Name: "first", PathPrefix: "/api/public"}), deny(config.Rule{Name: "second", PathPrefix: "/api"})},
			get("", "/api/public/x", nil), allowed("first", Public)},
		{"first match wins, reversed", "",
			[]config.Rule{deny(config.Rule{Name: "first", PathPrefix: "/api"}), pub(config.Rule{Name: "second", PathPrefix: "/api/public"})},
			get("", "/api/public/x", nil), refused("first", Deny, CodeForbidden)},
		{"unnamed rule", "", []config.Rule{{Path: "/a"}, pub(config.Rule{Path: "/b"})},
			get("", "/b", nil), allowed("rules[1]", Public)},
		{"empty rule matches everything", "", []config.Rule{deny(config.Rule{Name: "all"})},
			get("x.example", "/y", nil), refused("all", Deny, CodeForbidden)},
		{"zero default is authenticated", "", nil,
			get("", "/", nil), refused("default", Authenticated, CodeUnauthenticated)},
		{"default authenticated allows a principal", "authenticated", nil,
			get("", "/", anyone), allowed("default", Authenticated)},
		{"default public", "public", nil,
			get("", "/", nil), allowed("default", Public)},
		{"default deny", "deny", nil,
			get("", "/", admin), refused("default", Deny, CodeForbidden)},

		// Input that is not canonical is refused before matching.
		{"dot segment in path", "", []config.Rule{pub(config.Rule{Name: "r"})},
			get("", "/a/../admin", nil), refused("", Deny, CodeForbidden)},
		{"double slash in path", "", []config.Rule{pub(config.Rule{Name: "r"})},
			get("", "//admin", nil), refused("", Deny, CodeForbidden)},
		{"escaped path", "", []config.Rule{pub(config.Rule{Name: "r"})},
			get("", "/%61dmin", nil), refused("", Deny, CodeForbidden)},
		{"empty path", "", []config.Rule{pub(config.Rule{Name: "r"})},
			get("", "", nil), refused("", Deny, CodeForbidden)},
		{"host in upper case", "", []config.Rule{pub(config.Rule{Name: "r"})},
			get("App.example.com", "/", nil), refused("", Deny, CodeForbidden)},
		{"host with port", "", []config.Rule{pub(config.Rule{Name: "r"})},
			get("app.example.com:8080", "/", nil), refused("", Deny, CodeForbidden)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustCompile(t, config.Policy{Default: tt.def, Rules: tt.rules})
			d := e.Decide(tt.req)
			got := want{d.Allow, d.Rule, d.Access, d.Code}
			if got != tt.want {
				t.Errorf("Decide(%+v) = %+v, want %+v (reason: %s)", tt.req, got, tt.want, d.Reason)
			}
			if d.Reason == "" {
				t.Errorf("Decide(%+v) has no Reason", tt.req)
			}
		})
	}
}

// TestDecideReason pins the reasons that name what was missing.
func TestDecideReason(t *testing.T) {
	e := mustCompile(t, config.Policy{Rules: []config.Rule{
		{Name: "ops", PathPrefix: "/ops", RolesAny: []string{"ops", "admin"}},
		{Name: "billing", PathPrefix: "/billing", RolesAll: []string{"staff", "billing"}},
		{Name: "beta", PathPrefix: "/beta", Claims: map[string]any{"beta": true, "tier": 2}},
		{Name: "closed", PathPrefix: "/closed", Access: "deny"},
	}})
	staff := user([]string{"staff"}, map[string]any{"beta": true, "tier": "2"})
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"unauthenticated", get("", "/ops", nil),
			`rule "ops" (authenticated) requires a principal and the request has none`},
		{"roles_any", get("", "/ops", staff),
			`rule "ops" requires one of the roles ["ops" "admin"]; the principal has none of them`},
		{"roles_all", get("", "/billing", staff),
			`rule "billing" requires role "billing" (roles_all); the principal lacks it`},
		{"claim differs", get("", "/beta", staff),
			`rule "beta" requires claim "tier" = 2; the principal's value differs`},
		{"claim missing", get("", "/beta", user(nil, nil)),
			`rule "beta" requires claim "beta" = true; the principal has no such claim`},
		{"deny", get("", "/closed", nil),
			`rule "closed" (deny) refuses every request`},
		{"default", get("", "/", nil),
			`no rule matched: the default (authenticated) requires a principal and the request has none`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.Decide(tt.req).Reason; got != tt.want {
				t.Errorf("Reason = %q\nwant     %q", got, tt.want)
			}
		})
	}
}

func TestDecideAllocs(t *testing.T) {
	e := mustCompile(t, config.Policy{Rules: []config.Rule{
		{Name: "api", Host: "*.example.com", Path: "/api/**/items/*", Methods: []string{"GET"}, RolesAny: []string{"reader"}},
	}})
	tests := []struct {
		name string
		req  Request
	}{
		{"allow", get("app.example.com", "/api/v1/items/42", user([]string{"reader"}, nil))},
		{"refuse", get("app.example.com", "/api/v1/items/42", user(nil, nil))},
		{"default", get("app.example.com", "/", nil)},
		{"not canonical", get("app.example.com", "/a/../b", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, func() { _ = e.Decide(tt.req) }); n != 0 {
				t.Errorf("Decide allocates %v times, want 0", n)
			}
		})
	}
}

// TestDecideConcurrent lets the race detector watch one Engine shared by
// many goroutines.
func TestDecideConcurrent(t *testing.T) {
	e := mustCompile(t, config.Policy{Rules: []config.Rule{
		{Name: "admin", Path: "/admin/**", RolesAny: []string{"admin"}},
		{Name: "rest", PathPrefix: "/", Access: "public"},
	}})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			p := user([]string{"dev"}, nil)
			if g%2 == 0 {
				p = user([]string{"admin"}, nil)
			}
			for range 1000 {
				if d := e.Decide(get("", "/admin/x", p)); d.Allow != (g%2 == 0) {
					t.Errorf("goroutine %d: Decide = %+v", g, d)
					return
				}
			}
		})
	}
	wg.Wait()
}
