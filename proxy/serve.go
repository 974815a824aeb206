package proxy

import (
	"context"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/policy"
	"github.com/gatehouse/gatehouse/proxy/cors"
	"github.com/gatehouse/gatehouse/proxy/metrics"
)

// ServeHTTP runs the request path: canonicalise, authenticate (refreshing
// transparently), decide, then either answer with an error or proxy.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := &reqContext{trusted: g.trust.trusted(r)}
	ctx.id = requestID(r, ctx.trusted)
	ctx.headerMode = strings.EqualFold(r.Header.Get("X-Auth-Mode"), "header")
	w.Header().Set(requestIDHeader, ctx.id)

	// The host the client asked for: the one the rules judge and the app
	// is told (X-Forwarded-Host from a trusted proxy, else Host).
	host := g.trust.originalHost(r, ctx.trusted)
	path, err := policy.CanonicalPath(r.URL.EscapedPath())
	isAuth := err == nil && (path == g.prefix || strings.HasPrefix(path, g.prefix+"/"))

	// A preflight carries no credentials and never reaches the app. It is
	// answered with the CORS settings of the route the actual request
	// (its Access-Control-Request-Method) would take.
	if cors.IsPreflight(r) {
		co := g.co
		if err == nil && !isAuth {
			_, rt := g.matchRoute(host, path, r.Header.Get("Access-Control-Request-Method"))
			co = rt.co
		}
		reason := co.cors.Preflight(w, r)
		g.metrics.Preflight(reason == "")
		if reason != "" && g.debugOn(areaCORS) {
			g.debugLog(areaCORS, "preflight refused", "origin", r.Header.Get("Origin"), "reason", reason)
		}
		return
	}

	if err != nil {
		g.metrics.Request(metrics.RuleNone, http.StatusBadRequest)
		g.writeError(w, r, &Error{Status: http.StatusBadRequest, Code: CodeInvalidPath, Message: "The request path is not acceptable.", Err: err})
		return
	}
	if isAuth {
		if g.needsCSRFCheck(r, true) {
			if err := g.co.checkCSRF(r); err != nil {
				g.csrfRejected(w, r, g.co, err)
				return
			}
		}
		g.countCORSRejection(r, g.co)
		g.co.cors.Decorate(w.Header(), r.Header.Get("Origin"))
		g.serveEndpoint(w, r, ctx, strings.TrimPrefix(path, g.prefix))
		return
	}

	// Match once: the matched rule picks the CORS and CSRF settings now,
	// then decides access, then routes (routes.go).
	m, rt := g.matchRoute(host, path, r.Method)
	if g.needsCSRFCheck(r, false) {
		if err := rt.co.checkCSRF(r); err != nil {
			g.csrfRejected(w, r, rt.co, err)
			return
		}
	}
	g.countCORSRejection(r, rt.co)
	if rt.noRoute {
		g.noRoute(w, r, rt, host)
		return
	}

	res, authErr := g.authenticate(w, r)
	d := g.policy.DecideMatch(m, res.Principal)
	g.explain(r.Method, host, path, res.Bearer, authErr, d)
	if res.ClearCookie {
		g.cookies.Clear(w.Header())
	}
	if !d.Allow {
		e := denial(d, authErr)
		g.metrics.Denied(d.Rule, e.Code, e.Status)
		g.writeErrorCORS(w, r, rt.co, e)
		return
	}
	if rt.proxy == nil { // a deny rule never allows; defence in depth
		g.noRoute(w, r, rt, host)
		return
	}
	g.metrics.Allowed(d.Rule)

	f := &forward{
		path:      path,
		principal: res.Principal,
		dropAuthz: res.Bearer,
		req:       ctx,
		in:        r,
		route:     rt,
	}
	rt.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), forwardKey{}, f)))
}
