package proxy

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
	"golang.org/x/oauth2"
)

// errProviderUnavailable marks a provider that cannot be reached (or whose
// discovery failed): OIDC_PROVIDER_UNAVAILABLE.
var errProviderUnavailable = errors.New("oidc: provider unavailable")

// Discovery backoff after a failure: doubling from min to max.
const (
	discoveryBackoffMin = time.Second
	discoveryBackoffMax = time.Minute
)

// oidcProvider is one configured OpenID Connect provider. Discovery is
// lazy: a provider that is down when the gateway starts does not stop it;
// each use retries discovery, at most once per backoff interval, and
// fails with errProviderUnavailable meanwhile.
type oidcProvider struct {
	name, display string
	source        string        // session.Record.Source: "oidc:<name>"
	recheck       bool          // keep the refresh token and re-check at rotations
	logout        bool          // sign out at the provider too (oidclogout.go)
	postLogout    string        // post_logout_redirect_uri
	backchannel   bool          // serve back-channel logout (oidcbackchannel.go)
	leeway        time.Duration // clock skew allowed on logout tokens (tokens.leeway)
	jtis          *usedStates   // logout token ids seen, shared by the providers
	seal          *sealer
	issuer        string
	oauth         oauth2.Config // Endpoint filled in by discovery
	authParams    []oauth2.AuthCodeOption
	userinfo      bool
	mapping       *session.Mapping
	state         *stateCookies
	client        *http.Client
	keyLimits     config.ExternalTokens // bounds the provider's key set (oidckeys.go)
	now           func() time.Time

	mu       sync.Mutex
	found    *discovered // nil until discovery succeeds
	retryAt  time.Time
	backoff  time.Duration
	lastFail error
}

// discovered is what discovery yields.
type discovered struct {
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	// logoutVerifier verifies back-channel logout tokens: the same keys,
	// issuer, client id and algorithms; expiry checked by verifyLogout.
	logoutVerifier *oidc.IDTokenVerifier
	oauth          oauth2.Config
	params         []oauth2.AuthCodeOption // auth_params
	// endSession is the usable end_session_endpoint, or "".
	endSession         string
	warnedNoEndSession atomic.Bool
}

// newOIDCProvider prepares provider p; nothing is fetched yet.
func newOIDCProvider(cfg *config.Config, p *config.OIDCProvider, key []byte, used *usedStates, now func() time.Time) (*oidcProvider, error) {
	redirect := cfg.OIDCRedirectURL(p)
	u, err := url.Parse(redirect)
	if err != nil {
		return nil, config.Problem("oidc.providers[].redirect_url", fmt.Sprintf("%q is not a URL", redirect), "use the callback URL registered at the provider")
	}
	scopes := p.Scopes
	if len(scopes) == 0 {
		scopes = config.DefaultOIDCScopes()
	}
	secure := u.Scheme == "https"
	path := cfg.AuthPrefix + "/oidc/"
	if secure {
		path = "/" // required by the __Host- prefix
	}
	var params []oauth2.AuthCodeOption
	for _, k := range slices.Sorted(maps.Keys(p.AuthParams)) {
		params = append(params, oauth2.SetAuthURLParam(k, p.AuthParams[k]))
	}
	display := p.DisplayName
	if display == "" {
		display = p.Name
	}
	return &oidcProvider{
		name: p.Name, display: display, source: oidcSourcePrefix + p.Name, issuer: p.Issuer, recheck: p.Recheck,
		logout: p.Logout.Enabled, postLogout: cfg.OIDCPostLogoutURL(p),
		backchannel: p.BackchannelLogout, leeway: cfg.Tokens.Leeway,
		oauth:    oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, RedirectURL: redirect, Scopes: scopes},
		userinfo: p.Userinfo, authParams: params,
		mapping: session.NewMapping(p.Claims, p.Require),
		state: &stateCookies{
			key: key, ttl: cfg.OIDC.StateTTL, now: now, prefix: stateCookiePrefix(secure) + p.Name + "-",
			path: path, secure: secure, used: used,
		},
		client:    &http.Client{Timeout: cfg.OIDC.Timeout},
		keyLimits: cfg.ExternalTokens,
		now:       now,
	}, nil
}

// ctx returns a context whose requests to the provider use its client.
func (p *oidcProvider) ctx(parent context.Context) context.Context {
	return oidc.ClientContext(parent, p.client)
}

// discover returns the provider's discovered configuration, running
// discovery if it has not succeeded yet and the backoff allows.
func (p *oidcProvider) discover() (*discovered, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.found != nil {
		return p.found, nil
	}
	now := p.now()
	if now.Before(p.retryAt) {
		return nil, fmt.Errorf("%w: %s: discovery failed, next attempt in %s: %w", errProviderUnavailable, p.name, p.retryAt.Sub(now).Round(time.Second), p.lastFail)
	}
	// The key set keeps the context for its later key fetches, so it must
	// outlive this request: a background context with the bounded client.
	op, err := oidc.NewProvider(p.ctx(context.Background()), p.issuer)
	if err != nil {
		p.backoff = min(max(2*p.backoff, discoveryBackoffMin), discoveryBackoffMax)
		p.retryAt, p.lastFail = now.Add(p.backoff), err
		return nil, fmt.Errorf("%w: %s: discovery: %w", errProviderUnavailable, p.name, err)
	}
	d := &discovered{provider: op, oauth: p.oauth, params: p.authParams}
	d.oauth.Endpoint = op.Endpoint()
	var meta struct {
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
		EndSession  string   `json:"end_session_endpoint"`
		JWKSURL     string   `json:"jwks_uri"`
		Algs        []string `json:"id_token_signing_alg_values_supported"`
	}
	_ = op.Claims(&meta) // absent or malformed: the defaults below
	d.oauth.Endpoint.AuthStyle = authStyle(meta.AuthMethods)
	d.endSession = endSessionEndpoint(meta.EndSession)
	algs := providerAlgs(meta.Algs)
	keys, err := newProviderKeys(p.issuer, meta.JWKSURL, algs, p, p.keyLimits)
	if err != nil {
		p.backoff = min(max(2*p.backoff, discoveryBackoffMin), discoveryBackoffMax)
		p.retryAt, p.lastFail = now.Add(p.backoff), err
		return nil, fmt.Errorf("%w: %s: discovery: %w", errProviderUnavailable, p.name, err)
	}
	d.verifier = oidc.NewVerifier(p.issuer, keys, &oidc.Config{ClientID: p.oauth.ClientID, Now: p.now, SupportedSigningAlgs: algs})
	// Back-channel logout tokens: the same keys, issuer, client id and
	// algorithms; verifyLogout checks the expiry itself, with leeway.
	d.logoutVerifier = oidc.NewVerifier(p.issuer, keys, &oidc.Config{ClientID: p.oauth.ClientID, Now: p.now, SupportedSigningAlgs: algs, SkipExpiryCheck: true})
	p.found, p.backoff, p.lastFail = d, 0, nil
	return d, nil
}

// authStyle picks how the client secret is sent to the token endpoint
// from the provider's token_endpoint_auth_methods_supported:
// client_secret_basic (the default when the list is absent, OpenID
// Connect Discovery section 3) unless only client_secret_post is offered.
// Choosing up front avoids oauth2's auto-detection, which would present a
// single-use code twice when the first attempt is refused.
func authStyle(methods []string) oauth2.AuthStyle {
	if len(methods) == 0 || slices.Contains(methods, "client_secret_basic") || !slices.Contains(methods, "client_secret_post") {
		return oauth2.AuthStyleInHeader
	}
	return oauth2.AuthStyleInParams
}

// authCodeURL is where the browser is sent to sign in: state, nonce and
// the S256 PKCE challenge.
func (d *discovered) authCodeURL(s oidcState) string {
	opts := append([]oauth2.AuthCodeOption{oidc.Nonce(s.Nonce), oauth2.S256ChallengeOption(s.Verifier)}, d.params...)
	return d.oauth.AuthCodeURL(s.State, opts...)
}

// Why a callback's tokens are refused; each matches errTokenInvalid.
var errTokenInvalid = errors.New("oidc: token refused")

// identity completes a sign-in: exchanges code (with the PKCE verifier),
// verifies the ID token (signature, issuer, audience, expiry) and its
// nonce, merges userinfo if configured, and maps the claims.
func (p *oidcProvider) identity(ctx context.Context, d *discovered, s oidcState, code string) (session.Identity, *oauth2.Token, error) {
	ctx = p.ctx(ctx)
	tok, err := d.oauth.Exchange(ctx, code, oauth2.VerifierOption(s.Verifier))
	if err != nil {
		return session.Identity{}, nil, tokenEndpointError(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return session.Identity{}, nil, fmt.Errorf("%w: the token response has no id_token", errTokenInvalid)
	}
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		return session.Identity{}, nil, fmt.Errorf("%w: id_token: %w", errTokenInvalid, err)
	}
	if !constantTimeEqual(idt.Nonce, s.Nonce) {
		return session.Identity{}, nil, fmt.Errorf("%w: id_token: the nonce does not match this sign-in", errTokenInvalid)
	}
	id, err := p.mapClaims(ctx, d, tok, idt)
	return id, tok, err
}

// mapClaims maps a verified ID token's claims, merged with userinfo's
// when configured, to an identity.
func (p *oidcProvider) mapClaims(ctx context.Context, d *discovered, tok *oauth2.Token, idt *oidc.IDToken) (session.Identity, error) {
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return session.Identity{}, fmt.Errorf("%w: id_token claims: %w", errTokenInvalid, err)
	}
	if p.userinfo {
		if err := p.mergeUserinfo(ctx, d, tok, idt.Subject, claims); err != nil {
			return session.Identity{}, err
		}
	}
	return p.mapping.Identity(claims)
}

// tokenEndpointError classifies a token endpoint failure: a 4xx answer
// (invalid_grant: a used or unknown code or refresh token, a revoked
// grant, a bad client secret) refuses the token; anything else means the
// provider is unavailable.
func tokenEndpointError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
		return fmt.Errorf("%w: token endpoint: %w", errTokenInvalid, err)
	}
	return fmt.Errorf("%w: token endpoint: %w", errProviderUnavailable, err)
}

// mergeUserinfo adds the userinfo endpoint's claims to claims. Its sub
// must be the ID token's (OpenID Connect Core section 5.3.2).
func (p *oidcProvider) mergeUserinfo(ctx context.Context, d *discovered, tok *oauth2.Token, sub string, claims map[string]any) error {
	ui, err := d.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return fmt.Errorf("%w: userinfo: %w", errProviderUnavailable, err)
	}
	if ui.Subject != sub {
		return fmt.Errorf("%w: userinfo is about another subject", errTokenInvalid)
	}
	extra := map[string]any{}
	if err := ui.Claims(&extra); err != nil {
		return fmt.Errorf("%w: userinfo claims: %w", errTokenInvalid, err)
	}
	for k, v := range extra {
		if !isProtectedClaim(k) {
			claims[k] = v
		}
	}
	return nil
}

// isProtectedClaim reports whether k is one of the ID token's own claims,
// which userinfo never replaces.
func isProtectedClaim(k string) bool {
	switch k {
	case "iss", "sub", "aud", "exp", "iat", "nbf", "nonce", "azp", "auth_time", "at_hash", "c_hash", "acr", "amr", "sid":
		return true
	}
	return false
}

// constantTimeEqual compares two secrets without leaking where they
// differ.
func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// callbackError is an error= answer from the provider (RFC 6749 section
// 4.1.2.1): the user declined, or the provider refused the request.
type callbackError struct{ code, description string }

func (e *callbackError) Error() string {
	return "oidc: the provider answered " + strings.TrimSpace(e.code+" "+e.description)
}

// LogValue names the provider; the client secret never reaches a log.
func (p *oidcProvider) LogValue() slog.Value { return slog.StringValue(p.source) }
