package proxy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Back-channel logout (OpenID Connect Back-Channel Logout 1.0,
// https://openid.net/specs/openid-connect-backchannel-1_0.html): when the
// user's session at the provider ends, the provider POSTs a signed logout
// token to <prefix>/oidc/<name>/backchannel-logout, and the gateway ends
// that user's sessions from this provider. The token is the only
// credential: no cookie, no client authentication.
//
// Sessions are found by the token's sub, which config requires to be the
// gateway subject (claims.subject empty or "sub"). The provider's sid is
// not kept in session records (that would change every store), so a
// token with sid only cannot be matched: it is answered 400 (section 2.8:
// the logout failed), and logged with the fix. A token with both ends
// every session of sub from this provider, which covers the sid's.

// backchannelEvent is the member of a logout token's events claim that
// makes it one (section 2.4).
const backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// maxLogoutRequestBytes bounds the form body of a logout request: a
// logout token is a JWT of a few hundred bytes to a few kilobytes.
const maxLogoutRequestBytes = 16 << 10

// maxUsedLogoutTokens bounds the in-process set of logout token ids seen.
const maxUsedLogoutTokens = 10_000

// Why a logout request is refused. Each is answered 400 (section 2.8).
var (
	// errLogoutToken: the request or its token is not a valid logout
	// request (error invalid_request).
	errLogoutToken = errors.New("oidc: logout token refused")
	// errLogoutReplayed: a valid token whose jti was seen within its
	// lifetime; it matches errLogoutToken.
	errLogoutReplayed = fmt.Errorf("%w: jti already used", errLogoutToken)
	// errLogoutNoSubject: a valid token without sub; the gateway cannot
	// tell which sessions it names.
	errLogoutNoSubject = errors.New("oidc: logout token has no sub")
)

// logoutToken is what a verified logout token says.
type logoutToken struct {
	Subject, SessionID, TokenID string
	Expiry                      time.Time
}

// verifyLogout validates a logout token as section 2.6 says: the JWS
// typ (when present) is logout+jwt; the signature verifies with the
// provider's keys and an algorithm pinned as for ID tokens; iss is the
// issuer, aud contains client_id; iat and exp are present, exp not past
// (with tokens.leeway) and iat not in the future; events holds the
// back-channel logout member, an object; sub or sid is present; there is
// no nonce (an ID token is not a logout token); and jti was not seen
// before within the token's lifetime. The jti is recorded only when
// everything else holds.
func (p *oidcProvider) verifyLogout(ctx context.Context, d *discovered, raw string) (logoutToken, error) {
	if err := checkLogoutTyp(raw); err != nil {
		return logoutToken{}, err
	}
	// VerifyLogout checks the signature (algorithms from discovery, as for
	// ID tokens), iss, aud, jti, exp present, sub or sid, events present
	// and no nonce. Its exp check has no leeway: it is skipped there and
	// done below.
	//
	// A forged token costs no fetch of the provider's keys beyond one per
	// external_tokens.refetch_interval (oidckeys.go).
	t, err := d.logoutVerifier.VerifyLogout(p.ctx(ctx), raw)
	if err != nil {
		return logoutToken{}, fmt.Errorf("%w: %w", errLogoutToken, err)
	}
	now := p.now()
	switch {
	case t.IssuedAt.IsZero():
		return logoutToken{}, fmt.Errorf("%w: no iat", errLogoutToken)
	case t.IssuedAt.After(now.Add(p.leeway)):
		return logoutToken{}, fmt.Errorf("%w: iat %s is in the future", errLogoutToken, t.IssuedAt.UTC().Format(time.RFC3339))
	case !now.Before(t.Expiry.Add(p.leeway)):
		return logoutToken{}, fmt.Errorf("%w: expired at %s", errLogoutToken, t.Expiry.UTC().Format(time.RFC3339))
	}
	var c struct {
		Events map[string]json.RawMessage `json:"events"`
	}
	if err := t.Claims(&c); err != nil {
		return logoutToken{}, fmt.Errorf("%w: events: %w", errLogoutToken, err)
	}
	if ev := bytes.TrimSpace(c.Events[backchannelEvent]); len(ev) == 0 || ev[0] != '{' {
		return logoutToken{}, fmt.Errorf("%w: events has no %s object", errLogoutToken, backchannelEvent)
	}
	if !p.jtis.use(p.name+"\x00"+t.TokenID, t.Expiry.Add(p.leeway), now) {
		return logoutToken{}, errLogoutReplayed
	}
	return logoutToken{Subject: t.Subject, SessionID: t.SessionID, TokenID: t.TokenID, Expiry: t.Expiry}, nil
}

// checkLogoutTyp refuses a JWS whose typ header is present and is not
// logout+jwt (section 2.4, and 4.1: another kind of JWT from the same
// provider must not pass for a logout token). The application/ prefix
// may be left out (RFC 7515 section 4.1.9); case does not matter.
func checkLogoutTyp(raw string) error {
	h64, _, ok := strings.Cut(raw, ".")
	hdr, err := base64.RawURLEncoding.DecodeString(h64)
	if !ok || err != nil {
		return fmt.Errorf("%w: not a JWS", errLogoutToken)
	}
	var h struct {
		Typ *string `json:"typ"`
	}
	if err := json.Unmarshal(hdr, &h); err != nil {
		return fmt.Errorf("%w: header: %w", errLogoutToken, err)
	}
	if h.Typ == nil {
		return nil
	}
	typ := strings.ToLower(*h.Typ)
	if typ != "logout+jwt" && typ != "application/logout+jwt" {
		return fmt.Errorf("%w: typ %q is not logout+jwt", errLogoutToken, *h.Typ)
	}
	return nil
}

// oidcBackchannelLogout is POST <prefix>/oidc/<name>/backchannel-logout.
// It answers 200 once the sessions are ended (none is fine: the user may
// be signed out already, section 2.7), and 400 with
// {"error", "error_description"} otherwise (section 2.8), never a 5xx;
// the cause goes to the log, the token never does.
func (g *Gateway) oidcBackchannelLogout(w http.ResponseWriter, r *http.Request, p *oidcProvider) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxLogoutRequestBytes)
	if err := r.ParseForm(); err != nil {
		g.backchannelFail(w, p, fmt.Errorf("%w: form: %w", errLogoutToken, err))
		return
	}
	raw := r.PostForm.Get("logout_token")
	if raw == "" {
		g.backchannelFail(w, p, fmt.Errorf("%w: no logout_token in a form body", errLogoutToken))
		return
	}
	d, err := p.discover()
	if err != nil {
		g.backchannelFail(w, p, err)
		return
	}
	t, err := p.verifyLogout(r.Context(), d, raw)
	if err != nil {
		g.backchannelFail(w, p, err)
		return
	}
	if t.Subject == "" {
		g.backchannelFail(w, p, fmt.Errorf("%w (sid %q only)", errLogoutNoSubject, t.SessionID))
		return
	}
	// A provider that stops waiting (oidc-provider gives up after 2.5s)
	// must not leave some of the sessions ended and others not: the store's
	// own timeouts bound this.
	ended, err := g.sessions.LogoutSource(context.WithoutCancel(r.Context()), t.Subject, p.source)
	if err != nil {
		// Let the provider (or an operator) send it again.
		p.jtis.forget(p.name + "\x00" + t.TokenID)
		g.backchannelFail(w, p, err)
		return
	}
	g.log.Info("oidc back-channel logout", "provider", p.name, "user", t.Subject, "sessions", len(ended))
	w.WriteHeader(http.StatusOK)
}

// backchannelFail answers a refused or failed back-channel logout: 400
// with an OAuth-style error body (section 2.8) and a description that
// names the kind of failure, not its details; those go to the log.
func (g *Gateway) backchannelFail(w http.ResponseWriter, p *oidcProvider, err error) {
	code, desc := "invalid_request", "The logout token is not valid."
	switch {
	case errors.Is(err, errLogoutReplayed):
		desc = "This logout token was already received."
	case errors.Is(err, errLogoutNoSubject):
		desc = "The logout token has no sub; the gateway finds sessions by sub."
	case errors.Is(err, errProviderUnavailable):
		code, desc = "temporarily_unavailable", "The provider's discovery cannot be read now."
	case !errors.Is(err, errLogoutToken):
		code, desc = "temporarily_unavailable", "The sessions could not be ended now."
	}
	g.log.Warn("oidc back-channel logout refused", "provider", p.name, "error", code, "cause", err.Error())
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
}
