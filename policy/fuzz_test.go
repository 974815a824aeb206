package policy

import (
	"errors"
	"net/url"
	"path"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCanonicalPath checks the invariants the proxy relies on: a result
// is in canonical form, and re-escaping it for the upstream (as the
// proxy does with url.URL) and canonicalising again gives the same path,
// so the upstream is judged by what it will read. Seeds are also in
// testdata/fuzz/FuzzCanonicalPath.
func FuzzCanonicalPath(f *testing.F) {
	for _, s := range []string{
		"/", "/admin", "//admin", "/./admin", "/x/../admin", "/%61dmin",
		"/x/%2e%2e/admin", "/admin/.", "/a/b/..", "/a%2Fb", "/a%252e", "/a;b",
		"/%C0%AE", "/a%00", "/a%C2%85", `/a\b`, "/%zz", "*", "/a b/%C3%BC/?#",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := CanonicalPath(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidPath) {
				t.Fatalf("CanonicalPath(%q) error %v does not match ErrInvalidPath", in, err)
			}
			if out != "" {
				t.Fatalf("CanonicalPath(%q) returned %q with its error", in, out)
			}
			return
		}
		switch {
		case !strings.HasPrefix(out, "/"):
			t.Fatalf("CanonicalPath(%q) = %q: does not begin with /", in, out)
		case strings.Contains(out, "//"):
			t.Fatalf("CanonicalPath(%q) = %q: empty segment", in, out)
		case strings.Contains(out+"/", "/./") || strings.Contains(out+"/", "/../"):
			t.Fatalf("CanonicalPath(%q) = %q: dot segment", in, out)
		case strings.ContainsAny(out, "\\;%"):
			t.Fatalf("CanonicalPath(%q) = %q: refused byte", in, out)
		case strings.ContainsFunc(out, func(r rune) bool { return r < 0x20 || 0x7f <= r && r <= 0x9f }):
			t.Fatalf("CanonicalPath(%q) = %q: control character", in, out)
		case !utf8.ValidString(out):
			t.Fatalf("CanonicalPath(%q) = %q: invalid UTF-8", in, out)
		case len(out) > len(in):
			t.Fatalf("CanonicalPath(%q) = %q: longer than its input", in, out)
		case !isCanonicalPath(out):
			t.Fatalf("CanonicalPath(%q) = %q, which isCanonicalPath rejects", in, out)
		}

		// Idempotent, directly and through the proxy's re-encoding.
		if again, err := CanonicalPath(out); again != out || err != nil {
			t.Fatalf("CanonicalPath(%q) = %q, %v; want it unchanged", out, again, err)
		}
		escaped := (&url.URL{Path: out}).EscapedPath()
		if again, err := CanonicalPath(escaped); again != out || err != nil {
			t.Fatalf("CanonicalPath(%q) = %q; re-escaped as %q it gives %q, %v", in, out, escaped, again, err)
		}

		// Differential: the same as the standard library's decoding and
		// path.Clean, plus our trailing-slash rule.
		decoded, err := url.PathUnescape(in)
		if err != nil {
			t.Fatalf("CanonicalPath(%q) = %q, but url.PathUnescape fails: %v", in, out, err)
		}
		want := path.Clean(decoded)
		last := decoded[strings.LastIndexByte(decoded, '/')+1:]
		if want != "/" && (last == "" || last == "." || last == "..") {
			want += "/"
		}
		if out != want {
			t.Fatalf("CanonicalPath(%q) = %q, want %q (path.Clean of the decoded path)", in, out, want)
		}
	})
}
