package proxy

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/session"
)

// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): after the
// gateway's own session has ended, the browser is sent to the provider's
// end_session_endpoint so that the provider's session ends too, and the
// next "sign in with X" asks for a password again.
//
// No ID token is kept for id_token_hint: it would grow every session
// record by one to two kilobytes of signed personal data, and the
// specification (section 2) lets client_id identify the client instead,
// which is what validates post_logout_redirect_uri. Providers that insist
// on id_token_hint are documented in docs/oidc.md.

// errBadLogoutState marks a post-logout landing whose state is missing,
// forged or expired; the browser then goes to "/".
var errBadLogoutState = errors.New("oidc: invalid logout state")

// logoutStateLabel separates the MAC of a logout state from the state
// cookie's, which uses the same key: one can never pass for the other.
const logoutStateLabel = "gatehouse oidc logout state v1\x00"

// logoutState is what the state parameter of a logout at the provider
// carries to the post-logout landing: the logout's (validated) return
// path. It is signed, not secret.
type logoutState struct {
	Provider string `json:"p"`
	RD       string `json:"r"`
	Expires  int64  `json:"e"` // Unix seconds
}

// logoutState returns the signed state of a logout at provider that
// returns to rd, valid for oidc.state_ttl.
func (c *stateCookies) logoutState(provider, rd string) string {
	payload, _ := json.Marshal(logoutState{Provider: provider, RD: rd, Expires: c.now().Add(c.ttl).Unix()})
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(c.logoutMAC(payload))
}

// openLogoutState verifies a logout state for provider and returns its
// return path.
func (c *stateCookies) openLogoutState(provider, v string) (string, error) {
	p64, m64, ok := strings.Cut(v, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	sig, err2 := base64.RawURLEncoding.DecodeString(m64)
	if !ok || err1 != nil || err2 != nil || !hmac.Equal(sig, c.logoutMAC(payload)) {
		return "", fmt.Errorf("%w: the signature does not verify", errBadLogoutState)
	}
	var s logoutState
	if err := json.Unmarshal(payload, &s); err != nil {
		return "", fmt.Errorf("%w: %w", errBadLogoutState, err)
	}
	if c.now().Unix() >= s.Expires {
		return "", fmt.Errorf("%w: the logout took longer than oidc.state_ttl", errBadLogoutState)
	}
	if s.Provider != provider {
		return "", fmt.Errorf("%w: issued for another provider", errBadLogoutState)
	}
	return s.RD, nil
}

func (c *stateCookies) logoutMAC(payload []byte) []byte {
	return c.mac(append([]byte(logoutStateLabel), payload...))
}

// endSessionEndpoint returns the end_session_endpoint of discovery
// metadata when it is an absolute http(s) URL; anything else (absent, or
// a javascript: URL from a compromised discovery document) is unusable
// and means a local logout.
func endSessionEndpoint(raw string) string {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	return raw
}

// endSessionURL is where the browser goes to sign out at the provider:
// its end_session_endpoint with client_id, post_logout_redirect_uri and a
// signed state carrying rd. Parameters the endpoint URL already has are
// kept.
func (p *oidcProvider) endSessionURL(d *discovered, rd string) string {
	u, _ := url.Parse(d.endSession) // checked by endSessionEndpoint
	q := u.Query()
	q.Set("client_id", p.oauth.ClientID)
	q.Set("post_logout_redirect_uri", p.postLogout)
	q.Set("state", p.state.logoutState(p.name, rd))
	u.RawQuery = q.Encode()
	return u.String()
}

// logoutURL returns the provider logout URL for a session from source
// ending with return path rd, or "" for a local logout only: the session
// is not from a provider, its provider has logout off or is gone from the
// configuration, cannot be reached, or has no end_session_endpoint. It
// never fails the logout.
func (o *oidcLogins) logoutURL(source, rd string, log *slog.Logger) string {
	name, ok := strings.CutPrefix(source, oidcSourcePrefix)
	p := o.byName[name]
	if !ok || p == nil || !p.logout {
		return ""
	}
	d, err := p.discover()
	if err != nil {
		log.Warn("oidc logout: provider unavailable; the session ended here only", "provider", name, "cause", err.Error())
		return ""
	}
	if d.endSession == "" {
		o.warnNoEndSession(p, d, log)
		return ""
	}
	return p.endSessionURL(d, rd)
}

// warnNoEndSession logs, once per discovery, that provider p has logout
// enabled but no usable end_session_endpoint.
func (o *oidcLogins) warnNoEndSession(p *oidcProvider, d *discovered, log *slog.Logger) {
	if p.logout && d.endSession == "" && d.warnedNoEndSession.CompareAndSwap(false, true) {
		log.Warn("oidc logout: the provider's discovery has no usable end_session_endpoint; logouts end the gateway session only",
			"provider", p.name, "fix", "turn off oidc.providers[].logout.enabled for this provider, or enable RP-initiated logout at the provider")
	}
}

// logoutSource returns the source of the ended session sid ("oidc:<name>"
// for a provider's), so the logout knows where else to sign out. The
// store keeps an ended session's record, marked revoked, until it would
// have expired. Only read when some provider has logout on; any failure
// means a local logout only.
func (g *Gateway) logoutSource(ctx context.Context, sid string) string {
	if sid == "" || !g.oidc.logoutOn {
		return ""
	}
	rec, err := g.sessions.Get(ctx, sid)
	if errors.Is(err, session.ErrSessionNotFound) {
		return "" // gone already: nothing is known about it
	}
	if err != nil {
		g.log.Warn("oidc logout: the ended session's record cannot be read; the session ended here only", "session", sid, "cause", err.Error())
		return ""
	}
	return rec.Source
}

// oidcLoggedOut is <prefix>/oidc/<name>/logged-out, where the provider
// sends the browser after signing out: on to the return path signed into
// state, validated again (a reload may have narrowed the allowlist). A
// missing or bad state goes to "/": the user is signed out either way.
func (g *Gateway) oidcLoggedOut(w http.ResponseWriter, r *http.Request, p *oidcProvider) {
	rd, err := p.state.openLogoutState(p.name, r.URL.Query().Get("state"))
	if err != nil && g.debugOn(areaSession) {
		g.debugLog(areaSession, "post-logout landing without a valid state", "provider", p.name, "cause", err.Error())
	}
	to, _ := g.returnTo.Validate(rd)
	w.Header().Set("Location", to)
	w.WriteHeader(http.StatusFound)
}
