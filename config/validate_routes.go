package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Forward-auth refresh modes a rule may choose (forward_auth_refresh);
// the verify URL's refresh parameter takes the same values.
const (
	refreshInline   = "inline"
	refreshRedirect = "redirect"
	refreshDeny     = "deny"
)

// upstreams checks the default upstream and the named ones. The default
// URL may be empty only when named upstreams exist: then a request whose
// rule names none is answered 404 NO_ROUTE rather than proxied anywhere.
func (v *validator) upstreams(c *Config) {
	if c.Upstream.URL == "" && len(c.Upstreams) == 0 {
		v.add("upstream.url", "set upstream.url to your app's address, e.g. http://127.0.0.1:3000 "+
			"(or define upstreams and name one on each rule)", "is required")
	}
	v.upstreamAt("upstream", &c.Upstream)
	for _, name := range slices.Sorted(maps.Keys(c.Upstreams)) {
		field := "upstreams." + name
		if !isUpstreamName(name) {
			v.add(field, "use letters, digits, - and _ only, such as api or legacy-admin", "%q is not a usable upstream name", name)
		}
		u := c.Upstreams[name]
		if u.URL == "" {
			v.add(field+".url", "set the app's address, e.g. http://127.0.0.1:3001", "is required")
		}
		v.upstreamAt(field, &u)
	}
}

// isUpstreamName reports whether s is a plain name: letters, digits, "-"
// and "_".
func isUpstreamName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// upstreamAt checks one upstream block whose YAML path is prefix. An
// empty URL is the caller's to judge.
func (v *validator) upstreamAt(prefix string, u *Upstream) {
	https := false
	if u.URL != "" {
		if p := v.httpURL(prefix+".url", u.URL, "http://127.0.0.1:3000"); p != nil {
			https = p.Scheme == "https"
		}
	}
	v.atLeast(prefix+".dial_timeout", u.DialTimeout, 0, "use 0 for no limit, or a positive duration")
	v.atLeast(prefix+".response_header_timeout", u.ResponseHeaderTimeout, 0, "use 0 for no limit, or a positive duration")
	v.atLeast(prefix+".idle_conn_timeout", u.IdleConnTimeout, 0, "use 0 to keep idle connections, or a positive duration")
	if u.MaxIdleConnsPerHost < 0 {
		v.add(prefix+".max_idle_conns_per_host", "use 0 for Go's default, or a positive number", "must not be negative, got %d", u.MaxIdleConnsPerHost)
	}
	t := &u.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		v.add(prefix+".tls", "set both cert_file and key_file for a client certificate, or neither",
			"only one of cert_file and key_file is set")
	}
	if t.ServerName != "" && !isHostname(t.ServerName) {
		v.add(prefix+".tls.server_name", "use the host name in the upstream's certificate, such as app.internal", "%q is not a host name", t.ServerName)
	}
	if *t != (UpstreamTLS{}) && u.URL != "" && !https {
		v.add(prefix+".tls", "use an https:// URL, or remove tls", "tls is set but %s is not https", prefix+".url")
	}
}

// routeOptions checks the route options of the rule whose YAML path is
// prefix: the upstream it names, its prefix handling and its overrides.
func (v *validator) routeOptions(prefix string, r *Rule, c *Config) {
	if r.Access == accessDeny {
		// A deny rule never forwards: routing options would mislead.
		for _, f := range []struct {
			key string
			set bool
		}{{"upstream", r.Upstream != ""}, {"strip_prefix", r.StripPrefix != ""}, {"rewrite_redirects", r.RewriteRedirects},
			{"pass_authorization", r.PassAuthorization}, {"identity_headers", r.IdentityHeaders != nil},
			{"assertion_audience", r.AssertionAudience != ""}} {
			if f.set {
				v.add(prefix+"."+f.key, "remove it: a deny rule never forwards a request", "%s has no effect with access: deny", f.key)
			}
		}
	}
	if r.Upstream != "" {
		if _, ok := c.Upstreams[r.Upstream]; !ok {
			names := slices.Sorted(maps.Keys(c.Upstreams))
			fix := "define it under upstreams, or leave upstream empty for the default upstream"
			if s := suggest(r.Upstream, names); s != "" {
				fix = fmt.Sprintf("did you mean %q?", s)
			} else if len(names) > 0 {
				fix = "use one of " + strings.Join(names, ", ") + ", or leave upstream empty for the default upstream"
			}
			v.add(prefix+".upstream", fix, "no upstream is named %q", r.Upstream)
		}
	}
	if r.StripPrefix != "" {
		v.stripPrefix(prefix, r)
	} else if r.RewriteRedirects {
		v.add(prefix+".rewrite_redirects", "set strip_prefix too, or remove rewrite_redirects",
			"has no effect without strip_prefix")
	}
	switch r.ForwardAuthRefresh {
	case "", refreshInline, refreshRedirect, refreshDeny:
	default:
		v.add(prefix+".forward_auth_refresh", oneOf(r.ForwardAuthRefresh, refreshInline, refreshRedirect, refreshDeny),
			"unknown refresh mode %q", r.ForwardAuthRefresh)
	}
	if r.AssertionAudience != "" && !c.Assertion.Enabled {
		v.add(prefix+".assertion_audience", "set assertion.enabled: true, or remove assertion_audience",
			"has no effect while assertion.enabled is false")
	}
	if r.CORS != nil {
		v.corsAt(prefix+".cors", r.CORS)
	}
	if h := r.IdentityHeaders; h != nil {
		v.routeHeaders(prefix+".identity_headers", h, c)
	}
}

// stripPrefix checks that strip_prefix is a literal path that every path
// the rule matches starts with, on a segment boundary; otherwise some
// requests would reach the upstream with the prefix and some without.
func (v *validator) stripPrefix(prefix string, r *Rule) {
	field := prefix + ".strip_prefix"
	sp := r.StripPrefix
	switch {
	case !strings.HasPrefix(sp, "/") || sp == "/":
		v.add(field, `use the path the app is mounted under, such as "/legacy"`, "%q is not a path below /", sp)
		return
	case strings.HasSuffix(sp, "/"):
		v.add(field, fmt.Sprintf("write it without the trailing slash: %q", strings.TrimRight(sp, "/")), "%q ends with /", sp)
		return
	case strings.ContainsAny(sp, "*?#%;\\") || hasControl(sp) ||
		strings.Contains(sp, "//") || strings.Contains(sp, "/./") || strings.Contains(sp, "/../") ||
		strings.HasSuffix(sp, "/.") || strings.HasSuffix(sp, "/.."):
		v.add(field, `write a literal, decoded path such as "/legacy"`, "%q is not a literal canonical path", sp)
		return
	}
	base := r.PathBase()
	if base != sp && !strings.HasPrefix(base, sp+"/") {
		v.add(field, fmt.Sprintf("match the prefix too, such as path_prefix: %s", sp),
			"the rule can match paths that do not start with %q (its path is %q)", sp, r.Path+r.PathPrefix)
	}
}

// PathBase is the literal path every request the rule matches starts
// with, on a segment boundary and without a trailing slash: its
// path_prefix, or the segments of its path before the first wildcard
// ("/legacy" for "/legacy/**"). It is "" when the rule matches any path.
func (r *Rule) PathBase() string {
	base := r.PathPrefix
	if base == "" {
		base = literalHead(r.Path)
	}
	return strings.TrimSuffix(base, "/")
}

// literalHead returns the segments of a path pattern before its first
// wildcard segment: "/legacy" for "/legacy/**" or "/legacy/*.png".
func literalHead(p string) string {
	var head strings.Builder
	for seg := range strings.SplitSeq(strings.TrimPrefix(p, "/"), "/") {
		if strings.Contains(seg, "*") {
			break
		}
		head.WriteString("/" + seg)
	}
	return head.String()
}

// routeHeaders checks a rule's identity header overrides.
func (v *validator) routeHeaders(prefix string, h *RouteHeaders, c *Config) {
	used := map[string]string{}
	for _, f := range []struct{ key, name string }{{"user", h.User}, {"email", h.Email}, {"roles", h.Roles}, {"session", h.Session}} {
		if f.name != "" {
			v.identityHeader(prefix+"."+f.key, f.name, used)
		}
	}
	for _, claim := range sortedKeys(h.Claims) {
		field := prefix + ".claims." + claim
		if !claimAvailable(claim, c.Tokens.Claims) {
			v.add(field, fmt.Sprintf("add %q to tokens.claims so that it is copied into the access token", claim),
				"claim %q is not in the access token", claim)
		}
		v.identityHeader(field, h.Claims[claim], used)
	}
	for _, name := range sortedKeys(h.Set) {
		field := prefix + ".set." + name
		if !IsToken(name) {
			v.add(field, "use a header name such as X-Tenant", "%q is not a header name", name)
			continue
		}
		if _, ident := used[FoldHeader(name)]; ident || isIdentityName(name, &c.IdentityHeaders) {
			v.add(field, "set identity headers from the session only; choose another name",
				"%q is an identity header", name)
		}
		if hasControl(strings.ReplaceAll(h.Set[name], " ", "x")) {
			v.add(field, "remove control characters from the value", "the value of %q contains control characters", name)
		}
	}
}

// isIdentityName reports whether a header name falls under the top-level
// identity headers, which are stripped from every request.
func isIdentityName(name string, ih *IdentityHeaders) bool {
	f := FoldHeader(name)
	for _, n := range slices.Concat([]string{ih.User, ih.Email, ih.Roles, ih.Session}, ih.Strip) {
		if n != "" && FoldHeader(n) == f {
			return true
		}
	}
	for _, p := range ih.StripPrefixes {
		if strings.HasPrefix(f, FoldHeader(p)) {
			return true
		}
	}
	return false
}
