package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/policy"
	"github.com/gatehouse/gatehouse/session"
)

// Error codes the gateway answers with. Each is documented in
// docs/errors.md; a test keeps that list and this one in step.
const (
	CodeUnauthenticated        = policy.CodeUnauthenticated
	CodeInsufficientRoles      = policy.CodeInsufficientRoles
	CodeClaimRequired          = policy.CodeClaimRequired
	CodeForbidden              = policy.CodeForbidden
	CodeTokenExpired           = "TOKEN_EXPIRED"
	CodeInvalidToken           = "INVALID_TOKEN"
	CodeMalformedAuthorization = "MALFORMED_AUTHORIZATION"
	CodeDuplicateSessionCookie = "DUPLICATE_SESSION_COOKIE"
	CodeInvalidPath            = "INVALID_PATH"
	CodeNotFound               = "NOT_FOUND"
	CodeMethodNotAllowed       = "METHOD_NOT_ALLOWED"
	CodeUpstreamUnavailable    = "UPSTREAM_UNAVAILABLE"
	CodeUpstreamTimeout        = "UPSTREAM_TIMEOUT"
	CodeInternal               = "INTERNAL_ERROR"
	CodeInvalidRequest         = "INVALID_REQUEST"
	CodeInvalidCredentials     = "INVALID_CREDENTIALS"
	CodeAccountDisabled        = "ACCOUNT_DISABLED"
	CodeRateLimited            = "RATE_LIMITED"
	CodeSessionExpired         = "SESSION_EXPIRED"
	CodeSessionRevoked         = "SESSION_REVOKED"
	CodeRefreshTokenReused     = "REFRESH_TOKEN_REUSED"
	CodeStoreUnavailable       = "STORE_UNAVAILABLE"
	CodeIssuerUnavailable      = "ISSUER_UNAVAILABLE"
	CodeCSRFRejected           = "CSRF_REJECTED"
	CodeUntrustedProxy         = "UNTRUSTED_PROXY"
	CodePreflightNotRouted     = "PREFLIGHT_NOT_ROUTED"
	CodeNoRoute                = "NO_ROUTE"
	// OpenID Connect sign-in (oidc.go).
	CodeOIDCStateInvalid        = "OIDC_STATE_INVALID"
	CodeOIDCCallbackError       = "OIDC_CALLBACK_ERROR"
	CodeOIDCTokenInvalid        = "OIDC_TOKEN_INVALID"
	CodeOIDCRequirementNotMet   = "OIDC_REQUIREMENT_NOT_MET"
	CodeOIDCProviderUnavailable = "OIDC_PROVIDER_UNAVAILABLE"
)

// Error is an error with the HTTP answer it deserves: a status, a stable
// code and a short message for the client. Err is the cause, for the log
// only; its text never reaches the client.
type Error struct {
	Status  int
	Code    string
	Message string
	Err     error
	// API marks an answer for a program, never a login redirect, even
	// when the request looks like a browser navigation.
	API bool
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// authError classifies a credential error from package session.
func authError(err error) *Error {
	switch {
	case errors.Is(err, session.ErrNoCredentials):
		return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: "Authentication is required.", Err: err}
	case errors.Is(err, session.ErrMalformedAuthorization):
		return &Error{Status: http.StatusBadRequest, Code: CodeMalformedAuthorization, Message: "The Authorization header is not a single well-formed Bearer token.", Err: err}
	case errors.Is(err, session.ErrDuplicateCookie):
		return &Error{Status: http.StatusUnauthorized, Code: CodeDuplicateSessionCookie, Message: "The request carried several session cookies; they have been cleared. Please sign in again.", Err: err}
	case errors.Is(err, session.ErrRefreshReused):
		return &Error{Status: http.StatusUnauthorized, Code: CodeRefreshTokenReused, Message: "This session was ended because an old refresh token was used again. Please sign in again.", Err: err}
	case errors.Is(err, session.ErrSessionRevoked):
		return &Error{Status: http.StatusUnauthorized, Code: CodeSessionRevoked, Message: "This session has ended. Please sign in again.", Err: err}
	case errors.Is(err, session.ErrSessionExpired), errors.Is(err, session.ErrSessionNotFound):
		return &Error{Status: http.StatusUnauthorized, Code: CodeSessionExpired, Message: "This session has expired. Please sign in again.", Err: err}
	case errors.Is(err, session.ErrStoreUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeStoreUnavailable, Message: "The session store is unavailable; try again shortly.", Err: err}
	case errors.Is(err, session.ErrIssuerUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeIssuerUnavailable, Message: "The token's issuer cannot be checked right now; try again shortly.", Err: err}
	case errors.Is(err, session.ErrRequirementNotMet):
		// A genuine token of a user this gateway does not admit.
		return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "Your account is not admitted here.", Err: err}
	case errors.Is(err, session.ErrTokenExpired):
		return &Error{Status: http.StatusUnauthorized, Code: CodeTokenExpired, Message: "The access token has expired.", Err: err}
	case errors.Is(err, session.ErrInvalidToken):
		return &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Message: "The access token is invalid.", Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "Internal error.", Err: err}
}

// denial turns a policy decision into an Error. When the decision is
// "who are you?" and the request did carry a credential, the credential's
// own error is more useful to the client (expired vs invalid).
func denial(d policy.Decision, authErr error) *Error {
	if d.Code == policy.CodeUnauthenticated {
		if authErr == nil {
			authErr = session.ErrNoCredentials
		}
		return authError(authErr)
	}
	msg := "You are not allowed to access this resource."
	switch d.Code {
	case policy.CodeInsufficientRoles:
		msg = "Your roles do not allow access to this resource."
	case policy.CodeClaimRequired:
		msg = "Your account lacks a property this resource requires."
	}
	return &Error{Status: http.StatusForbidden, Code: d.Code, Message: msg, Err: errors.New(d.Reason)}
}

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id,omitempty"`
	} `json:"error"`
}

// writeError is the one place errors become responses: JSON with a code,
// WWW-Authenticate on 401s (RFC 6750 section 3); for a browser navigation,
// a redirect to the login page when it needs a login, else the same error
// as a small HTML page.
func (g *Gateway) writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	g.writeErrorCORS(w, r, g.co, e)
}

// writeErrorCORS is writeError for a request of a route with its own CORS
// settings (co).
func (g *Gateway) writeErrorCORS(w http.ResponseWriter, r *http.Request, co *crossOrigin, e *Error) {
	g.logError(r, e)
	h := w.Header()
	// Error answers carry CORS headers too, so a frontend can read them.
	co.cors.Decorate(h, r.Header.Get("Origin"))
	if e.Status == http.StatusUnauthorized && !e.API && isNavigation(r) {
		h.Set("Location", g.loginURL(r))
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusFound)
		return
	}
	if e.Status == http.StatusUnauthorized || e.Code == CodeMalformedAuthorization {
		h.Set("WWW-Authenticate", wwwAuthenticate(e.Code))
	}
	if !e.API && isNavigation(r) {
		// A person reads this one (errorpage.go); scripts, API clients
		// and forward-auth proxies get the JSON below.
		renderErrorPage(w, e, h.Get(requestIDHeader))
		return
	}
	var body errorBody
	body.Error.Code = e.Code
	body.Error.Message = e.Message
	body.Error.RequestID = h.Get(requestIDHeader)
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(body)
}

// logError logs an error answer: the cause for the operator, which the
// client never sees.
func (g *Gateway) logError(r *http.Request, e *Error) {
	log := g.log.With("code", e.Code, "status", e.Status, "method", r.Method, "path", r.URL.Path)
	if e.Err != nil {
		log = log.With("cause", e.Err.Error())
	}
	if e.Code == CodeStoreUnavailable && g.debugOn(areaStore) {
		g.debugLog(areaStore, "store unavailable", "cause", fmt.Sprint(e.Err))
	}
	if e.Status >= 500 {
		log.Warn("request failed")
	} else {
		log.Debug("request denied")
	}
}

// wwwAuthenticate builds the RFC 6750 challenge. A request without any
// credential gets a bare challenge (section 3.1: no error code); an expired
// token is distinguished from an invalid one in error_description, so a
// client knows whether refreshing can help.
func wwwAuthenticate(code string) string {
	switch code {
	case CodeTokenExpired:
		return `Bearer error="invalid_token", error_description="The access token expired"`
	case CodeInvalidToken, CodeDuplicateSessionCookie:
		return `Bearer error="invalid_token", error_description="The access token is invalid"`
	case CodeSessionExpired, CodeSessionRevoked, CodeRefreshTokenReused:
		return `Bearer error="invalid_token", error_description="The session has ended"`
	case CodeMalformedAuthorization:
		return `Bearer error="invalid_request", error_description="Malformed Authorization header"`
	}
	return `Bearer`
}

// isNavigation reports whether r is a browser navigating (as opposed to a
// script or an API client): a GET or HEAD that accepts HTML and is not a
// fetch/XHR. Such a request is better answered with a login redirect than
// with JSON.
func isNavigation(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if m := r.Header.Get("Sec-Fetch-Mode"); m != "" && m != "navigate" {
		return false
	}
	if r.Header.Get("X-Requested-With") != "" || r.Header.Get("Authorization") != "" {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// loginURL is the login page with the current request as the return path.
// Only the path and query are carried: the return path stays on this host.
func (g *Gateway) loginURL(r *http.Request) string {
	rd := r.URL.RequestURI()
	return g.prefix + "/login?rd=" + url.QueryEscape(rd)
}
