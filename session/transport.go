package session

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/config"
)

// cookieSeparator joins the access and refresh halves of the cookie value.
// It is a valid cookie-octet (RFC 6265 section 4.1.1) and is in neither the
// base64url nor the compact-JWS alphabet, so it cannot occur in either half.
const cookieSeparator = "~"

// CookieValue is what the one session cookie carries: the access token and,
// when the session has one, the refresh token.
type CookieValue struct {
	Access  string
	Refresh string
}

// Encode returns the cookie value: Access, or Access + "~" + Refresh when
// Refresh is set.
func (v CookieValue) Encode() string {
	if v.Refresh == "" {
		return v.Access
	}
	return v.Access + cookieSeparator + v.Refresh
}

// DecodeCookieValue parses a cookie value written by Encode. Anything else
// (an empty access half, an empty refresh half after "~", more than one
// "~", a byte outside [A-Za-z0-9._-]) is ErrMalformedToken (and
// ErrInvalidToken).
func DecodeCookieValue(s string) (CookieValue, error) {
	access, refresh, hasRefresh := strings.Cut(s, cookieSeparator)
	switch {
	case access == "":
		return CookieValue{}, fmt.Errorf("%w: %w: cookie has no access token", ErrInvalidToken, ErrMalformedToken)
	case hasRefresh && refresh == "":
		return CookieValue{}, fmt.Errorf("%w: %w: cookie has an empty refresh token", ErrInvalidToken, ErrMalformedToken)
	case !isTokenChars(access) || !isTokenChars(refresh):
		return CookieValue{}, fmt.Errorf("%w: %w: cookie has bytes outside the token alphabet", ErrInvalidToken, ErrMalformedToken)
	}
	return CookieValue{Access: access, Refresh: refresh}, nil
}

// isTokenChars reports whether s uses only base64url characters and "."
// (the compact JWS alphabet), which is also what refresh tokens use.
func isTokenChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// Cookies is the one place that knows the session cookie's name and
// attributes: it sets, clears and strips the cookie, always with the same
// Name, Path, Domain, Secure, SameSite and HttpOnly, so that a clear
// actually removes what a set created (RFC 6265 section 5.3 step 11).
type Cookies struct {
	name string
	// setAttrs is "; Path=...; Max-Age=...; HttpOnly; Secure; SameSite=..."
	// as rendered by net/http, appended after "name=value".
	setAttrs string
	// clearLines are the whole Set-Cookie values that delete the cookie
	// and then each legacy cookie (config cookie.legacy).
	clearLines []string
}

// NewCookies resolves the cookie configuration: the name (c.Name, or
// "__Host-gatehouse" when the cookie is host-only, Secure and Path=/, else
// "gatehouse"), the defaults (Path "/", Secure true, SameSite lax) and the
// Max-Age (maxAge, normally session.absolute_lifetime). It checks what
// browsers would silently refuse: SameSite=None without Secure, and the
// __Host- and __Secure- prefix rules (RFC 6265bis section 4.1.3). All
// problems are returned, joined, as *config.FieldErrors.
func NewCookies(c config.Cookie, maxAge time.Duration) (*Cookies, error) {
	secure := c.Secure == nil || *c.Secure
	path := c.Path
	if path == "" {
		path = "/"
	}
	name := c.Name
	if name == "" {
		if c.Domain == "" && secure && path == "/" {
			name = "__Host-gatehouse"
		} else {
			name = "gatehouse"
		}
	}
	var errs []error
	var sameSite http.SameSite
	switch strings.ToLower(c.SameSite) {
	case "", "lax":
		sameSite = http.SameSiteLaxMode
	case "strict":
		sameSite = http.SameSiteStrictMode
	case "none":
		sameSite = http.SameSiteNoneMode
		if !secure {
			errs = append(errs, config.Problem("cookie.same_site", "same_site: none requires secure: true (browsers drop the cookie)",
				"set secure: true, or use same_site: lax"))
		}
	default:
		errs = append(errs, config.Problemf("cookie.same_site", "use lax, strict or none", "unknown value %q", c.SameSite))
	}
	// Browsers match the prefixes case-insensitively (RFC 6265bis).
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "__host-") && (!secure || c.Domain != "" || path != "/") {
		errs = append(errs, config.Problemf("cookie.name", "use another name, or secure: true with no domain and path: /",
			"%q has the __Host- prefix, which browsers only accept with Secure, no Domain and Path=/", name))
	}
	if strings.HasPrefix(lower, "__secure-") && !secure {
		errs = append(errs, config.Problemf("cookie.name", "use another name, or secure: true",
			"%q has the __Secure- prefix, which browsers only accept with Secure", name))
	}
	if !strings.HasPrefix(path, "/") {
		errs = append(errs, config.Problemf("cookie.path", "use an absolute path such as /", "%q is not an absolute path", path))
	}
	if maxAge < time.Second {
		errs = append(errs, config.Problemf("session.absolute_lifetime", "use a duration such as 168h",
			"cookie Max-Age %v is shorter than 1s", maxAge))
	}
	// Check each attribute alone with net/http's own rules, so the problem
	// names its field (http.Cookie.String would otherwise drop a bad
	// Domain with only a log line).
	for _, probe := range []struct {
		field  string
		cookie http.Cookie
	}{
		{"cookie.name", http.Cookie{Name: name}},
		{"cookie.path", http.Cookie{Name: "x", Path: path}},
		{"cookie.domain", http.Cookie{Name: "x", Domain: c.Domain}},
	} {
		if err := probe.cookie.Valid(); err != nil {
			errs = append(errs, &config.FieldError{Field: probe.field, Problem: "is not valid in a cookie",
				Fix: "use a token for name, a host name for domain and a plain path", Err: err})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	set := &http.Cookie{
		Name:     name,
		Path:     path,
		Domain:   c.Domain,
		MaxAge:   int(maxAge / time.Second),
		Secure:   secure,
		HttpOnly: true,
		SameSite: sameSite,
	}
	clear := *set
	clear.MaxAge = -1               // renders Max-Age=0
	clear.Expires = time.Unix(1, 0) // and a past Expires for old clients
	line := set.String()            // "name=; Path=..." (empty value)
	clears := []string{clear.String()}
	for _, l := range c.Legacy {
		old := clear
		old.Name, old.Domain, old.Path = l.Name, l.Domain, l.Path
		if old.Path == "" {
			old.Path = "/"
		}
		// A legacy cookie may have had any SameSite; None would be
		// refused without Secure, so the clear leaves it unset.
		old.SameSite = 0
		if s := old.String(); s != "" && s != clears[0] {
			clears = append(clears, s)
		}
	}
	return &Cookies{
		name:       name,
		setAttrs:   line[len(name)+1:],
		clearLines: clears,
	}, nil
}

// Name returns the cookie name.
func (c *Cookies) Name() string { return c.name }

// Set adds one Set-Cookie header carrying v. Values come from Mint and the
// session store and so are always cookie-safe; a value that is not (which
// would be a bug) is not written: the cookie is cleared instead, so the
// client never holds a value net/http had to mangle.
func (c *Cookies) Set(h http.Header, v CookieValue) {
	value := v.Encode()
	if v.Access == "" || !isTokenChars(v.Access) || !isTokenChars(v.Refresh) {
		c.Clear(h)
		return
	}
	h.Add("Set-Cookie", c.name+"="+value+c.setAttrs)
}

// Clear adds a Set-Cookie header that deletes the cookie: the same name,
// Path, Domain, Secure, SameSite and HttpOnly as Set, an empty value,
// Max-Age=0 and an Expires in the past; then one for each legacy cookie.
func (c *Cookies) Clear(h http.Header) {
	for _, l := range c.clearLines {
		h.Add("Set-Cookie", l)
	}
}

// StripFrom removes every cookie of our name from the request's Cookie
// header lines, so the session cookie never reaches the upstream. Other
// cookies are kept byte-for-byte and in order; a line left with no cookie
// is dropped, and the header is deleted when no line remains. Names are
// compared after trimming whitespace, as net/http reads them.
func (c *Cookies) StripFrom(h http.Header) {
	lines := h["Cookie"]
	if len(lines) == 0 {
		return
	}
	kept := lines[:0:0]
	for _, line := range lines {
		if !strings.Contains(line, c.name) {
			kept = append(kept, line) // fast path: untouched, byte-for-byte
			continue
		}
		var parts []string
		for part := range strings.SplitSeq(line, ";") {
			name, _, _ := strings.Cut(part, "=")
			if trimOWS(name) == c.name {
				continue
			}
			parts = append(parts, part)
		}
		rest := trimOWS(strings.Join(parts, ";"))
		if strings.Trim(rest, "; \t") != "" {
			kept = append(kept, rest)
		}
	}
	if len(kept) == 0 {
		h.Del("Cookie")
		return
	}
	h["Cookie"] = kept
}

// trimOWS trims the whitespace net/textproto trims (space, tab, CR, LF).
func trimOWS(s string) string {
	return strings.Trim(s, " \t\r\n")
}
