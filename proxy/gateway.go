package proxy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/policy"
	"github.com/gatehouse/gatehouse/proxy/cors"
	"github.com/gatehouse/gatehouse/proxy/metrics"
	"github.com/gatehouse/gatehouse/proxy/ratelimit"
	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/memstore"
	"github.com/gatehouse/gatehouse/session/userfile"
	"github.com/prometheus/client_golang/prometheus"
)

// sourceUsers and sourceGrant name where a session's identity came from.
const (
	sourceUsers = "users"
	sourceGrant = "grant"
)

// Options are the dependencies of a Gateway that do not come from the
// configuration file.
type Options struct {
	// Logger receives structured logs. Nil discards them.
	Logger *slog.Logger
	// Now is the clock used for tokens and sessions. Nil means time.Now.
	Now func() time.Time
	// Store keeps sessions. Nil means a new in-memory store.
	Store session.Store
	// Previous, on a configuration reload, is the gateway this one
	// replaces. Its revocation list and mirror carry over (and its refresh
	// secret, unless session.secret changed), so no revocation, session or
	// refresh token is lost; pass the same Store.
	Previous *Gateway
	// Users returns the current users for login and fresh claims. Nil
	// means login.users_file is opened (and Gateway.ReloadUsers re-reads
	// it); with no users file, the login form is off.
	Users func() *userfile.Users
	// Metrics, when set, receives the gateway's metrics (docs/metrics.md).
	// Nil records none.
	Metrics prometheus.Registerer
	// Gatherer is what AdminHandler serves at /metrics. Nil means Metrics
	// when it is also a Gatherer (a *prometheus.Registry); with neither,
	// /metrics is a 404.
	Gatherer prometheus.Gatherer
	// Version is reported by gatehouse_build_info.
	Version string
}

// limiter is the rate limiter login uses.
type limiter interface {
	Allow(key string) (bool, time.Duration)
	Reset(key string)
}

// Gateway is the HTTP handler in front of the upstream. Build it with New;
// it is safe for concurrent use.
type Gateway struct {
	log       *slog.Logger
	now       func() time.Time
	prefix    string
	keys      *session.KeySet
	cookies   *session.Cookies
	auth      *session.Authenticator
	sessions  *session.Manager
	mirror    *session.Mirror // nil when the store shares no revocations
	policy    *policy.Engine
	returnTo  *policy.ReturnPolicy
	co        *crossOrigin // CORS and CSRF
	headers   *identityHeaders
	trust     *trust
	grant     *grantVerifier // nil when grants are off
	users     func() *userfile.Users
	usersFile *userfile.File // non-nil when opened from config
	ipLimit   limiter
	userLimit limiter
	next      http.Handler // the reverse proxy to the upstream
	draining  atomic.Bool  // set by Drain: readiness is false
	debug     *debugAreas  // shared with the gateways of later reloads
	list      *session.Revocations
	refresh   *session.RefreshTokens
	secret    string // session.secret the refresh tokens were keyed with

	// Metrics (metrics.go): nil records none. The gatherer is served at
	// the admin listener's /metrics; nil makes it a 404.
	metrics  *metrics.Metrics
	gatherer prometheus.Gatherer
}

// New builds a Gateway from a validated configuration. Everything that
// can be prepared is prepared here — keys parsed, rules compiled, header
// names folded — and every problem is returned at once.
func New(cfg *config.Config, opts Options) (*Gateway, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	g := &Gateway{log: log, now: now, prefix: cfg.AuthPrefix, users: opts.Users}
	g.headers = newIdentityHeaders(cfg.IdentityHeaders, cfg.Grant.Header)
	g.debug = &debugAreas{}
	if opts.Previous != nil {
		g.debug = opts.Previous.debug
	}

	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	var tokens *session.Tokens
	if g.keys, err = session.LoadKeySet(cfg.Keys, cfg.Tokens.SigningKey); err != nil {
		add(err)
	} else {
		tokens, err = session.NewTokens(cfg.Tokens, g.keys, now)
		add(err)
	}
	g.cookies, err = session.NewCookies(cfg.Cookie, cfg.Session.AbsoluteLifetime)
	add(err)
	g.policy, err = policy.Compile(cfg.Policy)
	add(err)
	corsPolicy, err := cors.New(cfg.CORS)
	add(err)
	if corsPolicy != nil {
		g.co, err = newCrossOrigin(corsPolicy)
		add(err)
		// One allowlist: return URLs may point at the CORS origins too.
		g.returnTo, err = policy.NewReturnPolicy(append(slices.Clone(cfg.Login.RedirectOrigins), corsPolicy.ExactOrigins()...))
		add(err)
	}
	g.trust, err = newTrust(cfg.TrustedProxies)
	add(err)
	store := opts.Store
	if store == nil {
		store = memstore.New(memstore.Options{Now: now})
	}
	refresh, err := newRefreshTokens(cfg.Session.Secret, store)
	add(err)
	if prev := opts.Previous; prev != nil && prev.secret == cfg.Session.Secret {
		refresh = prev.refresh // a random or store-kept secret carries over
	}
	if cfg.Grant.Secret != "" {
		g.grant = &grantVerifier{key: []byte(cfg.Grant.Secret), maxAge: cfg.Grant.MaxAge, now: now}
	}
	if g.users == nil && cfg.Login.UsersFile != "" {
		if g.usersFile, err = userfile.Open(cfg.Login.UsersFile); err != nil {
			add(&config.FieldError{Field: "login.users_file", Problem: "cannot load the users file", Fix: "check the path and the file's contents", Err: err})
		} else {
			g.users = g.usersFile.Users
		}
	}
	target, err := url.Parse(cfg.Upstream.URL)
	if err != nil || target.Host == "" {
		add(config.Problem("upstream.url", fmt.Sprintf("%q is not an absolute URL", cfg.Upstream.URL), "use a URL such as http://127.0.0.1:3000"))
	}
	bits, err := parseAreas(cfg.Log.Debug)
	if err != nil {
		add(config.Problem("log.debug", err.Error(), "use cors, session, refresh, policy, forwardauth or store"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	g.debug.bits.Store(bits)

	store = g.instrument(opts, store) // metrics.go
	g.refresh, g.secret = refresh, cfg.Session.Secret
	g.list = session.NewRevocations(now)
	shared, _ := store.(session.RevocationStore)
	if prev := opts.Previous; prev != nil {
		g.list, g.mirror = prev.list, prev.mirror
	} else if shared != nil {
		g.mirror = session.NewMirror(session.MirrorOptions{
			List: g.list, Source: shared, MaxStaleness: cfg.Store.MaxStaleness,
			Timeout: cfg.Store.Timeout, Now: now, Logger: log, OnSync: g.metrics.Reconciled,
		})
		g.metrics.WatchMirror(g.mirror)
	}
	list := g.list
	g.sessions, err = session.NewManager(session.ManagerOptions{
		Tokens: tokens, Refresh: refresh, Store: store, Revocations: list,
		Shared: shared, Mirror: g.mirror, FailOpen: cfg.Store.Unavailable == "allow",
		IdleTimeout: cfg.Session.IdleTimeout, AbsoluteLifetime: cfg.Session.AbsoluteLifetime,
		Grace: cfg.Session.RefreshGrace, Now: now, OnRevoke: g.metrics.Revoked,
	})
	if err != nil {
		return nil, err
	}
	g.auth = &session.Authenticator{Tokens: g.sessions, Cookies: g.cookies}
	g.ipLimit = newLimiter(cfg.Login.PerIP, now)
	g.userLimit = newLimiter(cfg.Login.PerUser, now)
	rp := g.newReverseProxy(target, cfg.Upstream)
	rp.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	g.next = rp
	return g, nil
}

// secretKeeper is a store that keeps a generated refresh-token secret
// (boltstore), so a single replica needs no session.secret.
type secretKeeper interface {
	RefreshSecret(ctx context.Context) ([]byte, error)
}

// newRefreshTokens keys the refresh-token chain with the configured
// secret; else with the store's own (a persistent single-replica store);
// else with a random one (an in-memory store: sessions end with the
// process anyway).
func newRefreshTokens(secret string, store session.Store) (*session.RefreshTokens, error) {
	key := []byte(secret)
	if sk, ok := store.(secretKeeper); ok && secret == "" {
		var err error
		if key, err = sk.RefreshSecret(context.Background()); err != nil {
			return nil, &config.FieldError{Field: "store.path", Problem: "cannot read the refresh-token secret from the session database", Fix: "check the file, or set session.secret", Err: err}
		}
	} else if secret == "" {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	rt, err := session.NewRefreshTokens(key)
	if err != nil {
		return nil, &config.FieldError{Field: "session.secret", Problem: "is not usable", Fix: "use at least 32 random bytes", Err: err}
	}
	return rt, nil
}

func newLimiter(c config.RateLimit, now func() time.Time) *ratelimit.Limiter {
	return ratelimit.New(ratelimit.Options{
		Rate: float64(c.Attempts) / c.Window.Seconds(), Burst: c.Attempts, MaxKeys: 100_000, Now: now,
	})
}

// Start runs the gateway's background work — the revocation mirror —
// until ctx is done. It returns the error of the initial revocation load;
// the gateway then serves, fails closed or open as configured while the
// mirror is stale, and keeps retrying.
func (g *Gateway) Start(ctx context.Context) error {
	if g.mirror == nil || g.mirror.Started() {
		return nil // none, or carried over from the previous gateway
	}
	return g.mirror.Start(ctx)
}

// ReloadUsers re-reads the users file, if the gateway opened one. A
// failed reload keeps the old users and returns the error.
func (g *Gateway) ReloadUsers() error {
	if g.usersFile == nil {
		return nil
	}
	return g.usersFile.Reload()
}

// ServeHTTP runs the request path: canonicalise, authenticate (refreshing
// transparently), decide, then either answer with an error or proxy.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := &reqContext{trusted: g.trust.trusted(r)}
	ctx.id = requestID(r, ctx.trusted)
	ctx.headerMode = strings.EqualFold(r.Header.Get("X-Auth-Mode"), "header")
	w.Header().Set(requestIDHeader, ctx.id)

	// A preflight carries no credentials and never reaches the app.
	if cors.IsPreflight(r) {
		reason := g.co.cors.Preflight(w, r)
		g.metrics.Preflight(reason == "")
		if reason != "" && g.debugOn(areaCORS) {
			g.debugLog(areaCORS, "preflight refused", "origin", r.Header.Get("Origin"), "reason", reason)
		}
		return
	}

	path, err := policy.CanonicalPath(r.URL.EscapedPath())
	if err != nil {
		g.metrics.Request(metrics.RuleNone, http.StatusBadRequest)
		g.writeError(w, r, &Error{Status: http.StatusBadRequest, Code: CodeInvalidPath, Message: "The request path is not acceptable.", Err: err})
		return
	}
	isAuth := path == g.prefix || strings.HasPrefix(path, g.prefix+"/")
	if g.needsCSRFCheck(r, isAuth) {
		if err := g.co.checkCSRF(r); err != nil {
			g.metrics.CSRFRejected()
			g.metrics.Request(metrics.RuleNone, http.StatusForbidden)
			g.writeError(w, r, &Error{Status: http.StatusForbidden, Code: CodeCSRFRejected, Message: "Cross-origin request refused: its origin is not allowed.", Err: err})
			return
		}
	}
	g.countCORSRejection(r)
	if isAuth {
		g.co.cors.Decorate(w.Header(), r.Header.Get("Origin"))
		g.serveEndpoint(w, r, ctx, strings.TrimPrefix(path, g.prefix))
		return
	}

	res, authErr := g.authenticate(w, r)
	d := g.policy.Decide(policy.Request{
		Host:      policy.CanonicalHost(r.Host),
		Path:      path,
		Method:    r.Method,
		Principal: res.Principal,
	})
	g.explain(r.Method, r.Host, path, res.Bearer, authErr, d)
	if res.ClearCookie {
		g.cookies.Clear(w.Header())
	}
	if !d.Allow {
		e := denial(d, authErr)
		g.metrics.Denied(d.Rule, e.Code, e.Status)
		g.writeError(w, r, e)
		return
	}
	g.metrics.Allowed(d.Rule)

	f := &forward{
		path:      path,
		principal: res.Principal,
		dropAuthz: res.Bearer,
		req:       ctx,
		in:        r,
	}
	g.next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), forwardKey{}, f)))
}
