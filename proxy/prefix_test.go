package proxy

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/policy"
)

func TestStripPrefix(t *testing.T) {
	tests := []struct{ path, prefix, want string }{
		{"/legacy", "/legacy", "/"},
		{"/legacy/", "/legacy", "/"},
		{"/legacy/a/b", "/legacy", "/a/b"},
		{"/legacy/a/", "/legacy", "/a/"},
		{"/legacyx", "/legacy", "/legacyx"},
		{"/a/b/c", "/a/b", "/c"},
		{"/other", "/legacy", "/other"},
	}
	for _, tt := range tests {
		if got := stripPrefix(tt.path, tt.prefix); got != tt.want {
			t.Errorf("stripPrefix(%q, %q) = %q, want %q", tt.path, tt.prefix, got, tt.want)
		}
	}
}

func TestRewriteLocation(t *testing.T) {
	const up = "127.0.0.1:3001"
	tests := []struct{ name, in, want string }{
		{"absolute path", "/login", "/legacy/login"},
		{"root", "/", "/legacy/"},
		{"root with query", "/?a=1", "/legacy/?a=1"},
		{"query and fragment", "/a?b=1#c", "/legacy/a?b=1#c"},
		{"already prefixed", "/legacy/login", "/legacy/login"},
		{"the prefix itself", "/legacy", "/legacy"},
		{"prefix-like sibling", "/legacyx", "/legacy/legacyx"},
		{"relative reference", "next", "next"},
		{"dot relative", "../x", "../x"},
		{"scheme-relative is another host", "//evil.test/x", "//evil.test/x"},
		{"upstream's own URL", "http://127.0.0.1:3001/done?x=1", "/legacy/done?x=1"},
		{"upstream's own URL, no path", "http://127.0.0.1:3001", "/legacy/"},
		{"another host", "https://idp.example.test/auth", "https://idp.example.test/auth"},
		{"other port", "http://127.0.0.1:3002/x", "http://127.0.0.1:3002/x"},
		{"not http", "ftp://127.0.0.1:3001/x", "ftp://127.0.0.1:3001/x"},
		{"public host keeps its origin", "https://app.example.test/home", "https://app.example.test/legacy/home"},
		{"public host, already prefixed", "https://App.Example.Test/legacy/x", "https://App.Example.Test/legacy/x"},
		{"public host with another port is another origin", "https://app.example.test:8443/home", "https://app.example.test:8443/home"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rewriteLocation(tt.in, "/legacy", up, "app.example.test"); got != tt.want {
				t.Errorf("rewriteLocation(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRewriteCookiePath(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"root path", "a=1; Path=/; HttpOnly", "a=1; Path=/legacy; HttpOnly"},
		{"sub path, lower-case attribute", "a=1; path=/x", "a=1; Path=/legacy/x"},
		{"no path", "a=1; HttpOnly", "a=1; HttpOnly"},
		{"already prefixed", "a=1; Path=/legacy/x", "a=1; Path=/legacy/x"},
		{"__Host- keeps Path=/", "__Host-a=1; Path=/; Secure", "__Host-a=1; Path=/; Secure"},
		{"value mentions path", "a=Path=/; Secure", "a=Path=/; Secure"},
		{"relative path attribute is ignored by browsers", "a=1; Path=x", "a=1; Path=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rewriteCookiePath(tt.in, "/legacy"); got != tt.want {
				t.Errorf("rewriteCookiePath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzRewritePrefixed checks that rewriting what an upstream sends never
// panics, and that a rewritten absolute-path Location stays on the
// gateway's origin and under the prefix.
func FuzzRewritePrefixed(f *testing.F) {
	for _, s := range []string{"/", "/x?y#z", "http://up:1/a", "//evil", "a=1; Path=/", "__Host-a=1; Path=/", "%zz", ";;Path=;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := rewriteLocation(s, "/p", "up:1", "pub")
		if strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") && !strings.HasPrefix(got, "/p") {
			t.Errorf("rewriteLocation(%q) = %q, not under the prefix", s, got)
		}
		if strings.HasPrefix(got, "//") && !strings.HasPrefix(s, "//") {
			t.Errorf("rewriteLocation(%q) = %q became scheme-relative", s, got)
		}
		_ = rewriteCookiePath(s, "/p")
	})
}

// FuzzStripPrefix checks that the upstream of a prefixed route receives a
// canonical path, the request's canonical path less the prefix, whatever
// the client sent.
func FuzzStripPrefix(f *testing.F) {
	for _, s := range []string{"/legacy", "/legacy/", "/legacy/a/../b", "/legacy//x/./y", "/%6cegacy/x", "/legacyx", "/legacy/.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := policy.CanonicalPath(raw)
		if err != nil || !underPrefix(strings.TrimSuffix(p, "/"), "/legacy") && p != "/legacy/" {
			return
		}
		out := stripPrefix(p, "/legacy")
		if again, err := policy.CanonicalPath(out); err != nil || again != out {
			t.Fatalf("stripPrefix(%q) = %q, which is not canonical (%q, %v)", p, out, again, err)
		}
		if joined := strings.TrimSuffix("/legacy"+out, "/"); joined != strings.TrimSuffix(p, "/") {
			t.Fatalf("stripPrefix(%q) = %q: prefix and rest do not make the path again", p, out)
		}
	})
}
