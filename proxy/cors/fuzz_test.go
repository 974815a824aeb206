package cors

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

// FuzzCanonicalOrigin checks, for any Origin header value, that
// canonicalisation never panics, is idempotent, yields nothing an origin
// cannot contain, and that Allowed gives the same answer for a value and
// its canonical form.
func FuzzCanonicalOrigin(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com", "HTTPS://App.Example.COM:443", "http://localhost:3000", "null",
		"https://a.b.example.com.", "https://example.com.evil.net", "http://[::1]:8080", "http://[0:0::1]",
		"https://app.example.com/", "https://u@app.example.com", "https://app.example.com:08443",
		"https://*.example.com", "https://app.example.com?#", "http://[fe80::1%25eth0]", "",
	} {
		f.Add(s)
	}
	p := mustNew(f, conf("https://app.example.com", "https://*.example.com", "http://[::1]:8080", "https://*.example.org:8443"))
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := config.CanonicalOrigin(s)
		if !ok {
			if c != "" {
				t.Fatalf("CanonicalOrigin(%q) = %q, false", s, c)
			}
			if p.Allowed(s) {
				t.Fatalf("Allowed(%q) for a value that is not an origin", s)
			}
			return
		}
		again, ok := config.CanonicalOrigin(c)
		if !ok || again != c {
			t.Fatalf("CanonicalOrigin(%q) = %q, but CanonicalOrigin(%q) = %q, %v", s, c, c, again, ok)
		}
		if c != "null" {
			_, rest, _ := strings.Cut(c, "://")
			if strings.ContainsAny(rest, "/?#@\\ ABCDEFGHIJKLMNOPQRSTUVWXYZ") || strings.HasSuffix(rest, ".") ||
				strings.HasSuffix(c, ":443") && strings.HasPrefix(c, "https:") || strings.HasSuffix(c, ":80") && strings.HasPrefix(c, "http:") {
				t.Fatalf("CanonicalOrigin(%q) = %q, which is not canonical", s, c)
			}
		}
		if p.Allowed(s) != p.Allowed(c) {
			t.Fatalf("Allowed(%q) = %v but Allowed(%q) = %v", s, p.Allowed(s), c, p.Allowed(c))
		}
	})
}
