package cors

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/config"
)

// IsPreflight reports whether r is a CORS-preflight request: OPTIONS with
// Origin and Access-Control-Request-Method
// (https://fetch.spec.whatwg.org/#cors-preflight-request). Any other
// OPTIONS request is an ordinary one for the upstream.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions &&
		r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// Preflight answers the preflight r with 204 No Content; the caller MUST
// NOT forward it. When the origin, the method and every requested header
// are allowed, the answer carries Access-Control-Allow-Origin (the
// request's Origin), Access-Control-Allow-Credentials when configured,
// Access-Control-Allow-Methods, Access-Control-Allow-Headers (the
// requested headers, in canonical form) and Access-Control-Max-Age, and
// reason is "". Otherwise it carries no Access-Control-Allow-* header at
// all and reason says why, for the debug log: "origin not allowed",
// "method PATCH not allowed", "header X-Foo not allowed". Either way it
// varies on Origin and the two request headers.
func (p *Policy) Preflight(w http.ResponseWriter, r *http.Request) (reason string) {
	h := w.Header()
	stripAccessControl(h)
	addVary(h, "Origin")
	addVary(h, "Access-Control-Request-Method")
	addVary(h, "Access-Control-Request-Headers")

	origin := r.Header.Get("Origin")
	allowHeaders, reason := p.decide(origin, r.Header.Get("Access-Control-Request-Method"),
		r.Header.Values("Access-Control-Request-Headers"))
	if reason == "" {
		h.Set("Access-Control-Allow-Origin", origin)
		if p.credentials {
			// The preflight itself never carries cookies, but it must
			// announce that the actual request may
			// (https://fetch.spec.whatwg.org/#cors-protocol-and-credentials).
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		h.Set("Access-Control-Allow-Methods", p.allowMethods)
		if allowHeaders != "" {
			h.Set("Access-Control-Allow-Headers", allowHeaders)
		}
		h.Set("Access-Control-Max-Age", p.maxAge)
	}
	w.WriteHeader(http.StatusNoContent)
	return reason
}

// decide is the preflight decision, from the values of Origin,
// Access-Control-Request-Method and Access-Control-Request-Headers. It
// returns the Access-Control-Allow-Headers value when allowed, else a
// reason.
func (p *Policy) decide(origin, method string, requestHeaders []string) (allowHeaders, reason string) {
	if !p.Allowed(origin) {
		return "", "origin not allowed"
	}
	if !config.IsToken(method) {
		return "", "malformed Access-Control-Request-Method"
	}
	if _, ok := p.methods[method]; !ok {
		return "", "method " + method + " not allowed"
	}
	var allowed []string
	for _, line := range requestHeaders {
		// The value is a comma-separated list of lower-case names
		// (https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names);
		// other clients may differ in case and spacing.
		for name := range strings.SplitSeq(line, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if !config.IsToken(name) {
				return "", "malformed Access-Control-Request-Headers"
			}
			canonical, ok := p.headers[strings.ToLower(name)]
			if !ok {
				return "", "header " + http.CanonicalHeaderKey(name) + " not allowed"
			}
			allowed = append(allowed, canonical)
		}
	}
	return strings.Join(allowed, ", "), ""
}
