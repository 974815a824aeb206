package policy

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrInvalidPath is matched (errors.Is) by every error CanonicalPath
// returns. Such a request cannot be judged: it MUST be refused (400 Bad
// Request) and MUST NOT be forwarded in any spelling.
var ErrInvalidPath = errors.New("policy: invalid request path")

// pathError is a specific reason a path was refused. The reasons are
// fixed values (compared by identity in tests) so that refusing a hostile
// path costs no allocation.
type pathError struct{ reason string }

func (e *pathError) Error() string { return ErrInvalidPath.Error() + ": " + e.reason }
func (e *pathError) Unwrap() error { return ErrInvalidPath }

// The reasons CanonicalPath refuses a path. See the table in doc.go.
var (
	errNotAbsolute     = &pathError{`it does not begin with "/"`}
	errMalformedEscape = &pathError{"malformed percent-encoding"}
	errEncodedSlash    = &pathError{"encoded slash (%2F)"}
	errBackslash       = &pathError{`backslash ("\" or %5C)`}
	errEncodedPercent  = &pathError{"encoded percent sign (%25): double encoding"}
	errSemicolon       = &pathError{`semicolon (";" or %3B): path parameters`}
	errControl         = &pathError{"control character"}
	errInvalidUTF8     = &pathError{"decoded path is not valid UTF-8"}
)

// CanonicalPath turns a request's escaped path (net/http's
// r.URL.EscapedPath(), or the path of a forward-auth X-Original-URI) into
// the decoded canonical path that policy rules are matched against and
// that the proxy forwards upstream. It decodes percent-escapes exactly
// once, refuses spellings that upstreams disagree about, and removes
// empty, "." and ".." segments. The rules are tabled in the package doc.
//
// Every error matches ErrInvalidPath. An already-canonical path without
// escapes is returned as is, without allocating.
func CanonicalPath(escaped string) (string, error) {
	if escaped == "" || escaped[0] != '/' {
		return "", errNotAbsolute
	}
	if strings.IndexByte(escaped, '%') < 0 && isCanonicalPath(escaped) {
		return escaped, nil
	}
	// The result is never longer than the input (decoding and removing
	// segments only shrink it; a kept trailing slash stands for a "/",
	// "/." or "/.." of the input), so one buffer of len(escaped) is
	// enough, and short paths are worked on the stack.
	var stack [256]byte
	buf := stack[:0]
	if len(escaped) > len(stack) {
		buf = make([]byte, 0, len(escaped))
	}
	buf, err := decodePath(buf, escaped)
	if err != nil {
		return "", err
	}
	return string(removeDotSegments(buf)), nil
}

// decodePath appends the percent-decoding of s to dst, refusing the bytes
// that StrictHttpFirewall refuses whether they arrive literally or
// encoded, and an encoded "/" or "%".
func decodePath(dst []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) {
				return nil, errMalformedEscape
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return nil, errMalformedEscape
			}
			c = hi<<4 | lo
			i += 2
			switch c {
			case '/':
				// A segment with a slash inside: some upstreams decode it
				// and route on it, some do not.
				return nil, errEncodedSlash
			case '%':
				// "%252e" is "%2e" after our decoding and "." after a
				// second one downstream: decoding exactly once is only
				// safe if nothing is left to decode.
				return nil, errEncodedPercent
			}
		}
		switch {
		case c == '\\':
			// A path separator on Windows and to some normalisers.
			return nil, errBackslash
		case c == ';':
			// Path parameters: Tomcat and Jetty strip ";jsessionid=x",
			// most others keep it as part of the segment.
			return nil, errSemicolon
		case isControlByte(c):
			return nil, errControl
		}
		dst = append(dst, c)
	}
	if !utf8.Valid(dst) {
		// Overlong forms such as %C0%AE ("." to a lenient decoder).
		return nil, errInvalidUTF8
	}
	if hasC1Control(dst) {
		return nil, errControl
	}
	return dst, nil
}

// removeDotSegments rewrites the decoded path b (beginning with "/") in
// place: empty and "." segments are dropped, ".." drops the segment before
// it (never climbing above the root), and a trailing slash is kept when
// the last segment was empty, "." or "..". Writes never overtake reads,
// so working in place is safe.
func removeDotSegments(b []byte) []byte {
	w := 0 // b[:w] is the output so far: "/seg/seg", or empty for the root
	trailing := false
	for r := 1; r <= len(b); {
		e := len(b)
		if i := bytes.IndexByte(b[r:], '/'); i >= 0 {
			e = r + i
		}
		seg := b[r:e]
		switch {
		case len(seg) == 0 || len(seg) == 1 && seg[0] == '.':
			trailing = true
		case len(seg) == 2 && seg[0] == '.' && seg[1] == '.':
			trailing = true
			if w > 0 {
				w = bytes.LastIndexByte(b[:w], '/')
			}
		default:
			trailing = false
			b[w] = '/'
			w += 1 + copy(b[w+1:], seg)
		}
		r = e + 1
	}
	if w == 0 {
		return append(b[:0], '/')
	}
	if trailing {
		b[w] = '/'
		w++
	}
	return b[:w]
}

// isCanonicalPath reports whether s is a possible result of CanonicalPath:
// absolute, free of the refused bytes, valid UTF-8, and without empty
// (except a final one), "." or ".." segments. CanonicalPath(s) == s for
// exactly these s (the fuzzer checks one direction, the tests the other).
func isCanonicalPath(s string) bool {
	if s == "" || s[0] != '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%', c == '\\', c == ';', isControlByte(c):
			return false
		}
	}
	if !utf8.ValidString(s) || hasC1Control(s) {
		return false
	}
	for r := 1; r <= len(s); {
		e := len(s)
		if i := strings.IndexByte(s[r:], '/'); i >= 0 {
			e = r + i
		}
		switch seg := s[r:e]; {
		case seg == "." || seg == "..":
			return false
		case seg == "" && e != len(s): // "//"
			return false
		}
		r = e + 1
	}
	return true
}

// isControlByte reports whether c is an ASCII control character (C0 or
// DEL). NUL truncates strings in C upstreams; CR and LF split log lines
// and headers.
func isControlByte(c byte) bool { return c < 0x20 || c == 0x7f }

// hasC1Control reports whether the valid UTF-8 text s contains a C1
// control character (U+0080 to U+009F, encoded as 0xC2 0x80-0x9F). NEL
// (U+0085) is a line break to some parsers, so C1 is refused like C0.
func hasC1Control[T string | []byte](s T) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == 0xc2 && s[i+1] >= 0x80 && s[i+1] <= 0x9f {
			return true
		}
	}
	return false
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// CanonicalHost returns the form of a Host header (or :authority, or
// X-Forwarded-Host) that host rules are matched against: the port removed
// ("[::1]:8080" gives "::1", "example.com:443" gives "example.com"), one
// trailing dot removed (the absolute form of a DNS name names the same
// host), and ASCII letters lower-cased. Internationalised names are
// expected in their ASCII (punycode) form, as they appear on the wire.
//
// CanonicalHost does not validate: a malformed host comes back in a form
// that matches no host rule, or that Decide refuses as not canonical. It
// does not allocate when hostport is already canonical.
func CanonicalHost(hostport string) string {
	h := hostport
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			h = h[1:i] // IPv6 literal, with or without a port
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 && strings.IndexByte(h[i+1:], ':') < 0 {
		h = h[:i] // host:port; two or more colons is a bare IPv6 address
	}
	h = strings.TrimSuffix(h, ".")
	return lowerASCII(h)
}

// lowerASCII lower-cases ASCII letters only, allocating only when there
// is one to change. (strings.ToLower would also fold non-ASCII runes and
// rewrite invalid UTF-8, which host names on the wire never need.)
func lowerASCII(s string) string {
	i := 0
	for i < len(s) && !('A' <= s[i] && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if 'A' <= b[i] && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}
