package proxy

// Metrics wiring (issue #8). Package metrics defines and records the
// metrics; this file holds the little the request path needs besides, so
// that every call site in the handlers is one line. Every g.metrics
// method is a no-op on a nil *metrics.Metrics (Options.Metrics unset).

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/proxy/metrics"
	"github.com/gatehouse/gatehouse/session"
	"github.com/prometheus/client_golang/prometheus"
)

// instrument builds the gateway's metrics from opts and returns store
// wrapped to time its operations. New calls it once, after the
// configuration has been found valid, so a refused configuration
// registers nothing.
func (g *Gateway) instrument(opts Options, store session.Store) session.Store {
	g.metrics = metrics.New(opts.Metrics)
	g.metrics.SetBuildInfo(opts.Version)
	g.gatherer = opts.Gatherer
	if g.gatherer == nil {
		g.gatherer, _ = opts.Metrics.(prometheus.Gatherer) // a *prometheus.Registry is both
	}
	return metrics.InstrumentStore(store, g.metrics)
}

// metricsHandler serves GET /metrics on the admin listener (never on the
// public one) from the gatherer; without one, /metrics is a 404.
func (g *Gateway) metricsHandler() http.Handler {
	if g.gatherer == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			g.writeError(w, r, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "Metrics are off: the gateway was built without a metrics registry."})
		})
	}
	return metrics.Handler(g.gatherer, g.log)
}

// serveEndpoint serves a gateway endpoint and counts it in
// gatehouse_requests_total{rule="auth"} by the status it was answered
// with. Without metrics it adds nothing, not even the status recorder.
func (g *Gateway) serveEndpoint(w http.ResponseWriter, r *http.Request, ctx *reqContext, endpoint string) {
	if g.metrics == nil {
		g.serveAuth(w, r, ctx, endpoint)
		return
	}
	sw := &statusRecorder{ResponseWriter: w}
	g.serveAuth(sw, r, ctx, endpoint)
	g.metrics.Request(metrics.RuleAuth, sw.status())
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	code int // 0 until the final status is written
}

// WriteHeader implements http.ResponseWriter.
func (w *statusRecorder) WriteHeader(code int) {
	if w.code == 0 && code >= 200 { // 1xx are informational, not the answer
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// status is the answer's status; a handler that wrote nothing answered 200.
func (w *statusRecorder) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// countCORSRejection counts, in gatehouse_cors_rejections_total, a
// cross-origin request whose origin the CORS policy does not allow: the
// browser will withhold the answer from the page. It is the signal of a
// frontend origin missing from cors.allowed_origins.
func (g *Gateway) countCORSRejection(r *http.Request, co *crossOrigin) {
	if g.metrics == nil {
		return
	}
	origin := r.Header.Get("Origin")
	if origin == "" || !isCrossOrigin(r, origin) || co.cors.Allowed(origin) {
		return
	}
	g.metrics.CORSRejected()
}

// isCrossOrigin reports whether a request with this Origin comes from
// another origin: by Sec-Fetch-Site when the browser sent it, else by
// comparing the Origin's host with the request's, as
// http.CrossOriginProtection does.
func isCrossOrigin(r *http.Request, origin string) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
	default:
		return true
	}
	_, host, ok := strings.Cut(origin, "://")
	return !ok || !strings.EqualFold(host, r.Host) // "null" is always cross-origin
}

// loginMethod is the method label of a login to the login endpoint.
func loginMethod(json bool) metrics.LoginMethod {
	if json {
		return metrics.LoginJSON
	}
	return metrics.LoginForm
}

// loginResult is the result label of a failed login, from its error code.
func loginResult(code string) metrics.LoginResult {
	switch code {
	case CodeInvalidCredentials, CodeOIDCStateInvalid, CodeOIDCCallbackError, CodeOIDCTokenInvalid, CodeOIDCRequirementNotMet:
		return metrics.LoginInvalidCredentials
	case CodeAccountDisabled:
		return metrics.LoginDisabled
	case CodeRateLimited:
		return metrics.LoginRateLimited
	case CodeInvalidRequest:
		return metrics.LoginInvalidRequest
	}
	return metrics.LoginError
}
