package policy

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

// fuzzPolicy has a rule of every kind: public prefix, role-guarded glob,
// host rule, method rule, deny.
var fuzzPolicy = config.Policy{Default: "authenticated", Rules: []config.Rule{
	{PathPrefix: "/public", Access: "public"},
	{Path: "/admin/**", RolesAny: []string{"admin"}},
	{PathPrefix: "/deny", Access: "deny"},
	{Host: "admin.example.com", RolesAny: []string{"admin"}},
	{Host: "*.tenants.example.com", Path: "/api/*/items", Access: "public"},
	{PathPrefix: "/api/write", Methods: []string{"POST", "DELETE"}, RolesAny: []string{"admin"}},
}}

// FuzzDecide is rule matching on the path, host and method a client chose,
// through the canonicalisation the proxy applies. Invariants: no panic; a
// request is judged the same however its host is spelled (case, port,
// trailing dot) and after re-canonicalising its path; an anonymous caller
// is never allowed under /admin, under /deny, or on the admin host
// outside /public (the first rule); and a
// non-canonical host or path is refused, never matched. Seeds are also in
// testdata/fuzz/FuzzDecide.
func FuzzDecide(f *testing.F) {
	for _, s := range [][3]string{
		{"app.example.com", "/public/x", "GET"}, {"ADMIN.example.com.", "/x", "GET"}, {"admin.example.com:443", "/public/x", "get"},
		{"a.tenants.example.com", "/api/1/items", "POST"}, {"tenants.example.com", "/api/1/items", "GET"},
		{"app.example.com", "/public/../admin/x", "GET"}, {"app.example.com", "/api/write/x", "post"}, {"[::1]:80", "//admin", "DELETE"},
		{"app.example.com", "/public%2f..%2fadmin", "GET"}, {"x", "/deny/", "OPTIONS"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	e, err := Compile(fuzzPolicy)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, host, escapedPath, method string) {
		path, err := CanonicalPath(escapedPath)
		if err != nil {
			return // refused before any rule (400 INVALID_PATH)
		}
		h := CanonicalHost(host)
		anon := e.Decide(Request{Host: h, Path: path, Method: method})
		admin := e.Decide(Request{Host: h, Path: path, Method: method, Principal: user([]string{"admin"}, nil)})

		// The same under other spellings of the host and the path.
		for _, other := range []string{strings.ToUpper(host), host + ":8443", strings.TrimSuffix(host, ".") + "."} {
			if strings.HasPrefix(host, "[") || strings.Count(host, ":") > 0 {
				break // ports and IPv6 literals: the variants are not the same host
			}
			if d := e.Decide(Request{Host: CanonicalHost(other), Path: path, Method: method}); d != anon {
				t.Fatalf("host %q and %q decide differently: %+v vs %+v", host, other, anon, d)
			}
		}
		again, err := CanonicalPath(path)
		if err != nil || again != path {
			t.Fatalf("CanonicalPath(%q) = %q, %v: not idempotent", path, again, err)
		}

		if anon.Allow {
			switch {
			case path == "/admin" || strings.HasPrefix(path, "/admin/"):
				t.Fatalf("anonymous allowed on %q (host %q)", path, host)
			case path == "/deny" || strings.HasPrefix(path, "/deny/"):
				t.Fatalf("anonymous allowed on the denied %q", path)
			case h == "admin.example.com" && path != "/public" && !strings.HasPrefix(path, "/public/"):
				t.Fatalf("anonymous allowed on the admin host (%q %q)", host, path)
			}
		}
		if anon.Allow && !admin.Allow {
			t.Fatalf("%q %q %q: anonymous allowed but admin refused", host, path, method)
		}
		if anon.Allow != (anon.Code == "") || admin.Allow != (admin.Code == "") {
			t.Fatalf("decision and code disagree: %+v %+v", anon, admin)
		}
		if d := e.Decide(Request{Host: host, Path: path, Method: method}); host != h && d.Allow {
			t.Fatalf("a non-canonical host %q was matched: %+v", host, d)
		}
	})
}
