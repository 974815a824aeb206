package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/policy"
	"github.com/gatehouse/gatehouse/proxy/cors"
	"github.com/gatehouse/gatehouse/session"
)

// Forward-auth refresh modes, chosen per endpoint by the verify URL's
// refresh parameter, because each proxy loses something different:
const (
	// refreshInline refreshes and returns the cookie with the 200 — for
	// nginx (it passes the first Set-Cookie) and Traefik
	// (addAuthCookiesToResponse).
	refreshInline = "inline"
	// refreshRedirect sends a browser navigation with an expired session
	// through GET <prefix>/refresh?rd=..., which sets the cookie on a
	// response the proxy does pass — for Caddy, which drops Set-Cookie
	// from a 2xx auth response. Other requests get 401 TOKEN_EXPIRED.
	refreshRedirect = "redirect"
	// refreshDeny answers 401 TOKEN_EXPIRED; the client calls refresh.
	refreshDeny = "deny"
)

// serveVerify is the forward-auth endpoint: nginx auth_request, Traefik
// forwardAuth, Caddy forward_auth ask it about each request. It rebuilds
// the original request from the forwarded headers — believed only from
// trusted proxies — and runs the same verification, refresh and policy as
// proxy mode. Allowed: 200 with every identity header (empty where there
// is no value: Caddy 2.6 sends a literal placeholder upstream for a missing
// one). Denied: 401/403 with the JSON error, or a login redirect for a
// browser navigation unless login=status (nginx turns a 302 from the auth
// service into a 500; its recipe maps the 401 with error_page).
func (g *Gateway) serveVerify(w http.ResponseWriter, r *http.Request, ctx *reqContext) {
	if !ctx.trusted {
		g.writeError(w, r, &Error{Status: http.StatusForbidden, Code: CodeUntrustedProxy, API: true,
			Message: "Forward-auth requests are accepted only from trusted_proxies.",
			Err:     fmt.Errorf("verify from untrusted peer %s", r.RemoteAddr)})
		return
	}
	q := r.URL.Query()
	refreshMode := q.Get("refresh")
	if refreshMode == "" {
		refreshMode = refreshInline
	}
	loginStatus := q.Get("login") == "status"
	if (refreshMode != refreshInline && refreshMode != refreshRedirect && refreshMode != refreshDeny) ||
		(q.Get("login") != "" && q.Get("login") != "status" && q.Get("login") != "redirect") {
		g.writeError(w, r, &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, API: true,
			Message: "Use refresh=inline|redirect|deny and login=redirect|status on the verify URL."})
		return
	}
	orig, err := originalRequest(r)
	if err != nil {
		g.writeError(w, r, &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, API: true,
			Message: "The forwarded request is missing or malformed (X-Forwarded-Uri / X-Original-URI).", Err: err})
		return
	}
	if foreignUpgrade(orig.Header) {
		g.writeError(w, orig, &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, API: true,
			Message: "Protocol upgrades other than WebSocket are not accepted.",
			Err:     fmt.Errorf("upgrade to %.32q through forward-auth", orig.Header.Get("Upgrade"))})
		return
	}
	if cors.IsPreflight(orig) {
		g.log.Warn("a CORS preflight reached forward-auth; route OPTIONS preflights to the gateway (see docs/forward-auth.md)", "uri", orig.URL.RequestURI())
		g.writeError(w, orig, &Error{Status: http.StatusForbidden, Code: CodePreflightNotRouted, API: true,
			Message: "CORS preflights must be routed to the gateway, not to forward-auth."})
		return
	}
	path, err := policy.CanonicalPath(orig.URL.EscapedPath())
	if err != nil {
		g.writeError(w, orig, &Error{Status: http.StatusBadRequest, Code: CodeInvalidPath, Message: "The request path is not acceptable.", Err: err, API: loginStatus})
		return
	}
	// The matched rule's route gives the CSRF allowlist, the identity
	// header names and, if it sets one, the refresh mode; the same match
	// then decides. The proxy in front does the routing itself.
	m, rt := g.matchRoute(orig.Host, path, orig.Method)
	if rt.refresh != "" {
		refreshMode = rt.refresh
	}
	// The auth request itself is always a GET; the original request is
	// what a cross-site form would have sent.
	if g.needsCSRFCheck(orig, false) {
		if err := rt.co.checkCSRF(orig); err != nil {
			g.metrics.CSRFRejected()
			g.writeErrorCORS(w, orig, rt.co, &Error{Status: http.StatusForbidden, Code: CodeCSRFRejected, API: true,
				Message: "Cross-origin request refused: its origin is not allowed.", Err: err})
			return
		}
	}

	res, authErr := g.auth.Authenticate(orig)
	if errors.Is(authErr, session.ErrTokenExpired) && !res.Bearer && res.Cookie != nil && res.Cookie.Refresh != "" {
		switch {
		case refreshMode == refreshInline:
			res, authErr = g.authenticate(w, orig)
		case refreshMode == refreshRedirect && isNavigation(orig):
			w.Header().Set("Location", g.prefix+"/refresh?rd="+url.QueryEscape(orig.URL.RequestURI()))
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusFound)
			return
		}
	}
	d := g.policy.DecideMatch(m, res.Principal)
	if res.ClearCookie {
		g.cookies.Clear(w.Header())
	}
	if g.debugOn(areaForwardAuth) {
		g.debugLog(areaForwardAuth, "verify", "peer", r.RemoteAddr, "method", orig.Method, "host", orig.Host, "path", path,
			"refresh", refreshMode, "allow", d.Allow, "code", d.Code, "rule", d.Rule)
	}
	g.explain(orig.Method, orig.Host, path, res.Bearer, authErr, d)
	if !d.Allow {
		e := denial(d, authErr)
		e.API = loginStatus
		g.metrics.AuthDecision(e.Code)
		g.writeErrorCORS(w, orig, rt.co, e)
		return
	}
	g.metrics.AuthDecision("")
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	// Every header of every route, empty, then this route's: a proxy
	// copies one list for all routes (Caddy 2.6 sends the app a
	// placeholder's text for a header the answer lacks).
	for _, name := range g.verifyHeaders {
		h[name] = g.emptyValue
	}
	if res.Principal != nil {
		rt.headers.inject(h, res.Principal)
		// The proxy copies it to the upstream request like the identity
		// headers (docs/forward-auth.md).
		if err := g.assertion.set(h, res.Principal, rt.audience); err != nil {
			g.log.Error("identity assertion not added", "err", err)
		}
	} else {
		rt.headers.inject(h, &session.Principal{}) // every header present, all empty
		if g.assertion != nil {
			h[g.assertion.header] = []string{""} // for Caddy 2.6's copy_headers, like the rest
		}
	}
	for _, fh := range rt.set {
		h[fh.name] = []string{fh.value}
	}
	w.WriteHeader(http.StatusOK)
}

// originalRequest rebuilds the request a proxy is asking about, from the
// Traefik/Caddy convention (X-Forwarded-Method, -Proto, -Host, -Uri) or the
// nginx one (X-Original-Method, X-Original-URL, X-Original-URI). The
// client's own headers (cookies, Authorization, Origin, Accept) come with
// the auth request: every proxy forwards them.
func originalRequest(r *http.Request) (*http.Request, error) {
	h := r.Header
	method, err := forwardedValue(h, "X-Forwarded-Method", "X-Original-Method")
	if err != nil {
		return nil, err
	}
	if method == "" {
		method = http.MethodGet
	}
	if len(method) > 32 || !config.IsToken(method) {
		return nil, fmt.Errorf("forwarded method %q", method)
	}
	host := h.Get("X-Forwarded-Host")
	uri, err := forwardedValue(h, "X-Forwarded-Uri", "X-Original-URI")
	if err != nil {
		return nil, err
	}
	if full := h.Get("X-Original-URL"); full != "" {
		u, err := url.Parse(full)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("X-Original-URL %q is not an absolute URL", full)
		}
		if uri == "" {
			uri = u.RequestURI()
		}
		if host == "" {
			host = u.Host
		}
	}
	if uri == "" {
		return nil, errors.New("no X-Forwarded-Uri, X-Original-URI or X-Original-URL")
	}
	if !strings.HasPrefix(uri, "/") {
		return nil, fmt.Errorf("forwarded URI %q is not a path", uri)
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, fmt.Errorf("forwarded URI: %w", err)
	}
	if host == "" {
		host = r.Host
	}
	o := r.Clone(r.Context())
	o.Method, o.URL, o.Host, o.RequestURI = method, u, host, uri
	return o, nil
}

// forwardedValue returns the one value given for a field of the original
// request under any of names (the Traefik/Caddy and the nginx spelling),
// or "". Different values are refused: a proxy sets one spelling and
// passes the client's copy of the other through unchanged (the nginx
// recipe sets X-Original-URI, and a client's X-Forwarded-Uri reached the
// gateway beside it), so believing either could judge a request other
// than the one proxied (issue #10).
func forwardedValue(h http.Header, names ...string) (string, error) {
	v := ""
	for _, n := range names {
		for _, x := range h.Values(n) {
			switch {
			case v == "":
				v = x
			case x != v:
				return "", fmt.Errorf("conflicting values for the original request in %s", strings.Join(names, ", "))
			}
		}
	}
	return v, nil
}
