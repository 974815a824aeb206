package proxy

import (
	"net/http"
	"net/url"
	"strings"
)

// stripPrefix removes prefix from the canonical path p. Validation makes
// sure every path a rule with strip_prefix matches starts with it, on a
// segment boundary; the prefix itself becomes "/".
func stripPrefix(p, prefix string) string {
	rest, ok := strings.CutPrefix(p, prefix)
	switch {
	case !ok:
		return p
	case rest == "":
		return "/"
	case rest[0] != '/':
		return p // "/legacyx" is not under "/legacy"
	}
	return rest
}

// underPrefix reports whether path p is prefix or below it.
func underPrefix(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// rewriteLocation puts prefix back in front of a redirect from an app
// mounted under it, which believes it lives at "/": "/login" becomes
// "/legacy/login"; an absolute URL to the upstream's own host
// (upstreamHost, as the app saw it in Host) becomes that path on the
// gateway's origin; and an absolute URL to the public host (publicHost,
// which an app that reads X-Forwarded-Host builds its URLs with) keeps
// its origin and gets the prefix. A relative reference ("next", "../x")
// already resolves against the prefixed URL the browser asked for, and a
// URL to another host, or a path already under the prefix, is left as it
// is.
func rewriteLocation(loc, prefix, upstreamHost, publicHost string) string {
	if loc == "" {
		return loc
	}
	if loc[0] == '/' {
		if strings.HasPrefix(loc, "//") {
			return loc // scheme-relative: another host
		}
		return addPrefix(loc, prefix)
	}
	u, err := url.Parse(loc)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return loc
	}
	public := publicHost != "" && strings.EqualFold(u.Host, publicHost)
	if !public && !strings.EqualFold(u.Host, upstreamHost) {
		return loc
	}
	rel := u.EscapedPath()
	if rel == "" {
		rel = "/"
	}
	if u.RawQuery != "" || u.ForceQuery {
		rel += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		rel += "#" + u.EscapedFragment()
	}
	if public {
		return u.Scheme + "://" + u.Host + addPrefix(rel, prefix)
	}
	return addPrefix(rel, prefix)
}

// addPrefix prefixes an absolute-path reference (path, query, fragment)
// unless its path is already under prefix.
func addPrefix(ref, prefix string) string {
	p := ref
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if underPrefix(p, prefix) {
		return ref
	}
	if p == "/" {
		return prefix + "/" + ref[1:]
	}
	return prefix + ref
}

// rewriteCookiePath rewrites the Path attribute of one Set-Cookie value
// from an app mounted under prefix: Path=/ becomes Path=/legacy, Path=/x
// becomes Path=/legacy/x. A cookie without Path already defaults to the
// directory of the (prefixed) request URL, and a __Host- cookie must keep
// Path=/ (RFC 6265bis section 4.1.3.2), so both are left alone.
func rewriteCookiePath(sc, prefix string) string {
	name, _, _ := strings.Cut(sc, "=")
	if strings.HasPrefix(strings.TrimSpace(name), "__Host-") {
		return sc
	}
	parts := strings.Split(sc, ";")
	changed := false
	for i := 1; i < len(parts); i++ {
		k, v, ok := strings.Cut(parts[i], "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "path") {
			continue
		}
		p := strings.TrimSpace(v)
		if !strings.HasPrefix(p, "/") || underPrefix(p, prefix) {
			continue
		}
		if p == "/" {
			p = prefix
		} else {
			p = prefix + p
		}
		parts[i] = " Path=" + p
		changed = true
	}
	if !changed {
		return sc
	}
	return strings.Join(parts, ";")
}

// rewritePrefixed rewrites the Location and Set-Cookie paths of a
// response from an app mounted under prefix.
func rewritePrefixed(h http.Header, prefix, upstreamHost, publicHost string) {
	if loc := h.Get("Location"); loc != "" {
		h.Set("Location", rewriteLocation(loc, prefix, upstreamHost, publicHost))
	}
	if sc := h["Set-Cookie"]; len(sc) > 0 {
		for i, v := range sc {
			sc[i] = rewriteCookiePath(v, prefix)
		}
	}
}
