package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/policy"
	"github.com/gatehouse/gatehouse/session"
)

// Options are the dependencies of a Gateway that do not come from the
// configuration file.
type Options struct {
	// Logger receives structured logs. Nil discards them.
	Logger *slog.Logger
	// Now is the clock used for tokens. Nil means time.Now.
	Now func() time.Time
}

// Gateway is the HTTP handler in front of the upstream. Build it with New;
// it is safe for concurrent use.
type Gateway struct {
	log     *slog.Logger
	prefix  string
	keys    *session.KeySet
	tokens  *session.Tokens
	cookies *session.Cookies
	auth    *session.Authenticator
	policy  *policy.Engine
	headers *identityHeaders
	trust   *trust
	next    http.Handler // the reverse proxy to the upstream
}

// New builds a Gateway from a validated configuration. Everything that
// can be prepared is prepared here — keys parsed, rules compiled, header
// names folded — and every problem is returned at once.
func New(cfg *config.Config, opts Options) (*Gateway, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{log: log, prefix: cfg.AuthPrefix, headers: newIdentityHeaders(cfg.IdentityHeaders)}

	var errs []error
	var err error
	if g.keys, err = session.LoadKeySet(cfg.Keys, cfg.Tokens.SigningKey); err != nil {
		errs = append(errs, err)
	} else if g.tokens, err = session.NewTokens(cfg.Tokens, g.keys, opts.Now); err != nil {
		errs = append(errs, err)
	}
	if g.cookies, err = session.NewCookies(cfg.Cookie, cfg.Session.AbsoluteLifetime); err != nil {
		errs = append(errs, err)
	}
	if g.policy, err = policy.Compile(cfg.Policy); err != nil {
		errs = append(errs, err)
	}
	if g.trust, err = newTrust(cfg.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	target, err := url.Parse(cfg.Upstream.URL)
	if err != nil || target.Host == "" {
		errs = append(errs, config.Problem("upstream.url", fmt.Sprintf("%q is not an absolute URL", cfg.Upstream.URL), "use a URL such as http://127.0.0.1:3000"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	g.auth = &session.Authenticator{Tokens: g.tokens, Cookies: g.cookies}
	rp := g.newReverseProxy(target, cfg.Upstream)
	rp.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	g.next = rp
	return g, nil
}

// ServeHTTP runs the request path: canonicalise, authenticate, decide,
// then either answer with an error or proxy to the upstream.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	trusted := g.trust.trusted(r)
	id := requestID(r, trusted)
	w.Header().Set(requestIDHeader, id)

	path, err := policy.CanonicalPath(r.URL.EscapedPath())
	if err != nil {
		g.writeError(w, r, &Error{http.StatusBadRequest, CodeInvalidPath, "The request path is not acceptable.", err})
		return
	}
	if path == g.prefix || strings.HasPrefix(path, g.prefix+"/") {
		g.serveAuth(w, r, strings.TrimPrefix(path, g.prefix))
		return
	}

	res, authErr := g.auth.Authenticate(r)
	d := g.policy.Decide(policy.Request{
		Host:      policy.CanonicalHost(r.Host),
		Path:      path,
		Method:    r.Method,
		Principal: res.Principal,
	})
	if !d.Allow {
		if res.ClearCookie {
			g.cookies.Clear(w.Header())
		}
		g.writeError(w, r, denial(d, authErr))
		return
	}
	g.log.Debug("allowed", "rule", d.Rule, "access", d.Access.String(), "path", path)

	f := &forward{
		path:      path,
		principal: res.Principal,
		dropAuthz: res.Bearer || errors.Is(authErr, session.ErrMalformedAuthorization),
		trusted:   trusted,
		requestID: id,
	}
	g.next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), forwardKey{}, f)))
}

// serveAuth answers the gateway's own endpoints under the auth prefix.
func (g *Gateway) serveAuth(w http.ResponseWriter, r *http.Request, endpoint string) {
	switch endpoint {
	case "/jwks.json":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			g.writeError(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed, Message: "Use GET."})
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(g.keys.JWKS())
	default:
		g.writeError(w, r, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "No such gateway endpoint."})
	}
}
