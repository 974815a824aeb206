package proxy

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/session"
)

// reqContext is what the gateway learns about a request before deciding.
// The client IP (through trusted proxies) is computed only where it is
// needed — login limits and new sessions — not on every request.
type reqContext struct {
	id         string
	trusted    bool // the peer is a trusted proxy
	headerMode bool // X-Auth-Mode: header — tokens in bodies, never cookies
}

// serveAuth answers the gateway's own endpoints under the auth prefix.
func (g *Gateway) serveAuth(w http.ResponseWriter, r *http.Request, ctx *reqContext, endpoint string) {
	switch endpoint {
	case "/login":
		g.serveLogin(w, r, ctx)
	case "/refresh":
		if !g.allow(w, r, http.MethodPost, http.MethodGet) {
			return
		}
		if r.Method == http.MethodGet {
			g.refreshAndReturn(w, r)
			return
		}
		g.serveRefresh(w, r, ctx)
	case "/verify":
		g.serveVerify(w, r, ctx)
	case "/logout":
		if !g.allow(w, r, http.MethodPost, http.MethodGet) {
			return
		}
		g.serveLogout(w, r, ctx)
	case "/session":
		if !g.allow(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		g.serveSession(w, r, ctx)
	case "/jwks.json":
		if !g.allow(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(g.keys.JWKS())
	default:
		if rest, ok := strings.CutPrefix(endpoint, "/oidc/"); ok {
			g.serveOIDC(w, r, ctx, rest)
			return
		}
		g.writeError(w, r, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "No such gateway endpoint."})
	}
}

// allow answers 405 unless r uses one of methods.
func (g *Gateway) allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	g.writeError(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed, Message: "Use " + strings.Join(methods, " or ") + "."})
	return false
}

// authenticate verifies the request's credential and, in cookie mode,
// transparently refreshes an expired access token: the rotated cookie is
// set on w and the request carries on as the refreshed principal.
func (g *Gateway) authenticate(w http.ResponseWriter, r *http.Request) (session.Result, error) {
	res, err := g.auth.Authenticate(r)
	if !errors.Is(err, session.ErrTokenExpired) || res.Bearer || res.Cookie == nil || res.Cookie.Refresh == "" {
		return res, err
	}
	issued, rerr := g.sessions.Refresh(r.Context(), res.Cookie.Refresh, g.freshIdentity)
	g.metrics.Refresh(issued.Outcome, rerr)
	if rerr != nil {
		g.logRefreshFailure(r, rerr)
		res.ClearCookie = !errors.Is(rerr, session.ErrStoreUnavailable)
		return res, rerr
	}
	g.cookies.Set(w.Header(), session.CookieValue{Access: issued.Access, Refresh: issued.Refresh})
	if g.debugOn(areaRefresh) {
		g.debugLog(areaRefresh, "transparent refresh", "session", issued.Principal.SessionID, "user", issued.Principal.Subject)
	}
	res.Principal = issued.Principal
	res.Cookie = &session.CookieValue{Access: issued.Access, Refresh: issued.Refresh}
	return res, nil
}

// logRefreshFailure records why a refresh failed; reuse is a security
// event and is logged as a warning (ids only, never tokens).
func (g *Gateway) logRefreshFailure(r *http.Request, err error) {
	if errors.Is(err, session.ErrRefreshReused) {
		// The error names the session and user, never the token.
		g.log.Warn("refresh token reused: session revoked", "cause", err.Error(), "path", r.URL.Path)
		return
	}
	if g.debugOn(areaRefresh) {
		g.debugLog(areaRefresh, "refresh failed", "cause", err.Error())
	}
}

// serveRefresh rotates the refresh token: from the cookie in cookie mode,
// from the body or Authorization header in header mode.
func (g *Gateway) serveRefresh(w http.ResponseWriter, r *http.Request, ctx *reqContext) {
	var token string
	if ctx.headerMode {
		t, err := readRefreshToken(r)
		if err != nil {
			g.writeError(w, r, authError(err))
			return
		}
		token = t
	} else {
		res, err := g.auth.Authenticate(r)
		if res.Cookie == nil || res.Cookie.Refresh == "" {
			if res.ClearCookie {
				g.cookies.Clear(w.Header())
			}
			if err == nil || errors.Is(err, session.ErrTokenExpired) {
				err = session.ErrNoCredentials
			}
			g.writeError(w, r, authError(err))
			return
		}
		token = res.Cookie.Refresh
	}
	issued, err := g.sessions.Refresh(r.Context(), token, g.freshIdentity)
	g.metrics.Refresh(issued.Outcome, err)
	if err != nil {
		g.logRefreshFailure(r, err)
		if !ctx.headerMode && !errors.Is(err, session.ErrStoreUnavailable) {
			g.cookies.Clear(w.Header())
		}
		g.writeError(w, r, authError(err))
		return
	}
	if !ctx.headerMode {
		g.cookies.Set(w.Header(), session.CookieValue{Access: issued.Access, Refresh: issued.Refresh})
	}
	g.writeIssued(w, ctx, issued)
}

// serveSession answers the current session as JSON, for single-page apps
// that cannot read an HttpOnly cookie. An expired access token in cookie
// mode is refreshed first, as on any proxied request.
func (g *Gateway) serveSession(w http.ResponseWriter, r *http.Request, ctx *reqContext) {
	res, err := g.authenticate(w, r)
	if err != nil {
		if res.ClearCookie {
			g.cookies.Clear(w.Header())
		}
		e := authError(err)
		e.API = true // answer 401, never a login redirect
		g.writeError(w, r, e)
		return
	}
	var recp *session.Record
	if sid := res.Principal.SessionID; sid != "" { // none for an external token
		if rec, err := g.sessions.Get(r.Context(), sid); err == nil {
			recp = &rec
		}
	}
	writeJSON(w, http.StatusOK, newSessionInfo(res.Principal, recp))
}

// serveLogout ends the request's session (or, with all=1, every session
// of its user) and clears the cookie with the attributes it was set with,
// plus legacy ones. POST answers 204 (or 303 to rd for a form); GET, for
// browser navigations, redirects to the validated rd.
//
// A session from a provider with logout enabled is then ended at the
// provider too: the browser is redirected to its end_session_endpoint
// instead (which later returns it to rd), and an API caller gets that URL
// as {"logout_url": ...} to navigate to. The gateway's session is always
// ended first, whatever the provider does.
func (g *Gateway) serveLogout(w http.ResponseWriter, r *http.Request, ctx *reqContext) {
	all := r.URL.Query().Get("all") == "1"
	sid, err := g.endSession(r, ctx, all)
	if err != nil && errors.Is(err, session.ErrStoreUnavailable) {
		g.writeError(w, r, authError(err))
		return
	}
	source := g.logoutSource(r.Context(), sid)
	if !ctx.headerMode {
		g.cookies.Clear(w.Header())
	}
	w.Header().Set("Cache-Control", "no-store")
	rd := r.URL.Query().Get("rd")
	browser := r.Method == http.MethodGet || rd != "" || strings.Contains(r.Header.Get("Accept"), "text/html")
	to, _ := g.returnTo.Validate(rd)
	if u := g.oidc.logoutURL(source, to, g.log); u != "" {
		if !browser {
			writeJSON(w, http.StatusOK, logoutAnswer{LogoutURL: u})
			return
		}
		to = u
	}
	if browser {
		w.Header().Set("Location", to)
		if r.Method == http.MethodGet {
			w.WriteHeader(http.StatusFound)
		} else {
			w.WriteHeader(http.StatusSeeOther)
		}
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// logoutAnswer is a logout's JSON answer when the user must still sign
// out at the provider: the caller navigates the browser to LogoutURL.
type logoutAnswer struct {
	LogoutURL string `json:"logout_url"`
}

// endSession revokes the session the request carries, if any: found
// through a valid access token, or through the refresh half of the cookie
// (or a header-mode refresh token) when the access token has expired. It
// returns the session's id ("" when the request carried none).
func (g *Gateway) endSession(r *http.Request, ctx *reqContext, all bool) (string, error) {
	res, _ := g.auth.Authenticate(r)
	var sid, subject string
	switch {
	case res.Principal != nil:
		sid, subject = res.Principal.SessionID, res.Principal.Subject
	case res.Cookie != nil && res.Cookie.Refresh != "":
		sid, _ = g.sessions.SessionID(res.Cookie.Refresh)
	}
	if sid == "" {
		return "", nil
	}
	if all {
		if subject == "" {
			rec, err := g.sessions.Get(r.Context(), sid)
			if err != nil {
				return sid, err
			}
			subject = rec.Identity.Subject
		}
		g.log.Info("logout everywhere", "user", subject)
		return sid, g.sessions.LogoutUser(r.Context(), subject)
	}
	g.log.Info("logout", "session", sid)
	return sid, g.sessions.Logout(r.Context(), sid)
}

// freshIdentity reads a user's claims again at each rotation: from the
// users file for users-file sessions (a removed or disabled user ends the
// session); OIDC sessions ("oidc:<name>") ask the provider again when its
// recheck is on, else keep what its ID token said at login (oidcrecheck.go);
// grant sessions keep what the app vouched for at login.
func (g *Gateway) freshIdentity(ctx context.Context, rec session.Record) (session.Fresh, error) {
	if name, ok := strings.CutPrefix(rec.Source, oidcSourcePrefix); ok {
		return g.oidc.fresh(ctx, name, rec, g.log, g.metrics)
	}
	if rec.Source != sourceUsers {
		return session.Fresh{Identity: rec.Identity}, nil
	}
	if g.users == nil {
		return session.Fresh{}, session.ErrSessionRevoked
	}
	u, ok := g.users().Lookup(rec.Identity.Subject)
	if !ok || u.Disabled {
		return session.Fresh{}, session.ErrSessionRevoked
	}
	return session.Fresh{Identity: u.Identity()}, nil
}

// refreshAndReturn is GET <prefix>/refresh?rd=...: a browser navigation
// that rotates the session cookie and goes back to rd. Forward-auth sends
// browsers here (refresh=redirect) behind proxies that drop the cookie of
// an inline refresh. When the session cannot be refreshed, it goes to the
// login page instead, with the same return path.
func (g *Gateway) refreshAndReturn(w http.ResponseWriter, r *http.Request) {
	rd, _ := g.returnTo.Validate(r.URL.Query().Get("rd"))
	w.Header().Set("Cache-Control", "no-store")
	res, err := g.authenticate(w, r)
	if err != nil || res.Principal == nil {
		if res.ClearCookie {
			g.cookies.Clear(w.Header())
		}
		rd = g.prefix + "/login?rd=" + url.QueryEscape(rd)
	}
	w.Header().Set("Location", rd)
	w.WriteHeader(http.StatusFound)
}
