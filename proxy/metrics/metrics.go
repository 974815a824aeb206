package metrics

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "gatehouse"

// Values of the rule label of gatehouse_requests_total that are not the
// names of policy rules. A policy rule may not be named "default" (policy
// reserves it); naming one "auth" or "none" would merge its series with
// these, so don't.
const (
	// RuleAuth labels requests answered by the gateway's own endpoints
	// under the auth prefix: login, refresh, verify, logout, session, jwks.
	RuleAuth = "auth"
	// RuleNone labels requests refused before the policy chose a rule: a
	// path that is not canonical, a cross-origin request refused by the
	// CSRF check.
	RuleNone = "none"
)

// Metrics records the gateway's metrics on the registry it was built
// with. Build it with New. A nil *Metrics is valid: every method then
// records nothing. Methods are safe for concurrent use.
type Metrics struct {
	requests   *prometheus.CounterVec
	byRule     children[*[numOutcomes]prometheus.Counter]
	decisions  *prometheus.CounterVec
	allow      prometheus.Counter
	denyByCode children[prometheus.Counter]

	refreshes       [numRefreshResults]prometheus.Counter
	logins          [numLoginResults][numLoginMethods]prometheus.Counter
	revocations     [numRevocationKinds]prometheus.Counter
	mirror          *mirrorAge
	issuers         *issuerReady
	verifyCache     *verifyCache
	reconciliations [2]prometheus.Counter // ok, error

	storeSeconds [numStoreOps]prometheus.Observer
	storeErrors  [numStoreOps]prometheus.Counter

	upstreamSeconds *prometheus.HistogramVec // upstream, class
	upstreamErrors  *prometheus.CounterVec   // upstream, kind

	preflights     [2]prometheus.Counter // allowed, refused
	corsRejections prometheus.Counter
	csrfRejections prometheus.Counter

	// jwksFetches counts fetches of external issuers' key sets; the
	// issuer label takes configured values only.
	jwksFetches *prometheus.CounterVec
	// oidcRechecks counts re-checks at OpenID Connect providers; the
	// provider label takes configured names only.
	oidcRechecks *prometheus.CounterVec

	buildInfo *prometheus.GaugeVec
}

// New registers the gateway's metrics on reg and returns them; with a nil
// reg it returns nil, which records nothing.
//
// Registering twice on one registry is not an error: the second Metrics
// shares the first one's collectors (a gateway rebuilt in the same
// process keeps its counters), and the staleness gauge follows the mirror
// most recently passed to WatchMirror. New panics, as
// prometheus.MustRegister does, if reg holds a different collector under
// one of these names: that is a programming error.
func New(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		return nil
	}
	m := &Metrics{}
	counter := func(name, help string) prometheus.Counter {
		return register(reg, prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}))
	}
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels))
	}
	histogramVec := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		return register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets}, labels))
	}

	m.requests = counterVec("requests_total",
		"Requests answered by the public listener, by policy rule (or auth, none) and outcome (allowed, denied, error).",
		"rule", "outcome")
	m.byRule.make = func(rule string) *[numOutcomes]prometheus.Counter {
		var cs [numOutcomes]prometheus.Counter
		for o, name := range outcomeNames() {
			cs[o] = m.requests.WithLabelValues(rule, name)
		}
		return &cs
	}
	m.byRule.get(RuleAuth)
	m.byRule.get(RuleNone)

	m.decisions = counterVec("auth_decisions_total",
		"Authentication and authorization decisions on proxied and forward-auth requests, by result (allow, deny) and error code.",
		"result", "code")
	m.allow = m.decisions.WithLabelValues("allow", "")
	m.denyByCode.make = func(code string) prometheus.Counter { return m.decisions.WithLabelValues("deny", code) }

	refreshes := counterVec("refreshes_total", "Refresh-token rotations, by result.", "result")
	for r, name := range refreshResultNames() {
		m.refreshes[r] = refreshes.WithLabelValues(name)
	}
	logins := counterVec("logins_total", "Login attempts, by result and method (form, json, grant).", "result", "method")
	for r := range numLoginResults {
		for meth := range numLoginMethods {
			m.logins[r][meth] = logins.WithLabelValues(r.String(), meth.String())
		}
	}
	revocations := counterVec("revocations_total", "Revocations made by this replica, by kind (session, user, token).", "kind")
	for k, name := range revocationKindNames() {
		m.revocations[k] = revocations.WithLabelValues(name)
	}
	m.mirror = register(reg, newMirrorAge())
	m.issuers = register(reg, newIssuerReady())
	m.verifyCache = register(reg, newVerifyCache())
	reconciliations := counterVec("revocation_reconciliations_total",
		"Loads of the shared revocation list into this replica's mirror, by result (ok, error).", "result")
	m.reconciliations[0], m.reconciliations[1] = reconciliations.WithLabelValues("ok"), reconciliations.WithLabelValues("error")

	storeSeconds := histogramVec("store_operation_duration_seconds", "Duration of session store operations, by operation.", storeBuckets(), "op")
	storeErrors := counterVec("store_errors_total",
		"Session store operations that failed (the store was unreachable or broken; not found, expired, revoked and reused are answers, not errors), by operation.",
		"op")
	for op, name := range storeOpNames() {
		m.storeSeconds[op] = storeSeconds.WithLabelValues(name)
		m.storeErrors[op] = storeErrors.WithLabelValues(name)
	}

	m.upstreamSeconds = histogramVec("upstream_request_duration_seconds",
		"Time from sending a request to the upstream to receiving its response headers, by upstream and response class (1xx to 5xx).",
		upstreamBuckets(), "upstream", "class")
	m.upstreamErrors = counterVec("upstream_errors_total",
		"Proxied requests the upstream did not answer, by upstream and kind (unavailable: 502, timeout: 504).", "upstream", "kind")

	preflights := counterVec("cors_preflights_total", "CORS preflight requests, by result (allowed, refused).", "result")
	m.preflights[0], m.preflights[1] = preflights.WithLabelValues("allowed"), preflights.WithLabelValues("refused")
	m.corsRejections = counter("cors_rejections_total",
		"Cross-origin requests (not preflights) from an origin the CORS policy does not allow: the browser withholds the response from the page.")
	m.csrfRejections = counter("csrf_rejections_total",
		"State-changing cross-origin requests refused by the CSRF check (403 CSRF_REJECTED).")

	m.jwksFetches = counterVec("jwks_fetches_total",
		"Fetches of external issuers' key sets (discovery, then the JWKS), by configured issuer and result (ok, error).", "issuer", "result")

	m.oidcRechecks = newRecheckVec(reg)

	m.buildInfo = register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help: "Always 1; the labels name the gateway's version and the Go version it was built with.",
	}, []string{"version", "goversion"}))
	return m
}

// register registers c on reg, or returns the collector already
// registered under the same descriptors.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(fmt.Sprintf("metrics: cannot register the gateway's metrics: %v", err))
}

// SetBuildInfo sets gatehouse_build_info{version, goversion} to 1. An
// empty version is reported as "unknown".
func (m *Metrics) SetBuildInfo(version string) {
	if m == nil {
		return
	}
	if version == "" {
		version = "unknown"
	}
	m.buildInfo.Reset()
	m.buildInfo.WithLabelValues(version, runtime.Version()).Set(1)
}

// storeBuckets suit a local or same-zone store: milliseconds, up to the
// 5s that exceeds any sensible store.timeout.
func storeBuckets() []float64 {
	return []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
}

// upstreamBuckets reach the default upstream.response_header_timeout (30s)
// and beyond.
func upstreamBuckets() []float64 {
	return []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
}
