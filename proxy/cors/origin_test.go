package cors

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

// conf returns the default cors section with origins allowed.
func conf(origins ...string) config.CORS {
	c := config.Default().CORS
	c.AllowedOrigins = origins
	return c
}

// mustNew compiles c or fails the test.
func mustNew(t testing.TB, c config.CORS) *Policy {
	t.Helper()
	p, err := New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func TestCanonicalOrigin(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://app.example.com", "https://app.example.com", true},
		{"HTTPS://App.Example.COM", "https://app.example.com", true},
		{"https://app.example.com:443", "https://app.example.com", true},
		{"http://app.example.com:80", "http://app.example.com", true},
		{"http://app.example.com:443", "http://app.example.com:443", true},
		{"https://app.example.com:80", "https://app.example.com:80", true},
		{"https://app.example.com:0443", "https://app.example.com", true},
		{"https://app.example.com:08443", "https://app.example.com:8443", true},
		{"https://app.example.com.", "https://app.example.com", true},
		{"https://app.example.com.:8443", "https://app.example.com:8443", true},
		{"http://127.0.0.1:3000", "http://127.0.0.1:3000", true},
		{"http://[::1]:8080", "http://[::1]:8080", true},
		{"http://[0:0:0:0:0:0:0:1]", "http://[::1]", true},
		{"http://[FE80::A]:443", "http://[fe80::a]:443", true},
		{"null", "null", true},

		{"", "", false},
		{"NULL", "", false},
		{"app.example.com", "", false},
		{"//app.example.com", "", false},
		{"ftp://app.example.com", "", false},
		{"wss://app.example.com", "", false},
		{"https://", "", false},
		{"https://app.example.com/", "", false},
		{"https://app.example.com/path", "", false},
		{`https://app.example.com\`, "", false},
		{"https://app.example.com?", "", false},
		{"https://app.example.com?a=1", "", false},
		{"https://app.example.com#", "", false},
		{"https://user@app.example.com", "", false},
		{"https://user:pw@app.example.com", "", false},
		{"https://app.example.com:", "", false},
		{"https://app.example.com:0", "", false},
		{"https://app.example.com:65536", "", false},
		{"https://app.example.com:123456", "", false},
		{"https://app.example.com:+443", "", false},
		{"https://app.example.com..", "", false},
		{"https://.example.com", "", false},
		{"https://a..example.com", "", false},
		{"https://*.example.com", "", false},
		{"https://app.exa mple.com", "", false},
		{"https://app.example.com\r\nX: y", "", false},
		{" https://app.example.com", "", false},
		{"https://bücher.example", "", false},
		{"http://[::1", "", false},
		{"http://[::1]x", "", false},
		{"http://[127.0.0.1]", "", false},
		{"http://[fe80::1%25eth0]", "", false},
		{"http://::1", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := config.CanonicalOrigin(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("CanonicalOrigin(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestAllowed(t *testing.T) {
	p := mustNew(t, conf(
		"https://app.example.org",
		"http://localhost:3000",
		"https://*.example.com",
		"https://*.corp.example.net:8443",
		"http://[::1]:8080",
	))
	tests := []struct {
		origin string
		want   bool
	}{
		// exact
		{"https://app.example.org", true},
		{"HTTPS://APP.EXAMPLE.ORG", true},
		{"https://app.example.org:443", true},
		{"https://app.example.org.", true},
		{"https://app.example.org/", false},
		{"https://app.example.org/path", false},
		{"https://app.example.org?x=1", false},
		{"https://app.example.org#x", false},
		{"https://user@app.example.org", false},
		{"http://app.example.org", false},
		{"https://app.example.org:8443", false},
		{"https://x.app.example.org", false},
		{"https://app.example.org.evil.net", false},
		{"https://evilapp.example.org", false},
		{"http://localhost:3000", true},
		{"http://LocalHost:3000", true},
		{"http://localhost", false},
		{"http://localhost:3001", false},
		{"https://localhost:3000", false},
		{"http://[::1]:8080", true},
		{"http://[0::1]:8080", true},
		{"http://[::1]", false},

		// pattern
		{"https://a.example.com", true},
		{"https://a.b.example.com", true},
		{"https://A.Example.COM", true},
		{"https://a.example.com:443", true},
		{"https://a.example.com.", true},
		{"https://example.com", false},
		{"https://example.com.", false},
		{"https://evilexample.com", false},
		{"https://a.evilexample.com", false},
		{"https://example.com.evil.net", false},
		{"https://a.example.com.evil.net", false},
		{"https://a.example.community", false},
		{"http://a.example.com", false},
		{"https://a.example.com:8443", false},
		{"https://.example.com", false},
		{"https://a..example.com", false},
		{"https://*.example.com", false},
		{"https://a.example.com/", false},

		// pattern with a port
		{"https://x.corp.example.net:8443", true},
		{"https://x.y.corp.example.net:8443", true},
		{"https://x.corp.example.net", false},
		{"https://x.corp.example.net:443", false},
		{"https://corp.example.net:8443", false},
		{"http://x.corp.example.net:8443", false},

		// neither
		{"", false},
		{"null", false},
		{"https://other.example.org", false},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			if got := p.Allowed(tt.origin); got != tt.want {
				t.Errorf("Allowed(%q) = %v, want %v", tt.origin, got, tt.want)
			}
		})
	}
}

func TestAllowedNullOnlyWhenListed(t *testing.T) {
	withNull := conf("null", "https://app.example.com")
	withNull.AllowCredentials = new(false)
	p := mustNew(t, withNull)
	for origin, want := range map[string]bool{"null": true, "NULL": false, "Null": false, " null": false, "https://app.example.com": true} {
		if got := p.Allowed(origin); got != want {
			t.Errorf("with null listed: Allowed(%q) = %v, want %v", origin, got, want)
		}
	}
	if mustNew(t, conf("https://*.example.com")).Allowed("null") {
		t.Error("a pattern allows null")
	}
}

func TestEnabled(t *testing.T) {
	if mustNew(t, conf()).Enabled() {
		t.Error("no origins: Enabled() = true")
	}
	if p := mustNew(t, conf()); p.Allowed("https://app.example.com") {
		t.Error("no origins: an origin is allowed")
	}
	if !mustNew(t, conf("https://*.example.com")).Enabled() {
		t.Error("a pattern only: Enabled() = false")
	}
}

func TestExactOrigins(t *testing.T) {
	c := conf("HTTPS://App.Example.com:443", "null", "https://*.example.com", "http://localhost:3000")
	c.AllowCredentials = new(false)
	p := mustNew(t, c)
	got := p.ExactOrigins()
	want := []string{"https://app.example.com", "http://localhost:3000"}
	if !slices.Equal(got, want) {
		t.Fatalf("ExactOrigins() = %q, want %q", got, want)
	}
	got[0] = "https://evil.example"
	if p.ExactOrigins()[0] != want[0] {
		t.Error("ExactOrigins returns the policy's own slice")
	}
	cop := http.NewCrossOriginProtection()
	for _, o := range want {
		if err := cop.AddTrustedOrigin(o); err != nil {
			t.Errorf("AddTrustedOrigin(%q): %v", o, err)
		}
	}
}

func TestNotes(t *testing.T) {
	tests := []struct {
		name        string
		origins     []string
		credentials bool
		want        []string // field of each note
	}{
		{"http with credentials", []string{"https://a.example.com", "http://app.internal"}, true, []string{"cors.allowed_origins[1]"}},
		{"http pattern with credentials", []string{"http://*.example.com"}, true, []string{"cors.allowed_origins[0]"}},
		{"http without credentials", []string{"http://app.internal"}, false, nil},
		{"localhost", []string{"http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:8080", "http://app.localhost"}, true, nil},
		{"https", []string{"https://app.example.com"}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := conf(tt.origins...)
			c.AllowCredentials = new(tt.credentials)
			notes := mustNew(t, c).Notes()
			if len(notes) != len(tt.want) {
				t.Fatalf("Notes() = %q, want %d", notes, len(tt.want))
			}
			for i, n := range notes {
				if !strings.HasPrefix(n, tt.want[i]+": ") {
					t.Errorf("note %q does not start with %s", n, tt.want[i])
				}
			}
		})
	}
}
