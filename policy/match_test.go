package policy

import (
	"strings"
	"testing"
)

// FuzzPathMatch checks the linear glob matcher against an obviously
// correct (and exponential) recursive one.
func FuzzPathMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"/api/**", "/api/x/y"}, {"/a/*/c", "/a/b/c"}, {"/a/**/z", "/a/b/z/c/z"},
		{"/**/*.css", "/x/y/site.css"}, {"/v*-*-x", "/v1-2-3-x"}, {"/**/a/**/b", "/a/a/b/b"},
		{"/a*b*", "/abab/"}, {"/x", "/x/"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		if len(pattern) > 40 || len(path) > 40 {
			return // keep the reference matcher fast
		}
		m, err := compilePath("path", pattern)
		if err != nil {
			return
		}
		p, err := CanonicalPath(path)
		if err != nil {
			return
		}
		want := refMatch(splitPath(strings.TrimSuffix(pattern, "/")), splitPath(strings.TrimSuffix(p, "/")))
		if got := m.match(p); got != want {
			t.Fatalf("pattern %q, path %q: match = %v, reference says %v", pattern, p, got, want)
		}
	})
}

func splitPath(t string) []string {
	if t == "" {
		return nil
	}
	return strings.Split(t[1:], "/")
}

func refMatch(pat, segs []string) bool {
	switch {
	case len(pat) == 0:
		return len(segs) == 0
	case pat[0] == "**":
		for i := 0; i <= len(segs); i++ {
			if refMatch(pat[1:], segs[i:]) {
				return true
			}
		}
		return false
	case len(segs) == 0:
		return false
	}
	return refStar(pat[0], segs[0]) && refMatch(pat[1:], segs[1:])
}

func refStar(p, s string) bool {
	switch {
	case p == "":
		return s == ""
	case p[0] == '*':
		for i := 0; i <= len(s); i++ {
			if refStar(p[1:], s[i:]) {
				return true
			}
		}
		return false
	}
	return s != "" && s[0] == p[0] && refStar(p[1:], s[1:])
}
