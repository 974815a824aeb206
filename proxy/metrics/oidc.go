package metrics

import "github.com/prometheus/client_golang/prometheus"

// RecheckResult is the result label of gatehouse_oidc_recheck_total.
type RecheckResult uint8

// Results of re-checking a user at an OpenID Connect provider when a
// session's refresh token rotates (oidc.providers[].recheck).
const (
	// RecheckOK: the provider still vouches for the user; the session goes
	// on, with the fresh claims.
	RecheckOK RecheckResult = iota
	// RecheckEnded: the provider no longer vouches for the user (it
	// refused the refresh token, or the identity no longer meets the
	// requirements): the session is ended.
	RecheckEnded
	// RecheckUnavailable: the provider could not be asked (down, timed
	// out, answered 5xx); the session goes on with the identity it had.
	RecheckUnavailable
	numRecheckResults
)

// String returns the label value.
func (r RecheckResult) String() string {
	switch r {
	case RecheckOK:
		return "ok"
	case RecheckEnded:
		return "ended"
	}
	return "unavailable"
}

// newRecheckVec registers gatehouse_oidc_recheck_total{provider, result}.
func newRecheckVec(reg prometheus.Registerer) *prometheus.CounterVec {
	return register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "oidc_recheck_total",
		Help: "Re-checks of a user at an OpenID Connect provider at a session's refresh, by configured provider and result (ok, ended, unavailable).",
	}, []string{"provider", "result"}))
}

// OIDCRecheckProviders creates the gatehouse_oidc_recheck_total series of
// each provider (configured names, with recheck on) at 0, so that rate()
// and alerts work before the first refresh.
func (m *Metrics) OIDCRecheckProviders(providers []string) {
	if m == nil {
		return
	}
	for _, p := range providers {
		for r := range numRecheckResults {
			m.oidcRechecks.WithLabelValues(p, r.String())
		}
	}
}

// OIDCRecheck counts one re-check of a user at provider, which MUST be a
// configured provider's name (never a value from a token or a request):
// the label's values are bounded by the configuration.
func (m *Metrics) OIDCRecheck(provider string, result RecheckResult) {
	if m == nil {
		return
	}
	m.oidcRechecks.WithLabelValues(provider, min(result, RecheckUnavailable).String()).Inc()
}
