package policy

import (
	"errors"
	"strings"
	"testing"
)

// TestCanonicalPathEquivalent lists, for each canonical path, spellings
// that MUST read as it. Every one of them is a way to name the same
// resource to an upstream that normalises the path.
func TestCanonicalPathEquivalent(t *testing.T) {
	tests := []struct {
		want      string
		spellings []string
	}{
		{"/admin", []string{
			"/admin", "//admin", "///admin", "/./admin", "/././admin", "/.//./admin",
			"/x/../admin", "/x/y/../../admin", "/../admin", "/../../admin", "/x/./../admin",
			"/%61dmin", "/%61%64%6D%69%6E", "/%61%64%6d%69%6e",
			"/x/%2e%2e/admin", "/x/%2E%2E/admin", "/x/.%2e/admin", "/x/%2e./admin",
			"/%2e/admin", "/%2e%2e/admin", "//x//..//admin",
		}},
		{"/admin/", []string{
			"/admin/", "/admin//", "/admin/.", "/admin/./", "/admin/x/..", "/admin/x/../",
			"/admin/%2e", "/admin/x/%2e%2e", "//admin//", "/admin/./.", "/x/../admin/",
		}},
		{"/admin/users", []string{
			"/admin/users", "/admin//users", "/admin/./users", "/admin/x/../users",
			"/x/../admin/users", "/%61dmin/users", "/admin/%75sers",
		}},
		{"/", []string{
			"/", "//", "///", "/.", "/./", "/..", "/../", "/../..", "/a/..", "/a/../",
			"/a/b/../..", "/a/b/../../..", "/%2e", "/%2e%2e", "/%2e%2e/%2e%2e",
		}},
		{"/a b/ü", []string{"/a%20b/%C3%BC", "/a%20b/%c3%bc", "/a%20b/ü", "/a b/ü"}},
		// Decoded "?" and "#" are ordinary path characters; the proxy
		// re-escapes them on the way out.
		{"/a?b#c", []string{"/a%3Fb%23c", "/a%3fb%23c"}},
		// Only exactly "." and ".." are special.
		{"/.../..a/a..", []string{"/.../..a/a..", "/%2e%2e%2e/..a/a%2e%2e"}},
		{"/.well-known/x", []string{"/.well-known/x", "/%2ewell-known/x"}},
		{"/a/b/", []string{"/a/b/c/..", "/a/b/c/%2e%2e", "/a/b/c/../", "/a/b/c/d/../.."}},
		{"/~user/*", []string{"/~user/*", "/%7Euser/%2A"}},
		{"/\u2028", []string{"/%E2%80%A8"}}, // a non-control rune outside ASCII
	}
	for _, tt := range tests {
		for _, in := range tt.spellings {
			t.Run(in, func(t *testing.T) {
				got, err := CanonicalPath(in)
				if err != nil {
					t.Fatalf("CanonicalPath(%q) = %v, want %q", in, err, tt.want)
				}
				if got != tt.want {
					t.Errorf("CanonicalPath(%q) = %q, want %q", in, got, tt.want)
				}
			})
		}
		t.Run("idempotent "+tt.want, func(t *testing.T) {
			if got, err := CanonicalPath(tt.want); got != tt.want || err != nil {
				t.Errorf("CanonicalPath(%q) = %q, %v; a canonical path must be its own canonical form", tt.want, got, err)
			}
		})
	}
}

// TestCanonicalPathRefused lists spellings that MUST be refused, with the
// reason.
func TestCanonicalPathRefused(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", errNotAbsolute},
		{"asterisk form", "*", errNotAbsolute},
		{"relative", "admin", errNotAbsolute},
		{"encoded leading slash", "%2Fadmin", errNotAbsolute},

		{"bad hex", "/%zz", errMalformedEscape},
		{"one digit", "/%4", errMalformedEscape},
		{"one digit mid-path", "/%4/admin", errMalformedEscape},
		{"bare percent", "/%", errMalformedEscape},
		{"percent at end", "/admin%", errMalformedEscape},
		{"half hex", "/%g0", errMalformedEscape},
		{"plus is not hex", "/%+1", errMalformedEscape},

		{"encoded slash upper", "/a%2Fb", errEncodedSlash},
		{"encoded slash lower", "/a%2fb", errEncodedSlash},
		{"encoded double slash", "/%2F%2Fadmin", errEncodedSlash},
		{"encoded slash before dotdot", "/x%2F..%2Fadmin", errEncodedSlash},

		{"backslash", `/a\b`, errBackslash},
		{"backslash dotdot", `/x\..\admin`, errBackslash},
		{"encoded backslash", "/a%5Cb", errBackslash},
		{"encoded backslash lower", "/a%5cb", errBackslash},

		{"encoded percent", "/a%25b", errEncodedPercent},
		{"double-encoded dotdot", "/x/%252e%252e/admin", errEncodedPercent},
		{"double-encoded slash", "/a%252Fb", errEncodedPercent},

		{"semicolon", "/a;b", errSemicolon},
		{"path parameter", "/admin;jsessionid=x", errSemicolon},
		{"semicolon dotdot", "/x/..;/admin", errSemicolon},
		{"encoded semicolon", "/a%3Bb", errSemicolon},
		{"encoded semicolon lower", "/a%3bb", errSemicolon},

		{"NUL", "/a\x00b", errControl},
		{"encoded NUL", "/admin%00.html", errControl},
		{"CR LF", "/a\r\nb", errControl},
		{"encoded CR LF", "/a%0D%0Ab", errControl},
		{"tab", "/a\tb", errControl},
		{"encoded tab", "/a%09", errControl},
		{"DEL", "/a\x7f", errControl},
		{"encoded DEL", "/a%7F", errControl},
		{"encoded unit separator", "/a%1f", errControl},
		{"encoded NEL (C1)", "/a%C2%85", errControl},
		{"literal C1", "/a\u0085", errControl},

		{"overlong dot", "/%C0%AE", errInvalidUTF8},
		{"overlong dotdot", "/x/%C0%AE%C0%AE/admin", errInvalidUTF8},
		{"overlong slash", "/x%C0%AFadmin", errInvalidUTF8},
		{"3-byte overlong dot", "/%E0%80%AE", errInvalidUTF8},
		{"lone continuation", "/%80", errInvalidUTF8},
		{"0xFF", "/%ff", errInvalidUTF8},
		{"truncated sequence", "/%E2%82", errInvalidUTF8},
		{"surrogate", "/%ED%A0%80", errInvalidUTF8},
		{"literal invalid byte", "/a\xffb", errInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalPath(tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("CanonicalPath(%q) = %q, %v; want error %v", tt.in, got, err, tt.want)
			}
			if !errors.Is(err, ErrInvalidPath) {
				t.Errorf("CanonicalPath(%q) error %v does not match ErrInvalidPath", tt.in, err)
			}
			if got != "" {
				t.Errorf("CanonicalPath(%q) returned %q with its error", tt.in, got)
			}
		})
	}
}

func TestCanonicalPathAllocs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want float64
	}{
		{"canonical", "/api/v1/users/42", 0},
		{"refused", "/a%2Fb", 0},
		{"escaped", "/api/v1/%75sers/42", 1},
		{"dot segments", "/api/x/../v1/./users", 1},
		{"long", "/" + strings.Repeat("a/", 200) + "..", 2}, // beyond the stack buffer
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := testing.AllocsPerRun(100, func() { _, _ = CanonicalPath(tt.in) })
			if got != tt.want {
				t.Errorf("CanonicalPath(%q) allocates %v times, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestCanonicalHost(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"example.com", "example.com"},
		{"Example.COM", "example.com"},
		{"example.com:8443", "example.com"},
		{"EXAMPLE.com:80", "example.com"},
		{"example.com.", "example.com"},
		{"example.com.:443", "example.com"},
		{"example.com:", "example.com"},
		{"10.0.0.1:8080", "10.0.0.1"},
		{"[::1]:8080", "::1"},
		{"[::1]", "::1"},
		{"[2001:DB8::1]:443", "2001:db8::1"},
		{"::1", "::1"},
		{"2001:db8::1", "2001:db8::1"},
		{"", ""},
		{"[::1", "[::1"}, // malformed: kept, matches no host rule
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := CanonicalHost(tt.in); got != tt.want {
				t.Errorf("CanonicalHost(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := CanonicalHost(tt.want); got != tt.want {
				t.Errorf("CanonicalHost(%q) = %q; a canonical host must be its own canonical form", tt.want, got)
			}
		})
	}
	if n := testing.AllocsPerRun(100, func() { _ = CanonicalHost("app.example.com") }); n != 0 {
		t.Errorf("CanonicalHost of a canonical host allocates %v times, want 0", n)
	}
}
