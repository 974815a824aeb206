package policy

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxReturnToLength is the longest return URL accepted, in bytes. No
// sign-in needs a longer one, and proxies and browsers cap Location
// headers at different lengths.
const MaxReturnToLength = 2048

// maxDecodes bounds how many times a return URL is percent-decoded while
// looking for a "//", a backslash, a dot segment or a control character
// hidden under encoding ("%252F%252F" is "//" after two decodings, to an
// application that decodes twice). A return URL that still decodes
// further after that many rounds is refused: no genuine one is encoded
// four times over.
const maxDecodes = 3

// ErrInvalidOrigin is matched (errors.Is) by every error NewReturnPolicy
// returns for an allowed origin it cannot use.
var ErrInvalidOrigin = errors.New("policy: invalid redirect origin")

// originError is a specific reason an allowed origin was refused.
type originError struct{ origin, reason string }

func (e *originError) Error() string {
	return ErrInvalidOrigin.Error() + " " + strconv.Quote(e.origin) + ": " + e.reason +
		"; use a scheme and host only, such as https://app.example.com"
}

func (e *originError) Unwrap() error { return ErrInvalidOrigin }

// ReturnPolicy decides which return URLs (the rd parameter of the login
// and logout endpoints) the gateway may redirect a browser to. Build it
// once with NewReturnPolicy; it is immutable and safe for concurrent use.
// A nil or zero ReturnPolicy accepts relative paths only.
//
// A return URL is acceptable when it is one of
//
//	a path on this host     "/", "/app/x?y=1&z=%2F#frag", "/a%20b"
//	an allowed origin       "https://app.example.com", or one of its paths
//
// and is refused (Validate gives "/") when it is, among others:
//
//	empty, or longer than MaxReturnToLength bytes
//	scheme-relative         "//evil.com", "///evil.com", "/\evil.com"
//	not a path              "evil.com", "../x", "?x", " /x"
//	another scheme          "javascript:", "data:", "vbscript:", "ftp://"
//	sloppy http(s)          "https:evil.com", "http:/evil.com", "https:///evil.com"
//	userinfo                "https://app.example.com@evil.com"
//	another origin          "https://app.example.com.evil.net", "https://app.example.com:8443",
//	                        "http://app.example.com" (when only https is allowed)
//	a host not in ASCII     "https://аpp.example.com" (Cyrillic а); punycode
//	                        look-alikes (xn--...) are simply other origins
//	a backslash             anywhere in the authority or path, literal or
//	                        encoded; browsers read "\" as "/"
//	a control character     C0, DEL or C1, literal or encoded, anywhere:
//	                        browsers silently drop tab, CR and LF from URLs,
//	                        so "/\t/evil.com" is "//evil.com" to them, and
//	                        CR LF in a Location header splits the response
//	a dot segment           "/../", "/./", "%2e%2e": "/..//evil.com" is
//	                        "//evil.com" after RFC 3986 dot removal
//	an encoded "//" start   "/%2F%2Fevil.com", "/%252F%252Fevil.com"
//	invalid UTF-8           raw bytes that are not UTF-8 (escapes are fine)
//
// Hidden forms are found by percent-decoding the path, query and fragment
// up to three times and checking every decoding (one that decodes
// further still is refused); what is returned is always the original,
// never a decoded form. A backslash in the query or fragment is data,
// not a separator, and is accepted.
type ReturnPolicy struct {
	origins []origin
}

// origin is an allowed scheme, host and port in canonical form.
type origin struct {
	scheme string // "http" or "https"
	host   string // lower-case ASCII; an IPv6 literal keeps its brackets
	port   int    // always explicit: the scheme's default filled in
}

// NewReturnPolicy compiles the origins (scheme, host and optional port,
// such as "https://app.example.com:8443") that absolute return URLs may
// point to. Origins are compared canonically: scheme and host without
// regard to ASCII case, the default port the same as none
// ("https://App.Example.com:443" is "https://app.example.com"). A single
// trailing "/" is allowed, as origins are often copied from an address
// bar. An origin that is not http or https, or has userinfo, a path, a
// query, a fragment, a host outside ASCII (write IDNs in punycode) or a
// bad port is an error matching ErrInvalidOrigin; all of them are
// reported, joined.
func NewReturnPolicy(allowedOrigins []string) (*ReturnPolicy, error) {
	p, errs := compileReturnPolicy(allowedOrigins)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// compileReturnPolicy keeps the usable origins and reports the others.
func compileReturnPolicy(allowedOrigins []string) (*ReturnPolicy, []error) {
	p := &ReturnPolicy{}
	var errs []error
	for _, s := range allowedOrigins {
		o, err := parseOrigin(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.origins = append(p.origins, o)
	}
	return p, errs
}

// ReturnTo validates a return URL. It returns the URL to redirect to, or
// "/" when rd is empty or not acceptable. Acceptable: a relative path on
// this host ("/app/x?y=1#z"), or an absolute http(s) URL whose origin is
// in allowedOrigins; ReturnPolicy lists what is refused. Allowed origins
// that are not valid (see NewReturnPolicy) are ignored, so they allow
// nothing.
//
// ReturnTo compiles allowedOrigins on every call; on the request path,
// compile them once with NewReturnPolicy and call Validate.
func ReturnTo(rd string, allowedOrigins []string) string {
	p, _ := compileReturnPolicy(allowedOrigins)
	to, _ := p.Validate(rd)
	return to
}

// Validate returns rd and true when rd is an acceptable return URL, and
// "/" and false when it is not (an empty rd included). The URL returned
// MUST be used as is: it is the original spelling, which is what was
// judged. Validate allocates nothing for return URLs up to 256 bytes.
func (p *ReturnPolicy) Validate(rd string) (string, bool) {
	if p.accepts(rd) {
		return rd, true
	}
	return "/", false
}

func (p *ReturnPolicy) accepts(rd string) bool {
	if rd == "" || len(rd) > MaxReturnToLength || !utf8.ValidString(rd) {
		return false
	}
	ref := rd
	if rd[0] != '/' {
		// Only an absolute http(s) URL remains acceptable. Requiring the
		// literal "//" refuses "https:evil.com" and "http:/evil.com",
		// which browsers resolve to evil.com.
		scheme, authority, rest, ok := splitAbsolute(rd)
		if !ok || !p.allows(scheme, authority) {
			return false
		}
		ref = rest
	}
	path, tail := splitReference(ref)
	return layersAcceptable(path, true) && layersAcceptable(tail, false)
}

// allows reports whether authority, of an http or https URL, names an
// allowed origin. Userinfo is refused even in front of an allowed host:
// "https://app.example.com@evil.com" goes to evil.com.
func (p *ReturnPolicy) allows(scheme, authority string) bool {
	if p == nil {
		return false
	}
	o, ok := parseAuthority(scheme, authority)
	if !ok {
		return false
	}
	for _, a := range p.origins {
		if a.scheme == o.scheme && a.port == o.port && equalFoldASCII(a.host, o.host) {
			return true
		}
	}
	return false
}

// parseOrigin parses an allowed origin, explaining what is wrong with it.
func parseOrigin(s string) (origin, error) {
	scheme, authority, rest, ok := splitAbsolute(s)
	if !ok {
		return origin{}, &originError{s, `it does not begin with "http://" or "https://"`}
	}
	path, tail := splitReference(rest)
	switch {
	case strings.IndexByte(authority, '@') >= 0:
		return origin{}, &originError{s, "it has userinfo"}
	case path != "" && path != "/":
		return origin{}, &originError{s, "it has a path"}
	case tail != "" && tail[0] == '?':
		return origin{}, &originError{s, "it has a query"}
	case tail != "":
		return origin{}, &originError{s, "it has a fragment"}
	}
	o, ok := parseAuthority(scheme, authority)
	if !ok {
		return origin{}, &originError{s, "its host or port is not valid (write an internationalised name in punycode, xn--)"}
	}
	o.host = lowerASCII(o.host)
	return o, nil
}

// splitAbsolute splits an absolute http or https URL into its scheme
// (lower-case), its authority and the rest, which is empty or begins
// with "/", "?", "#" or "\" (a separator to browsers, refused later).
func splitAbsolute(s string) (scheme, authority, rest string, ok bool) {
	switch {
	case hasPrefixFoldASCII(s, "https://"):
		scheme, s = "https", s[len("https://"):]
	case hasPrefixFoldASCII(s, "http://"):
		scheme, s = "http", s[len("http://"):]
	default:
		return "", "", "", false
	}
	i := 0
	for i < len(s) && s[i] != '/' && s[i] != '?' && s[i] != '#' && s[i] != '\\' {
		i++
	}
	return scheme, s[:i], s[i:], true
}

// splitReference splits a reference at the first "?" or "#", which ends the
// path to every URL parser.
func splitReference(ref string) (path, tail string) {
	for i := 0; i < len(ref); i++ {
		if ref[i] == '?' || ref[i] == '#' {
			return ref[:i], ref[i:]
		}
	}
	return ref, ""
}

// parseAuthority parses host[:port] strictly: the host is a DNS name of
// ASCII letters, digits, "-", "_" and ".", or a bracketed IPv6 literal
// without a zone. Anything a browser would decode, map or reinterpret
// ("%2e", Unicode, "@", "\") makes it fail, so a host is judged in the
// spelling the browser will use. The empty port means the default.
func parseAuthority(scheme, a string) (origin, bool) {
	host, port, hasPort := a, "", false
	if a != "" && a[0] == '[' {
		end := 0
		for end < len(a) && a[end] != ']' {
			end++
		}
		if end == len(a) || end == 1 {
			return origin{}, false
		}
		host = a[:end+1]
		for i := 1; i < end; i++ {
			if c := a[i]; c != ':' && c != '.' && !isHexDigit(c) {
				return origin{}, false
			}
		}
		if rest := a[end+1:]; rest != "" {
			if rest[0] != ':' {
				return origin{}, false
			}
			port, hasPort = rest[1:], true
		}
	} else {
		for i := 0; i < len(a); i++ {
			if a[i] == ':' {
				host, port, hasPort = a[:i], a[i+1:], true
				break
			}
		}
		if host == "" {
			return origin{}, false
		}
		for i := 0; i < len(host); i++ {
			if c := host[i]; !isHostByte(c) {
				return origin{}, false
			}
		}
	}
	o := origin{scheme: scheme, host: host, port: 443}
	if scheme == "http" {
		o.port = 80
	}
	if hasPort && port != "" {
		n := 0
		for i := 0; i < len(port); i++ {
			c := port[i]
			if c < '0' || c > '9' {
				return origin{}, false
			}
			if n = n*10 + int(c-'0'); n > 65535 {
				return origin{}, false
			}
		}
		o.port = n
	}
	return o, true
}

// layersAcceptable checks s (the path when isPath, else the query and
// fragment) and each of its percent-decodings, up to maxDecodes of them.
func layersAcceptable(s string, isPath bool) bool {
	if !layerAcceptable(s, isPath) {
		return false
	}
	if !hasEscape(s) {
		return true
	}
	var stack [256]byte
	b := append(stack[:0], s...)
	for range maxDecodes {
		b = unescapeInPlace(b)
		if !layerAcceptable(b, isPath) {
			return false
		}
		if !hasEscape(b) {
			return true
		}
	}
	return false
}

// layerAcceptable checks one spelling: no control characters anywhere,
// and for a path also no backslash, no leading "//" and no "." or ".."
// segment. In a decoded path "?" and "#" also end a segment, as they
// would for an application that re-parses it.
func layerAcceptable[T string | []byte](s T, isPath bool) bool {
	for i := 0; i < len(s); i++ {
		if isControlByte(s[i]) || isPath && s[i] == '\\' {
			return false
		}
	}
	if hasC1Control(s) {
		return false
	}
	if !isPath || len(s) == 0 {
		return true
	}
	if s[0] != '/' || len(s) > 1 && s[1] == '/' {
		return false
	}
	for start := 1; start <= len(s); {
		end := start
		for end < len(s) && s[end] != '/' && s[end] != '?' && s[end] != '#' {
			end++
		}
		if n := end - start; n == 1 && s[start] == '.' || n == 2 && s[start] == '.' && s[start+1] == '.' {
			return false
		}
		start = end + 1
	}
	return true
}

// hasEscape reports whether s contains a well-formed percent-escape.
func hasEscape[T string | []byte](s T) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '%' && isHexDigit(s[i+1]) && isHexDigit(s[i+2]) {
			return true
		}
	}
	return false
}

// unescapeInPlace decodes the well-formed percent-escapes of b and keeps
// malformed ones literally, as browsers do (WHATWG URL "percent-decode").
// The result is never longer than b, so the decoding is done in place.
func unescapeInPlace(b []byte) []byte {
	w := 0
	for r := 0; r < len(b); w++ {
		if b[r] == '%' && r+2 < len(b) && isHexDigit(b[r+1]) && isHexDigit(b[r+2]) {
			hi, _ := unhex(b[r+1])
			lo, _ := unhex(b[r+2])
			b[w] = hi<<4 | lo
			r += 3
			continue
		}
		b[w] = b[r]
		r++
	}
	return b[:w]
}

func isHexDigit(c byte) bool {
	_, ok := unhex(c)
	return ok
}

// isHostByte reports whether c may appear in a DNS name as written in a
// URL: LDH, "." and "_" (which browsers accept in host names).
func isHostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_'
}

// hasPrefixFoldASCII is strings.HasPrefix without regard to ASCII case.
// (strings.EqualFold would also fold "ſ" to "s".)
func hasPrefixFoldASCII(s, prefix string) bool {
	return len(s) >= len(prefix) && equalFoldASCII(s[:len(prefix)], prefix)
}

// equalFoldASCII is strings.EqualFold for ASCII letters only.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
