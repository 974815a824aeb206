package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/proxy/metrics"
	"github.com/gatehouse/gatehouse/session"
)

// maxUsedStates bounds the in-process set of used sign-in states.
const maxUsedStates = 20_000

// oidcLogins holds the configured OpenID Connect providers, in file order
// (the order of the login page's buttons).
type oidcLogins struct {
	list   []*oidcProvider
	byName map[string]*oidcProvider
	secret string      // session.secret the state key was derived from
	key    []byte      // the state-cookie key
	used   *usedStates // shared by the providers
	jtis   *usedStates // back-channel logout token ids seen, shared by the providers
	seal   *sealer     // seals provider refresh tokens kept in session records
	// logoutOn is set when some provider has logout enabled: only then
	// does a logout read the session record to learn its source.
	logoutOn bool
}

// newOIDCLogins prepares the providers of cfg. On a reload (prev set) the
// used states carry over, and the state key too unless session.secret
// changed, so sign-ins in flight complete and replays stay refused.
func newOIDCLogins(cfg *config.Config, prev *oidcLogins, refreshKey []byte, now func() time.Time) (*oidcLogins, error) {
	o := &oidcLogins{byName: map[string]*oidcProvider{}, secret: cfg.Session.Secret}
	if prev != nil && prev.secret == cfg.Session.Secret {
		o.key, o.used, o.seal = prev.key, prev.used, prev.seal
	} else {
		o.key, o.used, o.seal = newStateKey(cfg.Session.Secret), newUsedStates(maxUsedStates), newSealer(refreshKey)
		if prev != nil {
			o.used = prev.used
		}
	}
	o.jtis = newUsedStates(maxUsedLogoutTokens)
	if prev != nil {
		o.jtis = prev.jtis // a reload does not make a used logout token new
	}
	var errs []error
	for i := range cfg.OIDC.Providers {
		p, err := newOIDCProvider(cfg, &cfg.OIDC.Providers[i], o.key, o.used, now)
		if p != nil {
			p.seal, p.jtis = o.seal, o.jtis
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		o.list = append(o.list, p)
		o.byName[p.name] = p
		o.logoutOn = o.logoutOn || p.logout
	}
	return o, errors.Join(errs...)
}

// start runs discovery for every provider in the background, so the first
// sign-in need not wait for it. A provider that is down is only logged:
// the gateway serves, and discovery is retried when a sign-in needs it.
func (o *oidcLogins) start(ctx context.Context, log *slog.Logger) {
	for _, p := range o.list {
		go func() {
			if ctx.Err() != nil {
				return
			}
			d, err := p.discover()
			if err != nil {
				log.Warn("oidc provider unavailable; retrying when a sign-in needs it", "provider", p.name, "cause", err.Error())
				return
			}
			o.warnNoEndSession(p, d, log)
		}()
	}
}

// serveOIDC answers <prefix>/oidc/<name>/start, .../callback,
// .../logged-out and, when enabled, .../backchannel-logout.
func (g *Gateway) serveOIDC(w http.ResponseWriter, r *http.Request, ctx *reqContext, rest string) {
	name, action, _ := strings.Cut(rest, "/")
	p := g.oidc.byName[name]
	backchannel := action == "backchannel-logout" && p != nil && p.backchannel
	if p == nil || (action != "start" && action != "callback" && action != "logged-out" && !backchannel) {
		g.writeError(w, r, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "No such sign-in provider."})
		return
	}
	if backchannel {
		if g.allow(w, r, http.MethodPost) {
			g.oidcBackchannelLogout(w, r, p)
		}
		return
	}
	if !g.allow(w, r, http.MethodGet) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	switch action {
	case "start":
		g.oidcStart(w, r, p)
		return
	case "logged-out":
		g.oidcLoggedOut(w, r, p)
		return
	}
	g.oidcCallback(w, r, ctx, p)
}

// oidcStart sends the browser to the provider with a fresh state, nonce
// and PKCE challenge, bound to it by the state cookie.
func (g *Gateway) oidcStart(w http.ResponseWriter, r *http.Request, p *oidcProvider) {
	d, err := p.discover()
	if err != nil {
		g.oidcFail(w, r, oidcError(err))
		return
	}
	rd, _ := g.returnTo.Validate(r.URL.Query().Get("rd"))
	s, ck := p.state.issue(p.name, rd)
	http.SetCookie(w, ck)
	w.Header().Set("Location", d.authCodeURL(s))
	w.WriteHeader(http.StatusFound)
}

// oidcCallback completes a sign-in: checks the state, exchanges the code,
// verifies the ID token, maps the claims, then starts the gateway's own
// session exactly as the login form does and returns to rd. The
// provider's tokens are dropped here; none reaches a cookie.
func (g *Gateway) oidcCallback(w http.ResponseWriter, r *http.Request, ctx *reqContext, p *oidcProvider) {
	q := r.URL.Query()
	state := q.Get("state")
	if state != "" {
		http.SetCookie(w, p.state.clear(state)) // single use, whatever happens next
	}
	fail := func(err error) {
		e := oidcError(err)
		g.metrics.Login(loginResult(e.Code), metrics.LoginOIDC)
		g.oidcFail(w, r, e)
	}
	if code := q.Get("error"); code != "" {
		fail(&callbackError{code: code, description: q.Get("error_description")})
		return
	}
	s, err := p.state.open(r, p.name, state)
	if err != nil {
		fail(err)
		return
	}
	if q.Get("code") == "" {
		fail(&callbackError{code: "invalid_request", description: "the callback has no code"})
		return
	}
	d, err := p.discover()
	if err != nil {
		fail(err)
		return
	}
	id, tok, err := p.identity(r.Context(), d, s, q.Get("code"))
	if err != nil {
		fail(err)
		return
	}
	sealed, err := p.keepRefreshToken(tok, id.Subject)
	if err != nil {
		fail(err)
		return
	}
	ctx.headerMode = false // a browser flow: always the session cookie
	issued, err := g.startSession(w.Header(), r, ctx, id, session.Client{Source: p.source, SourceSecret: sealed})
	if err != nil {
		fail(err)
		return
	}
	g.metrics.Login(metrics.LoginSuccess, metrics.LoginOIDC)
	g.log.Info("login", "user", issued.Principal.Subject, "session", issued.Principal.SessionID, "source", p.source)
	rd, _ := g.returnTo.Validate(s.RD) // again: a reload may have narrowed the allowlist
	w.Header().Set("Location", rd)
	w.WriteHeader(http.StatusFound)
}

// oidcError classifies a sign-in failure.
func oidcError(err error) *Error {
	var cb *callbackError
	switch {
	case errors.As(err, &cb):
		msg := "The identity provider did not sign you in"
		if cb.code == "access_denied" {
			msg = "Sign-in was cancelled or refused at the identity provider"
		}
		return &Error{Status: http.StatusUnauthorized, Code: CodeOIDCCallbackError, Message: msg + ".", Err: err}
	case errors.Is(err, errBadState):
		return &Error{Status: http.StatusBadRequest, Code: CodeOIDCStateInvalid, Message: "This sign-in link is invalid, expired or already used. Please sign in again.", Err: err}
	case errors.Is(err, errProviderUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeOIDCProviderUnavailable, Message: "The identity provider cannot be reached; try again shortly.", Err: err}
	case errors.Is(err, session.ErrRequirementNotMet):
		return &Error{Status: http.StatusForbidden, Code: CodeOIDCRequirementNotMet, Message: "Your account at the identity provider is not allowed to sign in here.", Err: err}
	case errors.Is(err, errTokenInvalid), errors.Is(err, session.ErrMissingClaim):
		return &Error{Status: http.StatusUnauthorized, Code: CodeOIDCTokenInvalid, Message: "The identity provider's answer could not be verified. Please sign in again.", Err: err}
	}
	return authError(err)
}

// oidcFail answers a failed sign-in: a browser navigation (the callback
// always is one) gets the login page with the message, the code and the
// providers to try again; anything else the JSON error.
func (g *Gateway) oidcFail(w http.ResponseWriter, r *http.Request, e *Error) {
	if !isNavigation(r) {
		e.API = true
		g.writeError(w, r, e)
		return
	}
	g.logError(r, e)
	g.renderLogin(w, e.Status, loginView{RD: "/", Error: e.Message, Code: e.Code, RequestID: w.Header().Get(requestIDHeader)})
}

// loginProvider is a provider's button on the login page.
type loginProvider struct{ Label, URL string }

// loginProviders lists the providers' start URLs, carrying rd.
func (g *Gateway) loginProviders(rd string) []loginProvider {
	out := make([]loginProvider, 0, len(g.oidc.list))
	for _, p := range g.oidc.list {
		u := g.prefix + "/oidc/" + p.name + "/start"
		if rd != "" && rd != "/" {
			u += "?rd=" + url.QueryEscape(rd)
		}
		out = append(out, loginProvider{Label: p.display, URL: u})
	}
	return out
}
