package proxy

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"slices"
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
	log      *slog.Logger
	now      func() time.Time
	prefix   string
	keys     *session.KeySet
	cookies  *session.Cookies
	auth     *session.Authenticator
	sessions *session.Manager
	mirror   *session.Mirror // nil when the store shares no revocations
	policy   *policy.Engine
	returnTo *policy.ReturnPolicy
	co       *crossOrigin // CORS and CSRF
	headers  *identityHeaders
	// verifyHeaders is every header name any route sets (canonical): a
	// forward-auth answer carries each, empty where its route sets none,
	// so a proxy copying a fixed list never finds one missing.
	verifyHeaders []string
	// emptyValue is the value of an empty header, shared by every answer:
	// the header is only ever replaced or (at cap 1, copying) appended to.
	emptyValue []string
	trust      *trust
	grant      *grantVerifier // nil when grants are off
	users      func() *userfile.Users
	usersFile  *userfile.File // non-nil when opened from config
	// hashes bounds the password checks of logins running at once (64 MiB
	// each); shared with the gateways of later reloads, so a reload does
	// not make room for a second set.
	hashes    *userfile.Verifier
	loginForm bool        // login.form: the password form is offered
	oidc      *oidcLogins // OpenID Connect providers (oidc.go)
	ipLimit   limiter
	userLimit limiter
	routes    routes      // per rule, then the default: upstream and options
	buffers   *bufferPool // body copy buffers, shared by the reverse proxies
	draining  atomic.Bool // set by Drain: readiness is false
	debug     *debugAreas // shared with the gateways of later reloads
	list      *session.Revocations
	refresh   *session.RefreshTokens
	secret    string // session.secret the refresh tokens were keyed with

	// External issuers' key sets (issuers.go), and the context their
	// refresh loops run under once Start was called (carried over to the
	// gateways of later reloads).
	issuerKeys []*issuerKeys
	runCtx     context.Context
	// assertion signs the identity assertion header; nil when off.
	assertion *assertion

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
	g := &Gateway{log: log, now: now, prefix: cfg.AuthPrefix, users: opts.Users, loginForm: cfg.Login.Form}
	// Every app's identity headers are stripped from requests to any app;
	// the assertion header too, even while assertions are off, so that
	// switching them on never meets a client-made copy upstream.
	g.headers = newIdentityHeaders(withRouteHeaders(cfg), cfg.Grant.Header, cfg.Assertion.Header)
	g.verifyHeaders = cfg.IdentityHeaderNames()
	g.emptyValue = []string{""}[:1:1]
	g.debug, g.hashes = &debugAreas{}, userfile.NewVerifier(0)
	if opts.Previous != nil {
		g.debug, g.hashes = opts.Previous.debug, opts.Previous.hashes
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
	}
	g.trust, err = newTrust(cfg.TrustedProxies)
	add(err)
	store := opts.Store
	if store == nil {
		store = memstore.New(memstore.Options{Now: now})
	}
	refresh, refreshKey, err := newRefreshTokens(cfg.Session.Secret, store)
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
	if g.co != nil {
		g.routes, err = g.newRoutes(cfg) // routes.go
		add(err)
		// One allowlist: return URLs may point at the CORS origins too,
		// a route's included.
		g.returnTo, err = policy.NewReturnPolicy(append(slices.Clone(cfg.Login.RedirectOrigins), g.routes.exactOrigins()...))
		add(err)
	}
	var prevIssuers []*issuerKeys
	var prevOIDC *oidcLogins
	if opts.Previous != nil {
		prevIssuers, prevOIDC = opts.Previous.issuerKeys, opts.Previous.oidc
	}
	// g.metrics is set later (instrument), before any fetch can happen.
	issuers, external, err := buildIssuers(cfg, prevIssuers, now, log, func(issuer string, err error) { g.metrics.JWKSFetched(issuer, err) })
	add(err)
	g.issuerKeys = issuers
	g.oidc, err = newOIDCLogins(cfg, prevOIDC, refreshKey, now)
	add(err)
	if cfg.Assertion.Enabled && g.keys != nil {
		g.assertion, err = newAssertion(cfg, g.keys, now)
		add(err)
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
	g.metrics.WatchIssuers(g.issuersReady)
	g.metrics.OIDCRecheckProviders(g.oidc.rechecking())
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
	cache := session.NewVerifyCache(cfg.Tokens.VerifyCacheSize, now) // nil: off
	g.metrics.WatchVerifyCache(cache)
	g.sessions, err = session.NewManager(session.ManagerOptions{
		Tokens: tokens, Refresh: refresh, Store: store, Revocations: list,
		Shared: shared, Mirror: g.mirror, FailOpen: cfg.Store.Unavailable == "allow",
		IdleTimeout: cfg.Session.IdleTimeout, AbsoluteLifetime: cfg.Session.AbsoluteLifetime,
		Grace: cfg.Session.RefreshGrace, Now: now, OnRevoke: g.metrics.Revoked,
		External: external, ExternalLifetime: externalLifetime(cfg),
		Cache: cache,
	})
	if err != nil {
		return nil, err
	}
	g.auth = &session.Authenticator{Tokens: g.sessions, Bearer: session.VerifierFunc(g.sessions.VerifyBearer), Cookies: g.cookies}
	g.ipLimit = newLimiter(cfg.Login.PerIP, now)
	g.userLimit = newLimiter(cfg.Login.PerUser, now)
	g.buffers = newBufferPool()
	g.routes.bindProxies(g)
	if prev := opts.Previous; prev != nil && prev.runCtx != nil {
		// A reload: keep refreshing the kept key sets, start the new
		// ones, stop the dropped ones.
		g.runCtx = prev.runCtx
		for _, k := range g.issuerKeys {
			k.start(g.runCtx)
		}
		for _, k := range prev.issuerKeys {
			if !slices.Contains(g.issuerKeys, k) {
				k.stop()
			}
		}
	}
	return g, nil
}

// externalLifetime is how long external tokens may live, for keeping
// revocations; 0 without external issuers.
func externalLifetime(cfg *config.Config) time.Duration {
	if len(cfg.Issuers) == 0 {
		return 0
	}
	return cfg.ExternalTokens.MaxLifetime
}

// secretKeeper is a store that keeps a generated refresh-token secret
// (boltstore), so a single replica needs no session.secret.
type secretKeeper interface {
	RefreshSecret(ctx context.Context) ([]byte, error)
}

// newRefreshTokens keys the refresh-token chain with the configured
// secret; else with the store's own (a persistent single-replica store);
// else with a random one (an in-memory store: sessions end with the
// process anyway). It also returns the key, from which the key sealing
// session records' source secrets is derived: both live exactly as long.
func newRefreshTokens(secret string, store session.Store) (*session.RefreshTokens, []byte, error) {
	key := []byte(secret)
	if sk, ok := store.(secretKeeper); ok && secret == "" {
		var err error
		if key, err = sk.RefreshSecret(context.Background()); err != nil {
			return nil, nil, &config.FieldError{Field: "store.path", Problem: "cannot read the refresh-token secret from the session database", Fix: "check the file, or set session.secret", Err: err}
		}
	} else if secret == "" {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	rt, err := session.NewRefreshTokens(key)
	if err != nil {
		return nil, nil, &config.FieldError{Field: "session.secret", Problem: "is not usable", Fix: "use at least 32 random bytes", Err: err}
	}
	return rt, key, nil
}

func newLimiter(c config.RateLimit, now func() time.Time) *ratelimit.Limiter {
	return ratelimit.New(ratelimit.Options{
		Rate: float64(c.Attempts) / c.Window.Seconds(), Burst: c.Attempts, MaxKeys: 100_000, Now: now,
	})
}

// Start runs the gateway's background work — the external issuers' key
// refresh, the first discovery of each OIDC provider and the revocation
// mirror — until ctx is done. It returns the error of the initial
// revocation load; the gateway then serves, fails closed or open as
// configured while the mirror is stale, and keeps retrying. An issuer
// whose keys cannot be fetched never fails Start: /readyz reports it and
// it is retried with backoff; a provider that is down is retried when a
// sign-in needs it.
func (g *Gateway) Start(ctx context.Context) error {
	g.runCtx = ctx
	for _, k := range g.issuerKeys {
		k.start(ctx)
	}
	g.oidc.start(ctx, g.log)
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
