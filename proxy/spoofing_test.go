package proxy

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

func TestFold(t *testing.T) {
	for _, name := range []string{"X-Auth-User", "x-auth-user", "X_Auth_User", "X.Auth.User", "x_AUTH.user"} {
		if got := fold(name); got != "x-auth-user" {
			t.Errorf("fold(%q) = %q", name, got)
		}
	}
}

func TestStripIdentityHeaders(t *testing.T) {
	ih := newIdentityHeaders(config.IdentityHeaders{
		User: "X-Auth-User", Email: "X-Auth-Email", Roles: "X-Auth-Roles", Session: "X-Auth-Session",
		Claims:        map[string]string{"tenant": "X-Tenant"},
		StripPrefixes: []string{"X-Auth-"},
		Strip:         []string{"Remote-User"},
	}, "Gatehouse-Grant")
	h := http.Header{}
	forged := []string{
		"X-Auth-User", "x-auth-user", "X_Auth_User", "X.Auth.User", "X-AUTH-ROLES",
		"X-Auth-Anything-New", "X_auth_groups", "X-Tenant", "x_tenant", "Remote-User", "REMOTE_USER",
		"Gatehouse-Grant", "gatehouse_grant",
	}
	for _, n := range forged {
		h[n] = []string{"admin"}
	}
	h["X-Authority"] = []string{"kept"} // shares letters, not the prefix "x-auth-"
	h["Accept"] = []string{"kept"}
	ih.strip(h)
	for _, n := range forged {
		if _, ok := h[n]; ok {
			t.Errorf("%s survived stripping", n)
		}
	}
	if h.Get("Accept") != "kept" || h.Get("X-Authority") != "kept" {
		t.Errorf("unrelated headers were stripped: %v", h)
	}
}

// rawRequest sends a request exactly as written (header spellings
// included) to a real server, and returns the status.
func rawRequest(t *testing.T, addr, req string) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(strings.ReplaceAll(req, "\n", "\r\n"))); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestForgedIdentityNeverReachesUpstream is the spoofing attack: a client
// sends identity headers in every spelling, with and without a session, on
// a public route and through Connection (which, with a Director-based
// proxy, would delete the gateway's own header after it was set).
func TestForgedIdentityNeverReachesUpstream(t *testing.T) {
	e := newTestEnv(t)
	srv := httptest.NewServer(e.gw)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	token := e.mint(t, alice)

	forged := "X-Auth-User: admin\nx-auth-user: admin\nX_Auth_User: admin\nX.Auth.User: admin\n" +
		"X-AUTH-ROLES: admin\nX_Auth_Roles: admin\nX-Auth-Email: root@example.test\nX-Auth-Department: finance\n"
	cases := []struct {
		name, path, extra string
		wantUser          string
	}{
		{"anonymous on public route", "/public/", "", ""},
		{"with a session", "/app", "Authorization: Bearer " + token + "\n", "alice"},
		{"with a session, Connection names the identity header", "/app",
			"Authorization: Bearer " + token + "\nConnection: X-Auth-User, X-Auth-Roles\n", "alice"},
		{"anonymous, Connection names the identity header", "/public/", "Connection: X-Auth-User\n", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := fmt.Sprintf("GET %s HTTP/1.1\nHost: gw.example.test\n%s%sConnection: close\n\n", tc.path, forged, tc.extra)
			if st := rawRequest(t, addr, req); st != 200 {
				t.Fatalf("status %d", st)
			}
			up := e.up.request(t)
			for name, vs := range up.Header {
				f := fold(name)
				if !strings.HasPrefix(f, "x-auth-") {
					continue
				}
				for _, v := range vs {
					if v == "admin" || v == "finance" || v == "root@example.test" {
						t.Errorf("forged %s: %s reached the upstream", name, v)
					}
				}
			}
			if got := up.Header.Values("X-Auth-User"); tc.wantUser == "" && len(got) != 0 || tc.wantUser != "" && (len(got) != 1 || got[0] != tc.wantUser) {
				t.Errorf("upstream X-Auth-User = %q, want %q", got, tc.wantUser)
			}
			if tc.wantUser != "" {
				if got := up.Header.Get("X-Auth-Roles"); got != "user" {
					t.Errorf("upstream X-Auth-Roles = %q, want user", got)
				}
			}
		})
	}
}

func TestForwardedHeaders(t *testing.T) {
	tests := []struct {
		name     string
		trusted  []string
		wantXFF  string
		wantHost string
		wantKeep bool // Forwarded / X-Real-IP kept
	}{
		{"untrusted peer: claims dropped", nil, "192.0.2.10", "gw.example.test", false},
		{"trusted peer: chain kept", []string{"192.0.2.0/24"}, "203.0.113.7, 192.0.2.10", "public.example.test", true},
		{"trusted list without this peer", []string{"10.0.0.0/8"}, "192.0.2.10", "gw.example.test", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, func(c *config.Config) { c.TrustedProxies = tt.trusted })
			r := httptest.NewRequest("GET", "http://gw.example.test/public/", nil)
			r.RemoteAddr = "192.0.2.10:5555"
			r.Header.Set("X-Forwarded-For", "203.0.113.7")
			r.Header.Set("X-Forwarded-Host", "public.example.test")
			r.Header.Set("Forwarded", "for=203.0.113.7")
			r.Header.Set("X-Real-IP", "203.0.113.7")
			r.Header["X_Forwarded_For"] = []string{"6.6.6.6"}
			if res := e.do(r); res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			up := e.up.request(t)
			if got := up.Header.Get("X-Forwarded-For"); got != tt.wantXFF {
				t.Errorf("X-Forwarded-For = %q, want %q", got, tt.wantXFF)
			}
			if got := up.Header.Get("X-Forwarded-Host"); got != tt.wantHost {
				t.Errorf("X-Forwarded-Host = %q, want %q", got, tt.wantHost)
			}
			if got := up.Header.Get("X-Forwarded-Proto"); got != "http" {
				t.Errorf("X-Forwarded-Proto = %q, want http", got)
			}
			kept := up.Header.Get("Forwarded") != "" && up.Header.Get("X-Real-Ip") != ""
			if kept != tt.wantKeep {
				t.Errorf("Forwarded/X-Real-IP kept = %v, want %v", kept, tt.wantKeep)
			}
			if !tt.wantKeep && len(up.Header["X_Forwarded_For"]) != 0 {
				t.Error("X_Forwarded_For from an untrusted peer reached the upstream")
			}
		})
	}
}

// TestTrustedForwardedHostIsJudged: the host the upstream is told
// (X-Forwarded-Host from a trusted proxy) is the host the policy judged.
func TestTrustedForwardedHostIsJudged(t *testing.T) {
	e := newTestEnv(t, func(c *config.Config) {
		c.TrustedProxies = []string{"192.0.2.0/24"}
		c.Policy.Rules = append([]config.Rule{{Name: "admin-host", Host: "admin.example.test", RolesAny: []string{"admin"}}}, c.Policy.Rules...)
	})
	for _, tc := range []struct {
		name, peer, host, xfh string
		want                  int
		wantUp                string
	}{
		{"trusted: X-Forwarded-Host is judged", "192.0.2.10:1", "gw.example.test", "admin.example.test", 403, ""},
		{"trusted: the last entry of a list", "192.0.2.10:1", "gw.example.test", "gw.example.test, Admin.Example.Test", 403, ""},
		{"trusted: Host is not judged when X-Forwarded-Host is set", "192.0.2.10:1", "admin.example.test", "gw.example.test", 200, "gw.example.test"},
		{"untrusted: X-Forwarded-Host is ignored", "198.51.100.1:1", "gw.example.test", "admin.example.test", 200, "gw.example.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://"+tc.host+"/app", nil)
			r.RemoteAddr = tc.peer
			r.Header.Set("X-Forwarded-Host", tc.xfh)
			r.Header.Set("Authorization", "Bearer "+e.mint(t, alice))
			n := e.up.count()
			res := e.do(r)
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
			if tc.want != 200 {
				if e.up.count() != n {
					t.Error("the refused request reached the upstream")
				}
				return
			}
			if got := e.up.request(t).Header.Get("X-Forwarded-Host"); got != tc.wantUp {
				t.Errorf("upstream X-Forwarded-Host = %q, want %q", got, tc.wantUp)
			}
		})
	}
}
