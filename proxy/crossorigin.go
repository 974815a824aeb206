package proxy

import (
	"net/http"

	"github.com/gatehouse/gatehouse/proxy/cors"
	"github.com/gatehouse/gatehouse/session"
)

// crossOrigin is CORS and CSRF in one place: one allowlist (cors) answers
// preflights, decorates every response and is the set of origins the CSRF
// check trusts.
type crossOrigin struct {
	cors *cors.Policy
	csrf *http.CrossOriginProtection
}

func newCrossOrigin(p *cors.Policy) (*crossOrigin, error) {
	csrf := http.NewCrossOriginProtection()
	for _, o := range p.ExactOrigins() {
		if o == "null" {
			continue
		}
		if err := csrf.AddTrustedOrigin(o); err != nil {
			return nil, err
		}
	}
	return &crossOrigin{cors: p, csrf: csrf}, nil
}

// checkCSRF rejects a cross-origin state-changing browser request unless
// its origin is in the allowlist (exact, or a subdomain pattern, which
// CrossOriginProtection cannot express).
func (co *crossOrigin) checkCSRF(r *http.Request) error {
	err := co.csrf.Check(r)
	if err == nil || co.cors.Allowed(r.Header.Get("Origin")) {
		return nil
	}
	return err
}

// isUnsafe reports whether a method can change state (RFC 9110 9.2.1).
func isUnsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// needsCSRFCheck reports whether r must pass the cross-origin check: a
// state-changing request that a cookie would authenticate (a bearer token
// is no ambient credential), and every state-changing call to the
// gateway's own endpoints (login CSRF, forced logout).
func (g *Gateway) needsCSRFCheck(r *http.Request, gatewayEndpoint bool) bool {
	if !isUnsafe(r.Method) {
		return false
	}
	if _, bearer, _ := session.BearerToken(r.Header); bearer {
		return false
	}
	if gatewayEndpoint {
		return true
	}
	return len(r.CookiesNamed(g.cookies.Name())) > 0
}
