package proxy

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/policy"
	"github.com/gatehouse/gatehouse/proxy/cors"
	"github.com/gatehouse/gatehouse/proxy/metrics"
)

// route is what one rule (or the default) does with a request it
// matched: where an allowed request goes and with which options. Routes
// are built once, in New, and indexed like the policy's rules, so the
// rule that decided access is, by construction, the rule that routes.
type route struct {
	name     string
	upstream string        // the upstream's name: "" for the default
	conn     *upstreamConn // nil: nowhere to go
	proxy    http.Handler  // the reverse proxy over conn, set by bindProxies
	// noRoute answers 404 NO_ROUTE before authenticating: the rule lets
	// requests through (it is not deny) but there is nowhere to send them.
	noRoute   bool
	strip     string // strip_prefix, "" for none
	rewrite   bool   // rewrite Location and Set-Cookie Path with strip
	passAuthz bool   // forward a consumed Authorization header
	refresh   string // forward-auth refresh mode, "" for the verify URL's
	co        *crossOrigin
	headers   *identityHeaders
	set       []fixedHeader // canonical names
	// audience is the aud of the identity assertion for this route's
	// requests: the rule's assertion_audience, else assertion.audience,
	// else the origin of the route's upstream URL (so an assertion made
	// for one app is refused by another).
	audience string
}

// upstreamConn is one upstream's address and transport, shared by every
// route that names it.
type upstreamConn struct {
	name      string // its metrics label: "default", or its key under upstreams
	target    *url.URL
	transport http.RoundTripper
	metrics   *metrics.Upstream // set by bindProxies; nil records nothing
}

// fixedHeader is a request header a route sets (identity_headers.set).
type fixedHeader struct{ name, value string }

// routes are the compiled routes: one per rule, in file order, and the
// default last.
type routes []*route

// at returns the route of a policy Decision.Index or Match.Index (-1 is
// the default).
func (rs routes) at(i int) *route {
	if i < 0 || i >= len(rs)-1 {
		return rs[len(rs)-1]
	}
	return rs[i]
}

// newRoutes builds the connection to each upstream (its transport, pool
// and TLS, once) and a route per rule; bindProxies adds the reverse
// proxies later. The default CORS and identity headers are shared by the
// rules that do not override them.
func (g *Gateway) newRoutes(cfg *config.Config) (routes, error) {
	var errs []error
	conns := map[string]*upstreamConn{}
	build := func(name string, u config.Upstream) {
		if u.URL == "" {
			return
		}
		field := "upstream"
		if name != "" {
			field = "upstreams." + name
		}
		target, err := url.Parse(u.URL)
		if err != nil || target.Host == "" {
			errs = append(errs, config.Problem(field+".url", fmt.Sprintf("%q is not an absolute URL", u.URL), "use a URL such as http://127.0.0.1:3000"))
			return
		}
		rt, err := upstreamTransport(field, u)
		if err != nil {
			errs = append(errs, err)
			return
		}
		label := name
		if label == "" {
			label = "default"
		}
		conns[name] = &upstreamConn{name: label, target: target, transport: rt}
	}
	build("", cfg.Upstream)
	for _, name := range slices.Sorted(maps.Keys(cfg.Upstreams)) {
		build(name, cfg.Upstreams[name])
	}

	rs := make(routes, 0, len(cfg.Policy.Rules)+1)
	for i := range cfg.Policy.Rules {
		cr := &cfg.Policy.Rules[i]
		rt := &route{
			name: cr.Name, upstream: cr.Upstream, conn: conns[cr.Upstream],
			strip: cr.StripPrefix, rewrite: cr.RewriteRedirects, passAuthz: cr.PassAuthorization,
			refresh: cr.ForwardAuthRefresh, co: g.co, headers: g.headers,
		}
		if rt.name == "" {
			rt.name = "rules[" + strconv.Itoa(i) + "]"
		}
		rt.noRoute = rt.conn == nil && cr.Access != "deny"
		if cr.CORS != nil {
			p, err := cors.New(*cr.CORS)
			if err == nil {
				rt.co, err = newCrossOrigin(p)
			}
			if err != nil {
				errs = append(errs, &config.FieldError{Field: fmt.Sprintf("policy.rules[%d].cors", i), Problem: "is not usable", Fix: "see docs/configuration.md#cors", Err: err})
			}
		}
		if h := cr.IdentityHeaders; h != nil {
			rt.headers = newIdentityHeaders(routeIdentity(withRouteHeaders(cfg), h), cfg.Grant.Header, cfg.Assertion.Header)
			for _, name := range slices.Sorted(maps.Keys(h.Set)) {
				rt.set = append(rt.set, fixedHeader{http.CanonicalHeaderKey(name), headerValue(h.Set[name])})
			}
		}
		rt.audience = assertionAudience(cfg, cr.AssertionAudience, rt.conn)
		rs = append(rs, rt)
	}
	def := &route{name: "default", conn: conns[""], co: g.co, headers: g.headers}
	def.audience = assertionAudience(cfg, "", def.conn)
	def.noRoute = def.conn == nil && cfg.Policy.Default != "deny"
	rs = append(rs, def)
	return rs, errors.Join(errs...)
}

// assertionAudience is a route's assertion audience: the rule's own, else
// assertion.audience, else the origin of the route's upstream.
func assertionAudience(cfg *config.Config, own string, conn *upstreamConn) string {
	switch {
	case own != "":
		return own
	case cfg.Assertion.Audience != "":
		return cfg.Assertion.Audience
	case conn != nil:
		return conn.target.Scheme + "://" + conn.target.Host
	}
	return ""
}

// exactOrigins lists the exact CORS origins of every route (the default's
// first), each once.
func (rs routes) exactOrigins() []string {
	var out []string
	seen := map[*crossOrigin]bool{}
	for _, rt := range slices.Backward(rs) {
		if rt.co == nil || seen[rt.co] {
			continue
		}
		seen[rt.co] = true
		for _, o := range rt.co.cors.ExactOrigins() {
			if !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}

// bindProxies builds one reverse proxy per upstream and gives it to the
// routes that name it. It runs once the gateway's metrics exist, which the
// transports report to.
func (rs routes) bindProxies(g *Gateway) {
	proxies := map[*upstreamConn]http.Handler{}
	for _, rt := range rs {
		if rt.conn == nil {
			continue
		}
		p, ok := proxies[rt.conn]
		if !ok {
			rt.conn.metrics = g.metrics.Upstream(rt.conn.name)
			p = g.newReverseProxy(rt.conn)
			proxies[rt.conn] = p
		}
		rt.proxy = p
	}
}

// withRouteHeaders returns the top-level identity header settings with
// every header name a rule sets (renamed identity headers, claim headers,
// fixed headers) added to Strip: a client's copy of a header one app
// trusts is removed on the way to every app, in any spelling.
func withRouteHeaders(cfg *config.Config) config.IdentityHeaders {
	ih := cfg.IdentityHeaders
	var names []string
	for i := range cfg.Policy.Rules {
		h := cfg.Policy.Rules[i].IdentityHeaders
		if h == nil {
			continue
		}
		names = append(names, h.User, h.Email, h.Roles, h.Session)
		names = append(names, slices.Collect(maps.Values(h.Claims))...)
		names = append(names, slices.Collect(maps.Keys(h.Set))...)
	}
	names = slices.DeleteFunc(names, func(s string) bool { return s == "" })
	if len(names) > 0 {
		ih.Strip = slices.Concat(ih.Strip, names)
	}
	return ih
}

// routeIdentity merges a rule's identity header overrides into the
// top-level settings. The top-level names a rule renames, and the fixed
// headers it sets, are still stripped from the client's request in every
// spelling: the app behind one route must not receive a forged copy of a
// header another route's app trusts.
func routeIdentity(top config.IdentityHeaders, o *config.RouteHeaders) config.IdentityHeaders {
	m := top
	m.Claims = maps.Clone(top.Claims)
	if m.Claims == nil {
		m.Claims = map[string]string{}
	}
	m.Strip = slices.Concat(top.Strip, []string{top.User, top.Email, top.Roles, top.Session}, slices.Collect(maps.Values(top.Claims)), slices.Collect(maps.Keys(o.Set)))
	m.Strip = slices.DeleteFunc(m.Strip, func(s string) bool { return s == "" })
	for _, f := range []struct {
		dst *string
		v   string
	}{{&m.User, o.User}, {&m.Email, o.Email}, {&m.Roles, o.Roles}, {&m.Session, o.Session}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	maps.Copy(m.Claims, o.Claims)
	return m
}

// matchRoute matches the request's host, path and method against the
// rules, without a principal; the caller decides later with DecideMatch.
func (g *Gateway) matchRoute(host, path, method string) (policy.Match, *route) {
	m := g.policy.Match(policy.Request{Host: policy.CanonicalHost(host), Path: path, Method: method})
	return m, g.routes.at(m.Index())
}

// noRoute answers a request whose rule has nowhere to send it.
func (g *Gateway) noRoute(w http.ResponseWriter, r *http.Request, rt *route, host string) {
	g.metrics.Request(rt.name, http.StatusNotFound)
	g.writeErrorCORS(w, r, rt.co, &Error{Status: http.StatusNotFound, Code: CodeNoRoute, API: true,
		Message: "No application is served at this address.",
		Err:     fmt.Errorf("rule %q names no upstream and upstream.url is empty (host %q)", rt.name, host)})
}
