package policy

import (
	"strings"
)

// The matchers below are built once by Compile and only read by Decide.
// They take the request's canonical host and path, and do not allocate.

// hostMatcher matches a canonical host: any host, one exact host, or every
// subdomain of a domain.
type hostMatcher struct {
	exact  string // canonical host; "" with suffix "" matches any host
	suffix string // ".example.com" for "*.example.com"
}

func (m *hostMatcher) match(host string) bool {
	switch {
	case m.suffix != "":
		// At least one character before the dot: "*.example.com" matches
		// "a.example.com" and "a.b.example.com", never "example.com", and
		// never "evilexample.com" (which lacks the dot).
		return len(host) > len(m.suffix) && strings.HasSuffix(host, m.suffix)
	case m.exact != "":
		return host == m.exact
	}
	return true
}

// pathKind says how a pathMatcher compares.
type pathKind uint8

const (
	pathAny pathKind = iota
	pathExact
	pathPrefix
	pathGlob
)

// pathMatcher matches a canonical path. All comparisons ignore one
// trailing slash on both sides ("/admin" and "/admin/" are the same
// route): most upstreams serve both, or redirect one to the other, and a
// rule that a trailing slash could step around would be a bypass.
type pathMatcher struct {
	kind pathKind
	// exact: the path without its trailing slash ("" for the root).
	// prefix: the prefix without its trailing slash ("" for the root).
	s string
	// prefixSlash is s+"/", kept so that matching does not concatenate.
	prefixSlash string
	// segs is the glob, one element per segment.
	segs []segment
}

// segment is one "/"-separated element of a glob.
type segment struct {
	any bool   // "**": zero or more whole segments
	pat string // literal text, with "*" matching within the segment
	// star records that pat contains "*"; without it, pat is compared
	// as a plain string.
	star bool
}

func (m *pathMatcher) match(path string) bool {
	t := strings.TrimSuffix(path, "/") // the root becomes ""
	switch m.kind {
	case pathExact:
		return t == m.s
	case pathPrefix:
		// Segment boundary: "/api" matches "/api" and "/api/x", not "/apix".
		return t == m.s || strings.HasPrefix(t, m.prefixSlash)
	case pathGlob:
		return matchSegments(m.segs, t)
	}
	return true
}

// matchSegments reports whether the trimmed canonical path p ("/a/b", or
// "" for the root) matches the glob segs. It is the classic linear
// wildcard algorithm (https://research.swtch.com/glob) run over segments
// instead of bytes: "**" plays the part of "*", and every other segment
// consumes exactly one path segment. Backtracking only ever returns to the
// most recent "**", so the cost is O(len(segs) * segments(p)) whatever the
// input, which matters because p is chosen by the client.
func matchSegments(segs []segment, p string) bool {
	px, nx := 0, 0 // pattern index; offset in p of the next segment's "/"
	starPx, starNx := 0, -1
	for px < len(segs) || nx < len(p) {
		if px < len(segs) {
			sg := &segs[px]
			if sg.any {
				// Try "**" matching nothing first; on failure, restart
				// here with one more segment consumed.
				starPx = px
				starNx = len(p) + 1 // nothing left to consume
				if nx < len(p) {
					_, starNx = segmentAt(p, nx)
				}
				px++
				continue
			}
			if nx < len(p) {
				seg, end := segmentAt(p, nx)
				if sg.match(seg) {
					px++
					nx = end
					continue
				}
			}
		}
		if starNx >= 0 && starNx <= len(p) {
			px, nx = starPx, starNx
			continue
		}
		return false
	}
	return true
}

// segmentAt returns the segment of p that begins after the "/" at offset
// nx, and the offset of the "/" that ends it (or len(p)).
func segmentAt(p string, nx int) (seg string, end int) {
	rest := p[nx+1:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i], nx + 1 + i
	}
	return rest, len(p)
}

func (sg *segment) match(s string) bool {
	if !sg.star {
		return s == sg.pat
	}
	return matchStar(sg.pat, s)
}

// matchStar reports whether s matches pat, where "*" in pat matches any
// run of bytes (s is a segment, so never a "/") and every other byte
// matches itself. Same linear algorithm as matchSegments.
func matchStar(pat, s string) bool {
	px, nx := 0, 0
	starPx, starNx := 0, -1
	for px < len(pat) || nx < len(s) {
		if px < len(pat) {
			c := pat[px]
			if c == '*' {
				starPx, starNx = px, nx+1
				px++
				continue
			}
			if nx < len(s) && s[nx] == c {
				px++
				nx++
				continue
			}
		}
		if starNx >= 0 && starNx <= len(s) {
			px, nx = starPx, starNx
			continue
		}
		return false
	}
	return true
}

// methodMatcher holds upper-case method names; empty matches any method.
type methodMatcher []string

// match compares without regard to case. Methods are case-sensitive in
// HTTP (RFC 9110 section 9.1), but some upstreams are not, and a "post"
// request that slipped past a POST rule would be a bypass.
func (m methodMatcher) match(method string) bool {
	if len(m) == 0 {
		return true
	}
	for _, want := range m {
		if strings.EqualFold(want, method) {
			return true
		}
	}
	return false
}
