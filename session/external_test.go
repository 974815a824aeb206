package session_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/jwks"
	"github.com/gatehouse/gatehouse/session/jwks/jwkstest"
	"github.com/gatehouse/gatehouse/session/memstore"
)

var b64u = base64.RawURLEncoding.EncodeToString

const extIss = "https://idp.example.test"

// extManager is a Manager with one external issuer served by p.
type extManager struct {
	m     *session.Manager
	clock *lockedClock
	own   *session.Tokens
}

func newExtManager(t testing.TB, p *jwkstest.Server, mutate func(*config.Issuer)) *extManager {
	t.Helper()
	clock := &lockedClock{t: time.Now().Truncate(time.Second)}
	key, err := session.GenerateKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := session.NewKeySet([]*session.Key{key}, "")
	tcfg := config.Default().Tokens
	tcfg.Claims = []string{"department"}
	tokens, err := session.NewTokens(tcfg, ks, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	refresh, _ := session.NewRefreshTokens([]byte("0123456789abcdef0123456789abcdef"))
	shared := config.Default().ExternalTokens
	ic := config.Issuer{
		Issuer: extIss, JWKSURL: p.JWKSURL, Audiences: []string{"api", "other-api"},
		Algorithms: []string{"RS256", "ES256", "EdDSA"},
		Claims:     config.ClaimMapping{Roles: []string{"realm_access.roles"}, Claims: map[string]string{"department": "org.dept"}},
	}
	if mutate != nil {
		mutate(&ic)
	}
	set, err := jwks.New(jwks.Options{Issuer: ic.Issuer, URL: ic.JWKSURL, Timeout: shared.FetchTimeout, MaxBytes: int64(shared.MaxJWKSBytes),
		RefetchInterval: shared.RefetchInterval, CacheMin: shared.CacheMin, CacheMax: shared.CacheMax, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	issuers := session.NewIssuers(tcfg.Issuer, shared.MaxTokenBytes, session.NewExternal(ic, shared, set, clock.Now))
	store := memstore.New(memstore.Options{Now: clock.Now})
	m, err := session.NewManager(session.ManagerOptions{
		Tokens: tokens, Refresh: refresh, Store: store, Revocations: session.NewRevocations(clock.Now),
		IdleTimeout: 24 * time.Hour, AbsoluteLifetime: 48 * time.Hour, Now: clock.Now,
		External: issuers, ExternalLifetime: shared.MaxLifetime,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &extManager{m: m, clock: clock, own: tokens}
}

func (e *extManager) claims(sub string) jwt.MapClaims {
	now := e.clock.Now()
	return jwt.MapClaims{
		"iss": extIss, "aud": []string{"api"}, "sub": sub, "jti": "jti-" + sub,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		"email": sub + "@example.com", "realm_access": map[string]any{"roles": []string{"staff", "ops"}},
		"org": map[string]any{"dept": "eng"},
	}
}

func TestExternalTokenAccepted(t *testing.T) {
	p := jwkstest.NewServer(t)
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		p.AddKey(t, "k-"+alg, alg)
	}
	e := newExtManager(t, p, func(c *config.Issuer) { c.SubjectPrefix = "kc:" })
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			pr, err := e.m.VerifyBearer(p.Sign(t, "k-"+alg, alg, e.claims("alice"), nil))
			if err != nil {
				t.Fatal(err)
			}
			if pr.Subject != "kc:alice" || pr.Issuer != extIss || pr.SessionID != "" || pr.TokenID != "jti-alice" ||
				pr.Email != "alice@example.com" || strings.Join(pr.Roles, ",") != "staff,ops" || pr.Claims["department"] != "eng" {
				t.Fatalf("principal = %+v", pr)
			}
		})
	}
}

func TestExternalTokenRejected(t *testing.T) {
	p := jwkstest.NewServer(t)
	p.AddKey(t, "es", "ES256")
	p.AddKey(t, "ps", "PS256") // published, but PS256 is not accepted
	secret := []byte("0123456789abcdef0123456789abcdef")
	p.AddJWK(map[string]any{"kty": "oct", "kid": "oct", "alg": "HS256", "k": b64u(secret)})
	e := newExtManager(t, p, func(c *config.Issuer) { c.Require.RolesAny = []string{"staff"} })
	now := e.clock.Now()
	with := func(f func(jwt.MapClaims)) jwt.MapClaims {
		c := e.claims("bob")
		f(c)
		return c
	}
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, e.claims("bob"))
	hs.Header["kid"] = "oct"
	hsRaw, _ := hs.SignedString(secret)
	tampered := p.Sign(t, "es", "ES256", e.claims("bob"), nil)
	parts := strings.Split(tampered, ".")
	parts[1] = b64u([]byte(mustJSONString(t, with(func(c jwt.MapClaims) { c["sub"] = "admin" }))))
	tests := []struct {
		name string
		raw  string
		want []error
	}{
		{"HS256 with the published oct key", hsRaw, []error{session.ErrInvalidToken, session.ErrAlgorithmMismatch}},
		{"alg not pinned", p.Sign(t, "ps", "PS256", e.claims("bob"), nil), []error{session.ErrInvalidToken, session.ErrAlgorithmMismatch}},
		{"alg none", unsigned(t, map[string]any{"alg": "none", "kid": "es"}, e.claims("bob")), []error{session.ErrInvalidToken, session.ErrAlgorithmMismatch}},
		{"alg of another key", p.Sign(t, "es", "ES256", e.claims("bob"), map[string]any{"kid": "ps"}), []error{session.ErrInvalidToken, session.ErrAlgorithmMismatch}},
		{"kid missing with several keys", p.Sign(t, "es", "ES256", e.claims("bob"), map[string]any{"kid": nil}), []error{session.ErrInvalidToken, session.ErrUnknownKey}},
		{"kid unknown", p.Sign(t, "es", "ES256", e.claims("bob"), map[string]any{"kid": "nope"}), []error{session.ErrInvalidToken, session.ErrUnknownKey}},
		{"jku refused", p.Sign(t, "es", "ES256", e.claims("bob"), map[string]any{"jku": "https://evil.example/jwks"}), []error{session.ErrInvalidToken}},
		{"bad signature", strings.Join(parts, "."), []error{session.ErrInvalidToken, session.ErrBadSignature}},
		{"wrong audience", p.Sign(t, "es", "ES256", with(func(c jwt.MapClaims) { c["aud"] = "someone-else" }), nil), []error{session.ErrInvalidToken, session.ErrWrongAudience}},
		{"no exp", p.Sign(t, "es", "ES256", with(func(c jwt.MapClaims) { delete(c, "exp") }), nil), []error{session.ErrInvalidToken, session.ErrMissingClaim}},
		{"expired", p.Sign(t, "es", "ES256", with(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }), nil), []error{session.ErrTokenExpired}},
		{"not yet valid", p.Sign(t, "es", "ES256", with(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }), nil), []error{session.ErrInvalidToken, session.ErrNotYetValid}},
		{"issued in the future", p.Sign(t, "es", "ES256", with(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() }), nil), []error{session.ErrInvalidToken, session.ErrNotYetValid}},
		{"lifetime beyond max", p.Sign(t, "es", "ES256", with(func(c jwt.MapClaims) { c["exp"] = now.Add(48 * time.Hour).Unix() }), nil), []error{session.ErrInvalidToken}},
		{"no subject", p.Sign(t, "es", "ES256", with(func(c jwt.MapClaims) { delete(c, "sub") }), nil), []error{session.ErrInvalidToken, session.ErrMissingClaim}},
		{"requirement not met", p.Sign(t, "es", "ES256", with(func(c jwt.MapClaims) { delete(c, "realm_access") }), nil), []error{session.ErrRequirementNotMet}},
		{"unconfigured issuer", p.Sign(t, "es", "ES256", with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), nil), []error{session.ErrInvalidToken, session.ErrWrongIssuer}},
		{"no iss", p.Sign(t, "es", "ES256", with(func(c jwt.MapClaims) { delete(c, "iss") }), nil), []error{session.ErrInvalidToken, session.ErrMissingClaim}},
		{"case-variant iss", unsigned(t, map[string]any{"alg": "ES256", "kid": "es"}, map[string]any{"iss": "x", "ISS": extIss}), []error{session.ErrInvalidToken, session.ErrMalformedToken}},
		{"non-string iss", unsigned(t, map[string]any{"alg": "ES256", "kid": "es"}, map[string]any{"iss": 5}), []error{session.ErrInvalidToken, session.ErrMalformedToken}},
		{"too large", p.Sign(t, "es", "ES256", with(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("x", 20000) }), nil), []error{session.ErrInvalidToken, session.ErrTokenTooLarge}},
		{"not a JWT", "abc", []error{session.ErrInvalidToken, session.ErrMalformedToken}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.m.VerifyBearer(tt.raw)
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want it to match %v", err, want)
				}
			}
		})
	}
	if _, err := e.m.VerifyBearer(p.Sign(t, "es", "ES256", e.claims("bob"), nil)); err != nil {
		t.Fatalf("the valid token next to them: %v", err)
	}
}

func mustJSONString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// unsigned builds header.payload. with an empty signature.
func unsigned(t *testing.T, header, payload any) string {
	return b64u([]byte(mustJSONString(t, header))) + "." + b64u([]byte(mustJSONString(t, payload))) + "."
}

// TestUnconfiguredIssuerCausesNoFetch proves routing by iss happens before
// any key lookup: tokens naming other issuers never reach the JWKS server,
// and a flood of made-up kids for the configured issuer is bounded.
func TestUnconfiguredIssuerCausesNoFetch(t *testing.T) {
	p := jwkstest.NewServer(t)
	p.AddKey(t, "es", "ES256")
	e := newExtManager(t, p, nil)
	for i := range 200 {
		c := e.claims("eve")
		c["iss"] = fmt.Sprintf("https://idp-%d.example", i)
		if _, err := e.m.VerifyBearer(p.Sign(t, "es", "ES256", c, map[string]any{"kid": fmt.Sprint("k", i)})); !errors.Is(err, session.ErrWrongIssuer) {
			t.Fatalf("iss %d: %v", i, err)
		}
	}
	if n := p.Fetches(); n != 0 {
		t.Fatalf("%d JWKS fetches for unconfigured issuers, want 0", n)
	}
	var wg sync.WaitGroup
	for i := range 200 {
		raw := p.Sign(t, "es", "ES256", e.claims("eve"), map[string]any{"kid": fmt.Sprint("made-up-", i)})
		wg.Go(func() {
			if _, err := e.m.VerifyBearer(raw); !errors.Is(err, session.ErrUnknownKey) {
				t.Errorf("made-up kid: %v", err)
			}
		})
	}
	wg.Wait()
	if n := p.Fetches(); n != 1 {
		t.Fatalf("%d JWKS fetches for 200 made-up kids, want 1", n)
	}
}

func TestExternalRevocation(t *testing.T) {
	p := jwkstest.NewServer(t)
	p.AddKey(t, "es", "ES256")
	e := newExtManager(t, p, nil)
	ctx := context.Background()
	carol := p.Sign(t, "es", "ES256", e.claims("carol"), nil)
	dave := p.Sign(t, "es", "ES256", e.claims("dave"), nil)
	for _, raw := range []string{carol, dave} {
		if _, err := e.m.VerifyBearer(raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.m.RevokeToken(ctx, "jti-carol"); err != nil {
		t.Fatal(err)
	}
	if err := e.m.LogoutUser(ctx, "dave"); err != nil {
		t.Fatal(err)
	}
	// Revocations outlive the gateway's own access TTL (1h here): an
	// external token may live up to external_tokens.max_lifetime.
	e.clock.Advance(5 * time.Minute)
	for name, raw := range map[string]string{"by jti": carol, "by user": dave} {
		if _, err := e.m.VerifyBearer(raw); !errors.Is(err, session.ErrSessionRevoked) {
			t.Errorf("%s: %v, want ErrSessionRevoked", name, err)
		}
	}
	// A token the user gets after the cut-off is accepted.
	e.clock.Advance(time.Second)
	fresh := e.claims("dave")
	fresh["jti"] = "jti-dave-2"
	if _, err := e.m.VerifyBearer(p.Sign(t, "es", "ES256", fresh, nil)); err != nil {
		t.Fatalf("token issued after the user revocation: %v", err)
	}
}

func TestRevocationOutlivesOwnAccessTTL(t *testing.T) {
	p := jwkstest.NewServer(t)
	p.AddKey(t, "es", "ES256")
	e := newExtManager(t, p, nil)
	c := e.claims("erin")
	c["exp"] = e.clock.Now().Add(3 * time.Hour).Unix()
	raw := p.Sign(t, "es", "ES256", c, nil)
	if err := e.m.RevokeToken(context.Background(), "jti-erin"); err != nil {
		t.Fatal(err)
	}
	// Past the own access TTL (5m) + 5m; the sweep runs every 256 writes.
	e.clock.Advance(2 * time.Hour)
	for i := range 300 {
		if err := e.m.RevokeToken(context.Background(), fmt.Sprint("filler-", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.m.VerifyBearer(raw); !errors.Is(err, session.ErrSessionRevoked) {
		t.Fatalf("revoked 3h token after 2h: %v, want ErrSessionRevoked", err)
	}
}

func TestOwnTokensStillVerifyAndExternalNeverFromCookie(t *testing.T) {
	p := jwkstest.NewServer(t)
	p.AddKey(t, "es", "ES256")
	e := newExtManager(t, p, nil)
	is, err := e.m.Login(context.Background(), session.Identity{Subject: "frank"}, session.Client{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if pr, err := e.m.VerifyBearer(is.Access); err != nil || pr.Subject != "frank" || pr.Issuer != "" {
		t.Fatalf("own token through VerifyBearer: %+v %v", pr, err)
	}
	cookies, err := session.NewCookies(config.Default().Cookie, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	auth := &session.Authenticator{Tokens: e.m, Bearer: session.VerifierFunc(e.m.VerifyBearer), Cookies: cookies}
	ext := p.Sign(t, "es", "ES256", e.claims("grace"), nil)

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+ext)
	if res, err := auth.Authenticate(r); err != nil || res.Principal.Subject != "grace" {
		t.Fatalf("external bearer: %+v %v", res, err)
	}
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	h := http.Header{}
	cookies.Set(h, session.CookieValue{Access: ext, Refresh: "x"})
	for _, c := range (&http.Response{Header: h}).Cookies() {
		r.AddCookie(c)
	}
	if res, err := auth.Authenticate(r); err == nil || res.Principal != nil {
		t.Fatalf("external token in the cookie was accepted: %+v", res)
	}
}

func configHS256() config.Key {
	return config.Key{ID: "hs", Alg: "HS256", Secret: "0123456789abcdef0123456789abcdef"}
}

// BenchmarkVerifyBearer: the request-path cost of an external token (ES256,
// cached key; and from the verified-token cache), and what routing by iss
// adds to the gateway's own tokens.
func BenchmarkVerifyBearer(b *testing.B) {
	p := jwkstest.NewServer(b)
	p.AddKey(b, "es", "ES256")
	e := newExtManager(b, p, nil)
	ext := p.Sign(b, "es", "ES256", e.claims("alice"), nil)
	if _, err := e.m.VerifyBearer(ext); err != nil {
		b.Fatal(err)
	}
	is, err := e.m.Login(context.Background(), session.Identity{Subject: "bob"}, session.Client{})
	if err != nil {
		b.Fatal(err)
	}
	clock := &lockedClock{t: time.Now()}
	c := newCachedExt(b, p, clock, session.NewVerifyCache(64, clock.Now), nil)
	cachedTok := c.token(b, p, "carol", time.Hour)
	for name, f := range map[string]func() error{
		"external-ES256":        func() error { _, err := e.m.VerifyBearer(ext); return err },
		"external-ES256-cached": func() error { _, err := c.m.VerifyBearer(cachedTok); return err },
		"own-routed":            func() error { _, err := e.m.VerifyBearer(is.Access); return err },
		"own-direct":            func() error { _, err := e.m.Verify(is.Access); return err },
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
