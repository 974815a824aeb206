package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// cookie checks the session cookie's attributes against each other and
// against public_url.
func (v *validator) cookie(c *Cookie, publicURL string) {
	secure := c.IsSecure()
	switch strings.ToLower(c.SameSite) {
	case "lax", "strict":
	case "none":
		if !secure {
			v.add("cookie.same_site",
				"set cookie.secure: true (browsers reject SameSite=None cookies without Secure), or use same_site: lax",
				"same_site none requires secure: true")
		}
	default:
		v.add("cookie.same_site", oneOf(c.SameSite, "lax", "strict", "none"), "unknown value %q", c.SameSite)
	}

	if c.Name != "" {
		v.cookieName(c, secure)
	}
	if c.Domain != "" {
		v.cookieDomain(c.Domain, publicURL)
	}
	if !strings.HasPrefix(c.Path, "/") || strings.Contains(c.Path, ";") || hasControl(c.Path) {
		v.add("cookie.path", `use a path starting with /, usually "/"`, "%q is not a cookie path", c.Path)
	}

	// Browsers do not store a Secure cookie sent over plain http (except to
	// localhost), so login would "succeed" and never stick.
	if u, err := url.Parse(publicURL); err == nil && secure && u.Scheme == "http" && !isLocalhost(u.Hostname()) {
		v.add("cookie.secure", "serve public_url over https, or set cookie.secure: false for local development only",
			"public_url %q is plain http, where browsers drop Secure cookies", publicURL)
	}
}

// cookieName checks the name and the constraints of its prefix
// (RFC 6265bis section 4.1.3; browsers match the prefixes ignoring case).
func (v *validator) cookieName(c *Cookie, secure bool) {
	const field = "cookie.name"
	if !IsToken(c.Name) {
		v.add(field, "use letters, digits and - _ . only, such as gatehouse", "%q is not a valid cookie name", c.Name)
		return
	}
	lower := strings.ToLower(c.Name)
	switch {
	case strings.HasPrefix(lower, "__host-"):
		if !secure {
			v.add(field, "set cookie.secure: true, or drop the __Host- prefix", "a __Host- cookie must be Secure")
		}
		if c.Domain != "" {
			v.add(field, "remove cookie.domain (a __Host- cookie is host-only), or drop the __Host- prefix", "a __Host- cookie must not have a Domain")
		}
		if c.Path != "/" {
			v.add(field, `set cookie.path: "/", or drop the __Host- prefix`, "a __Host- cookie must have Path=/, got %q", c.Path)
		}
	case strings.HasPrefix(lower, "__secure-"):
		if !secure {
			v.add(field, "set cookie.secure: true, or drop the __Secure- prefix", "a __Secure- cookie must be Secure")
		}
	}
}

// cookieDomain checks a Domain attribute: a bare host name, optionally
// with the leading dot browsers ignore, that covers public_url's host.
func (v *validator) cookieDomain(domain, publicURL string) {
	const field = "cookie.domain"
	fix := "use a bare domain such as example.com (or leave it empty for a host-only cookie, recommended)"
	d := strings.TrimPrefix(domain, ".")
	switch {
	case strings.Contains(d, "://"):
		v.add(field, fix, "%q contains a scheme", domain)
	case strings.Contains(d, "/"):
		v.add(field, fix, "%q contains a path", domain)
	case strings.Contains(d, ":"):
		v.add(field, fix+"; cookies are not scoped by port", "%q contains a port", domain)
	case strings.Contains(d, "*"):
		v.add(field, fix+"; a Domain cookie already covers every subdomain", "%q contains a wildcard", domain)
	case !isHostname(d):
		v.add(field, fix, "%q is not a domain name", domain)
	default:
		u, err := url.Parse(publicURL)
		if publicURL == "" || err != nil || u.Hostname() == "" {
			return
		}
		host, d := strings.ToLower(u.Hostname()), strings.ToLower(d)
		if host != d && !strings.HasSuffix(host, "."+d) {
			v.add(field, fmt.Sprintf("use %s or a parent domain of it, or leave cookie.domain empty", host),
				"%q does not cover public_url's host %s, so browsers would reject the cookie", domain, host)
		}
	}
}

// isLocalhost reports whether host is a loopback name or address, which
// browsers treat as a secure context even over http.
func isLocalhost(host string) bool {
	host = strings.ToLower(host)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// reservedHeaders are header names the gateway or HTTP itself owns; an
// identity header with one of these names would break requests or let
// the identity overwrite routing and client information. X-Real-Ip is
// included because trusted proxies set it.
func reservedHeaders() []string {
	return []string{
		"Host", "Cookie", "Authorization", "Connection", "Content-Length", "Transfer-Encoding",
		"Upgrade", "Te", "Trailer", "Keep-Alive", "Proxy-Authorization", "Forwarded",
		"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip",
	}
}

// identityHeaders checks the headers that carry the identity upstream and
// the client headers stripped before it is set.
func (v *validator) identityHeaders(h *IdentityHeaders, tokenClaims []string) {
	used := map[string]string{} // folded name -> field that uses it
	v.identityHeader("identity_headers.user", h.User, used)
	v.identityHeader("identity_headers.email", h.Email, used)
	v.identityHeader("identity_headers.roles", h.Roles, used)
	v.identityHeader("identity_headers.session", h.Session, used)
	for _, claim := range sortedKeys(h.Claims) {
		field := "identity_headers.claims." + claim
		if !claimAvailable(claim, tokenClaims) {
			v.add(field, fmt.Sprintf("add %q to tokens.claims so that it is copied into the access token", claim),
				"claim %q is not in the access token", claim)
		}
		v.identityHeader(field, h.Claims[claim], used)
	}
	for i, p := range h.StripPrefixes {
		if !IsToken(p) {
			v.add(fmt.Sprintf("identity_headers.strip_prefixes[%d]", i), `use the start of a header name, such as "X-Auth-"`,
				"%q is not a header name prefix", p)
		}
	}
	for i, s := range h.Strip {
		if !IsToken(s) {
			v.add(fmt.Sprintf("identity_headers.strip[%d]", i), "use a header name, such as X-User-Id", "%q is not a header name", s)
		}
	}
}

// identityHeader checks one header the gateway sets. Names are compared
// in folded form (see foldHeader), the form the proxy strips by.
func (v *validator) identityHeader(field, name string, used map[string]string) {
	if !IsToken(name) {
		v.add(field, "use a header name such as X-Auth-User (letters, digits and -)", "%q is not a header name", name)
		return
	}
	f := FoldHeader(name)
	for _, r := range reservedHeaders() {
		if f == FoldHeader(r) {
			v.add(field, "use a name of your own, such as X-Auth-User", "%s is reserved for HTTP or the gateway", r)
			return
		}
	}
	if other, dup := used[f]; dup {
		v.add(field, "give each identity header its own name", "%q is also used by %s", name, other)
		return
	}
	used[f] = field
}
