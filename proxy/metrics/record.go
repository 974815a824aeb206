package metrics

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/session"
	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of gatehouse_requests_total, indexes into a rule's children.
const (
	outcomeAllowed = iota
	outcomeDenied
	outcomeError
	numOutcomes
)

func outcomeNames() [numOutcomes]string { return [...]string{"allowed", "denied", "error"} }

// outcomeOf classifies the status a request was answered with: below 400
// it went through (a proxied response, a login, a redirect), 4xx was
// refused, 5xx failed on the gateway's side (store unavailable, upstream
// down).
func outcomeOf(status int) int {
	switch {
	case status >= 500:
		return outcomeError
	case status >= 400:
		return outcomeDenied
	}
	return outcomeAllowed
}

// rule returns the requests_total children of a policy rule.
func (m *Metrics) rule(rule string) *[numOutcomes]prometheus.Counter {
	if rule == "" { // refused before matching (policy.Decision.Rule)
		rule = RuleNone
	}
	return m.byRule.get(rule)
}

// Request records a request answered with status under rule (a policy
// rule name, RuleAuth or RuleNone) in gatehouse_requests_total: allowed
// below 400, denied for 4xx, error for 5xx. Here and in Allowed and
// Denied, an empty rule (policy.Decision.Rule of a request refused before
// matching) counts as RuleNone.
func (m *Metrics) Request(rule string, status int) {
	if m == nil {
		return
	}
	m.rule(rule)[outcomeOf(status)].Inc()
}

// Allowed records a proxied request the policy allowed under rule:
// gatehouse_requests_total{rule, outcome="allowed"} and
// gatehouse_auth_decisions_total{result="allow", code=""}.
func (m *Metrics) Allowed(rule string) {
	if m == nil {
		return
	}
	m.rule(rule)[outcomeAllowed].Inc()
	m.allow.Inc()
}

// Denied records a proxied request refused under rule with an error code
// and status: gatehouse_requests_total{rule, outcome} (denied, or error
// for a 5xx such as STORE_UNAVAILABLE) and
// gatehouse_auth_decisions_total{result="deny", code}.
func (m *Metrics) Denied(rule, code string, status int) {
	if m == nil {
		return
	}
	m.rule(rule)[outcomeOf(status)].Inc()
	m.denyByCode.get(code).Inc()
}

// AuthDecision records a forward-auth decision in
// gatehouse_auth_decisions_total: allow when code is "", else deny with
// code. The verify request itself is counted under RuleAuth by Request.
func (m *Metrics) AuthDecision(code string) {
	if m == nil {
		return
	}
	if code == "" {
		m.allow.Inc()
		return
	}
	m.denyByCode.get(code).Inc()
}

// LoginResult is the result label of gatehouse_logins_total.
type LoginResult uint8

// Login results.
const (
	LoginSuccess            LoginResult = iota // a session was started
	LoginInvalidCredentials                    // unknown user, wrong password, invalid grant
	LoginDisabled                              // the account is disabled
	LoginRateLimited                           // refused by the per-IP or per-user limit
	LoginInvalidRequest                        // no username or password, malformed body
	LoginError                                 // the gateway failed (store unavailable)
	numLoginResults
)

// String returns the label value.
func (r LoginResult) String() string {
	switch r {
	case LoginSuccess:
		return "success"
	case LoginInvalidCredentials:
		return "invalid_credentials"
	case LoginDisabled:
		return "disabled"
	case LoginRateLimited:
		return "rate_limited"
	case LoginInvalidRequest:
		return "invalid_request"
	}
	return "error"
}

// LoginMethod is the method label of gatehouse_logins_total.
type LoginMethod uint8

// Login methods.
const (
	LoginForm  LoginMethod = iota // an HTML form post to the login endpoint
	LoginJSON                     // a JSON post to the login endpoint
	LoginGrant                    // an upstream grant (Gatehouse-Grant)
	LoginOIDC                     // an OpenID Connect provider's callback
	numLoginMethods
)

// String returns the label value.
func (meth LoginMethod) String() string {
	switch meth {
	case LoginForm:
		return "form"
	case LoginJSON:
		return "json"
	case LoginGrant:
		return "grant"
	}
	return "oidc"
}

// Login records a login attempt in gatehouse_logins_total.
func (m *Metrics) Login(result LoginResult, method LoginMethod) {
	if m == nil {
		return
	}
	m.logins[min(result, LoginError)][min(method, LoginOIDC)].Inc()
}

// Refresh results, indexes into Metrics.refreshes.
const (
	refreshRotated = iota
	refreshReissued
	refreshReused
	refreshExpired
	refreshRevoked
	refreshInvalid
	refreshUnavailable
	refreshError
	numRefreshResults
)

func refreshResultNames() [numRefreshResults]string {
	return [...]string{"rotated", "reissued", "reused", "expired", "revoked", "invalid", "unavailable", "error"}
}

// refreshResult classifies what session.Manager.Refresh returned. Reuse
// is checked first: it is the security event, even when sharing the
// resulting revocation failed too.
func refreshResult(o session.Outcome, err error) int {
	switch {
	case err == nil && o == session.Reissued:
		return refreshReissued
	case err == nil:
		return refreshRotated
	case errors.Is(err, session.ErrRefreshReused):
		return refreshReused
	case errors.Is(err, session.ErrStoreUnavailable):
		return refreshUnavailable
	case errors.Is(err, session.ErrSessionRevoked):
		return refreshRevoked
	case errors.Is(err, session.ErrSessionExpired), errors.Is(err, session.ErrSessionNotFound):
		return refreshExpired
	case errors.Is(err, session.ErrInvalidToken):
		return refreshInvalid
	}
	return refreshError
}

// Refresh records the result of session.Manager.Refresh — its Issued's
// Outcome and its error — in gatehouse_refreshes_total: rotated, reissued
// (the previous token within the grace window), reused (reuse detected:
// the session is revoked), expired (or gone), revoked, invalid (not a
// token this gateway issued), unavailable (the store), or error.
func (m *Metrics) Refresh(o session.Outcome, err error) {
	if m == nil {
		return
	}
	m.refreshes[refreshResult(o, err)].Inc()
}

// Revocation kinds, indexes into Metrics.revocations.
const (
	revokedSession = iota
	revokedUser
	revokedToken
	numRevocationKinds
)

func revocationKindNames() [numRevocationKinds]string {
	return [...]string{string(session.RevokeSessionKind), string(session.RevokeUserKind), string(session.RevokeTokenKind)}
}

// Revoked records a revocation made by this replica in
// gatehouse_revocations_total. It has the signature of
// session.ManagerOptions.OnRevoke.
func (m *Metrics) Revoked(kind session.RevocationKind) {
	if m == nil {
		return
	}
	switch kind {
	case session.RevokeSessionKind:
		m.revocations[revokedSession].Inc()
	case session.RevokeUserKind:
		m.revocations[revokedUser].Inc()
	case session.RevokeTokenKind:
		m.revocations[revokedToken].Inc()
	}
}

// Reconciled records a load of the shared revocation list into the
// mirror in gatehouse_revocation_reconciliations_total. It has the
// signature of session.MirrorOptions.OnSync.
func (m *Metrics) Reconciled(err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.reconciliations[1].Inc()
		return
	}
	m.reconciliations[0].Inc()
}

// WatchMirror makes gatehouse_revocation_mirror_staleness_seconds report
// mir.Age() at each scrape, once mir has been started. Without a mirror
// (a store that shares no revocations) the gauge is absent.
func (m *Metrics) WatchMirror(mir *session.Mirror) {
	if m == nil || mir == nil {
		return
	}
	m.mirror.watch(mir)
}

// Preflight records a CORS preflight in gatehouse_cors_preflights_total.
func (m *Metrics) Preflight(allowed bool) {
	if m == nil {
		return
	}
	if allowed {
		m.preflights[0].Inc()
		return
	}
	m.preflights[1].Inc()
}

// CORSRejected records, in gatehouse_cors_rejections_total, a
// cross-origin request from an origin the CORS policy does not allow.
func (m *Metrics) CORSRejected() {
	if m == nil {
		return
	}
	m.corsRejections.Inc()
}

// CSRFRejected records a request refused by the CSRF check in
// gatehouse_csrf_rejections_total. The request itself is counted in
// gatehouse_requests_total by the caller (Request), under the rule it
// was refused at.
func (m *Metrics) CSRFRejected() {
	if m == nil {
		return
	}
	m.csrfRejections.Inc()
}

// UpstreamErrorKind is the kind label of gatehouse_upstream_errors_total.
type UpstreamErrorKind uint8

// Upstream error kinds.
const (
	UpstreamUnavailable UpstreamErrorKind = iota // not reachable, or the connection failed: 502
	UpstreamTimeout                              // no response headers in time: 504
	numUpstreamErrorKinds
)

// String returns the label value.
func (k UpstreamErrorKind) String() string {
	if k == UpstreamTimeout {
		return "timeout"
	}
	return "unavailable"
}

// isStoreFailure reports whether a store error is a failure of the store,
// rather than its answer about a session, or a caller that gave up.
func isStoreFailure(err error) bool {
	return err != nil &&
		!errors.Is(err, session.ErrSessionNotFound) &&
		!errors.Is(err, session.ErrSessionExpired) &&
		!errors.Is(err, session.ErrSessionRevoked) &&
		!errors.Is(err, session.ErrRefreshReused) &&
		!errors.Is(err, context.Canceled)
}

// JWKSFetched counts one fetch of issuer's key set (issuer is a
// configured issuer, never a token's claim), failed when err is set.
func (m *Metrics) JWKSFetched(issuer string, err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.jwksFetches.WithLabelValues(issuer, result).Inc()
}
