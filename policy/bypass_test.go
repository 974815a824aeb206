package policy

import (
	"errors"
	"net/url"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

// TestAdminBypass is the point of canonicalisation: with a rule that
// protects /admin/** and a public rule after it, no spelling of an admin
// path may reach the public rule. Each request target goes through the
// steps the proxy takes: net/url parses it, CanonicalPath reads its
// escaped path, Decide judges the result.
func TestAdminBypass(t *testing.T) {
	e := mustCompile(t, config.Policy{Rules: []config.Rule{
		{Name: "admin", Path: "/admin/**", RolesAny: []string{"admin"}},
		{Name: "public", PathPrefix: "/", Access: "public"},
	}})
	admin := user([]string{"admin"}, nil)
	dev := user([]string{"dev"}, nil)

	// Spellings of an admin path: they canonicalise, and the admin rule
	// decides them.
	equivalent := []string{
		"/admin", "/admin/", "/admin/users", "//admin", "//admin//users", "/./admin",
		"/admin/.", "/x/../admin", "/../admin", "/x/y/../../admin/users", "/%61dmin",
		"/%61%64%6D%69%6E/users", "/ADMIN/../admin", "/x/%2e%2e/admin", "/x/%2E%2E/admin",
		"/x/.%2e/admin", "/%2e/admin", "/%2e%2e/admin", "/admin/users/%2e%2e",
		"/admin/x/..", "/public/../admin", "/public/%2e%2e/admin/users",
	}
	for _, raw := range equivalent {
		t.Run(raw, func(t *testing.T) {
			u, err := url.ParseRequestURI(raw)
			if err != nil {
				t.Fatalf("url.ParseRequestURI(%q): %v", raw, err)
			}
			path, err := CanonicalPath(u.EscapedPath())
			if err != nil {
				t.Fatalf("CanonicalPath(%q): %v", u.EscapedPath(), err)
			}
			for _, c := range []struct {
				who   string
				req   Request
				allow bool
			}{
				{"anonymous", get("", path, nil), false},
				{"dev", get("", path, dev), false},
				{"admin", get("", path, admin), true}, // it really is the admin route
			} {
				if d := e.Decide(c.req); d.Rule != "admin" || d.Allow != c.allow {
					t.Errorf("%s: %q read as %q: decision %+v, want rule admin, allow %v", c.who, raw, path, d, c.allow)
				}
			}
		})
	}

	// Spellings that upstreams disagree about: refused before any rule,
	// whether by net/url or by CanonicalPath.
	refused := []string{
		"/%2Fadmin", "/x%2F..%2Fadmin", "/admin%2Fusers", `/x/..\admin`, "/x/..%5Cadmin",
		"/x/%252e%252e/admin", "/admin;x=1/users", "/x/..;/admin", "/x/..%3B/admin",
		"/x/%C0%AE%C0%AE/admin", "/admin%00/users", "/x/%2e%2e%00/admin", "/%zzadmin",
		"/x/%2e%2e%2Fadmin",
	}
	for _, raw := range refused {
		t.Run(raw, func(t *testing.T) {
			u, err := url.ParseRequestURI(raw)
			if err != nil {
				return // net/http answers 400 before the gateway sees it
			}
			if path, err := CanonicalPath(u.EscapedPath()); !errors.Is(err, ErrInvalidPath) {
				d := e.Decide(get("", path, dev))
				t.Errorf("CanonicalPath(%q) = %q, %v (decision %+v); want ErrInvalidPath", u.EscapedPath(), path, err, d)
			}
		})
	}
}
