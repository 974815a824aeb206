package proxy

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/proxy/cors"
	"github.com/gatehouse/gatehouse/proxy/metrics"
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
	if !isUnsafe(r.Method) {
		// A WebSocket handshake (a GET) is judged as the state-changing
		// request it opens; CrossOriginProtection passes every GET.
		r = r.WithContext(r.Context())
		r.Method = http.MethodPost
	}
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

// isWebSocketUpgrade reports whether r opens a WebSocket. Browsers send
// cookies with a handshake from any page (SameSite permitting) and CORS
// does not apply to it, so a cookie-authenticated socket from a foreign
// origin is cross-site WebSocket hijacking (issue #10).
func isWebSocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// needsCSRFCheck reports whether r must pass the cross-origin check: a
// state-changing request or a WebSocket handshake that a cookie would
// authenticate (a bearer token is no ambient credential), and every
// state-changing call to the gateway's own endpoints (login CSRF, forced
// logout).
func (g *Gateway) needsCSRFCheck(r *http.Request, gatewayEndpoint bool) bool {
	if !isUnsafe(r.Method) && !isWebSocketUpgrade(r) {
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

// csrfRejected answers a cross-origin state-changing request that co's
// allowlist does not trust.
func (g *Gateway) csrfRejected(w http.ResponseWriter, r *http.Request, co *crossOrigin, err error) {
	g.metrics.CSRFRejected()
	g.metrics.Request(metrics.RuleNone, http.StatusForbidden)
	g.writeErrorCORS(w, r, co, &Error{Status: http.StatusForbidden, Code: CodeCSRFRejected, Message: "Cross-origin request refused: its origin is not allowed.", Err: err})
}
