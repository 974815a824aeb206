package session_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/jwks"
	"github.com/gatehouse/gatehouse/session/jwks/jwkstest"
	"github.com/gatehouse/gatehouse/session/memstore"
)

// countingKeys is a real jwks.Set that counts key lookups: a lookup is
// a full verification, a cache hit makes none.
type countingKeys struct {
	set     *jwks.Set
	lookups atomic.Int64
}

func (c *countingKeys) Lookup(ctx context.Context, kid string) (jwks.Key, error) {
	c.lookups.Add(1)
	return c.set.Lookup(ctx, kid)
}

// cachedExt is a Manager with one external issuer of p and a verify
// cache shared with whoever else is given it.
type cachedExt struct {
	m     *session.Manager
	keys  *countingKeys
	clock *lockedClock
}

// newCachedExt builds a Manager on clock whose only external issuer is p
// (as configured by mutate), verifying through cache.
func newCachedExt(t testing.TB, p *jwkstest.Server, clock *lockedClock, cache *session.VerifyCache, mutate func(*config.Issuer)) *cachedExt {
	t.Helper()
	key, err := session.GenerateKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := session.NewKeySet([]*session.Key{key}, "")
	tcfg := config.Default().Tokens
	tokens, err := session.NewTokens(tcfg, ks, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	refresh, _ := session.NewRefreshTokens([]byte("0123456789abcdef0123456789abcdef"))
	shared := config.Default().ExternalTokens // refetch_interval 30s: the cache bound
	ic := config.Issuer{Issuer: extIss, JWKSURL: p.JWKSURL, Audiences: []string{"api"}, Algorithms: []string{"ES256"}}
	if mutate != nil {
		mutate(&ic)
	}
	set, err := jwks.New(jwks.Options{Issuer: ic.Issuer, URL: ic.JWKSURL, Timeout: shared.FetchTimeout, MaxBytes: int64(shared.MaxJWKSBytes),
		RefetchInterval: shared.RefetchInterval, CacheMin: shared.CacheMin, CacheMax: shared.CacheMax, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	keys := &countingKeys{set: set}
	m, err := session.NewManager(session.ManagerOptions{
		Tokens: tokens, Refresh: refresh, Store: memstore.New(memstore.Options{Now: clock.Now}),
		Revocations: session.NewRevocations(clock.Now), IdleTimeout: 24 * time.Hour, AbsoluteLifetime: 48 * time.Hour,
		Now: clock.Now, Cache: cache, ExternalLifetime: shared.MaxLifetime,
		External: session.NewIssuers(tcfg.Issuer, shared.MaxTokenBytes, session.NewExternal(ic, shared, keys, clock.Now)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &cachedExt{m: m, keys: keys, clock: clock}
}

// token signs an ES256 token for sub that expires in ttl.
func (c *cachedExt) token(t testing.TB, p *jwkstest.Server, sub string, ttl time.Duration) string {
	now := c.clock.Now()
	return p.Sign(t, "es", "ES256", jwt.MapClaims{
		"iss": extIss, "aud": "api", "sub": sub, "jti": "jti-" + sub,
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	}, nil)
}

// verify calls VerifyBearer and reports whether it verified in full (a
// key lookup) rather than from the cache.
func (c *cachedExt) verify(t *testing.T, raw string) (full bool, err error) {
	t.Helper()
	before := c.keys.lookups.Load()
	_, err = c.m.VerifyBearer(raw)
	return c.keys.lookups.Load() != before, err
}

func TestExternalCacheHitAndExpiry(t *testing.T) {
	p := jwkstest.NewServer(t)
	p.AddKey(t, "es", "ES256")
	clock := &lockedClock{t: time.Now().Truncate(time.Second)}
	cache := session.NewVerifyCache(64, clock.Now)
	c := newCachedExt(t, p, clock, cache, nil)
	raw := c.token(t, p, "alice", 20*time.Second) // exp before the 30s bound
	steps := []struct {
		advance  time.Duration
		wantFull bool
	}{
		{0, true},                 // first sight
		{0, false},                // hit
		{19 * time.Second, false}, // hit, one second before exp
		{time.Second, true},       // at exp: dropped, verified again (within leeway)
		{time.Second, true},       // past exp nothing is stored again
		{30 * time.Second, true},  // past exp + leeway: rejected in full
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		full, err := c.verify(t, raw)
		if full != s.wantFull {
			t.Fatalf("step %d: full verification = %v, want %v (err %v)", i, full, s.wantFull, err)
		}
		if wantErr := i == len(steps)-1; (err != nil) != wantErr {
			t.Fatalf("step %d: err = %v, want error %v", i, err, wantErr)
		}
	}
	if !errors.Is(func() error { _, err := c.m.VerifyBearer(raw); return err }(), session.ErrTokenExpired) {
		t.Fatal("expired token not reported as ErrTokenExpired")
	}
}

// TestExternalCacheBound: an entry lives at most refetch_interval, so a
// token signed by a key the issuer has removed stops working within it,
// although its exp is far.
func TestExternalCacheBound(t *testing.T) {
	p := jwkstest.NewServer(t)
	p.AddKey(t, "es", "ES256")
	clock := &lockedClock{t: time.Now().Truncate(time.Second)}
	c := newCachedExt(t, p, clock, session.NewVerifyCache(64, clock.Now), nil)
	raw := c.token(t, p, "alice", time.Hour)
	if full, err := c.verify(t, raw); err != nil || !full {
		t.Fatalf("first: full %v, err %v", full, err)
	}
	// The issuer rotates the key away and the gateway's set learns it.
	p.SetJWKs()
	p.AddKey(t, "es2", "ES256")
	if err := c.keys.set.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(29 * time.Second)
	if full, err := c.verify(t, raw); err != nil || full {
		t.Fatalf("within the bound: full %v, err %v; want a cache hit", full, err)
	}
	clock.Advance(time.Second)
	full, err := c.verify(t, raw)
	if !full || !errors.Is(err, session.ErrUnknownKey) {
		t.Fatalf("at the bound: full %v, err %v; want a full verification failing with ErrUnknownKey", full, err)
	}
}

// TestExternalCacheNeverServesAnotherIssuerEntry: managers sharing one
// cache and one IdP but differing in the issuer entry (audience, or only
// being another entry) each verify the token in full.
func TestExternalCacheNeverServesAnotherIssuerEntry(t *testing.T) {
	p := jwkstest.NewServer(t)
	p.AddKey(t, "es", "ES256")
	clock := &lockedClock{t: time.Now().Truncate(time.Second)}
	cache := session.NewVerifyCache(64, clock.Now)
	a := newCachedExt(t, p, clock, cache, nil)
	raw := a.token(t, p, "alice", time.Hour)
	if _, err := a.verify(t, raw); err != nil {
		t.Fatal(err)
	}
	other := newCachedExt(t, p, clock, cache, func(ic *config.Issuer) { ic.Audiences = []string{"other-api"} })
	if full, err := other.verify(t, raw); !full || !errors.Is(err, session.ErrWrongAudience) {
		t.Fatalf("other audience, same cache: full %v, err %v; want ErrWrongAudience from a full verification", full, err)
	}
	twin := newCachedExt(t, p, clock, cache, nil)
	if full, err := twin.verify(t, raw); !full || err != nil {
		t.Fatalf("twin entry: full %v, err %v; want a full, successful verification", full, err)
	}
	if cache.Len() != 2 {
		t.Fatalf("cache Len = %d, want 2 (one per issuer entry)", cache.Len())
	}
}

func TestExternalCacheStillChecksRevocation(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		revoke func(m *session.Manager) error
	}{
		{"token", func(m *session.Manager) error { return m.RevokeToken(ctx, "jti-alice") }},
		{"user", func(m *session.Manager) error { return m.LogoutUser(ctx, "alice") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := jwkstest.NewServer(t)
			p.AddKey(t, "es", "ES256")
			clock := &lockedClock{t: time.Now().Truncate(time.Second)}
			c := newCachedExt(t, p, clock, session.NewVerifyCache(64, clock.Now), nil)
			raw := c.token(t, p, "alice", time.Hour)
			clock.Advance(time.Second) // the user revocation cuts off tokens issued up to now
			for range 2 {
				if _, err := c.verify(t, raw); err != nil {
					t.Fatal(err)
				}
			}
			if err := tt.revoke(c.m); err != nil {
				t.Fatal(err)
			}
			full, err := c.verify(t, raw)
			if full || !errors.Is(err, session.ErrSessionRevoked) {
				t.Fatalf("cached token after revocation: full %v, err %v; want ErrSessionRevoked from the cache", full, err)
			}
		})
	}
}

// TestVerifyBearerIsOneLookup: with external issuers, a bearer token is
// looked up once per request, whichever verifier takes it: the own
// token's miss is not counted twice (once before routing by iss, once in
// Verify).
func TestVerifyBearerIsOneLookup(t *testing.T) {
	p := jwkstest.NewServer(t)
	p.AddKey(t, "es", "ES256")
	clock := &lockedClock{t: time.Now().Truncate(time.Second)}
	cache := session.NewVerifyCache(64, clock.Now)
	c := newCachedExt(t, p, clock, cache, nil)
	own, err := c.m.Login(context.Background(), session.Identity{Subject: "bob"}, session.Client{})
	if err != nil {
		t.Fatal(err)
	}
	ext := c.token(t, p, "alice", time.Hour)
	steps := []struct {
		name         string
		raw          string
		hits, misses uint64
	}{
		{"own token, first sight", own.Access, 0, 1},
		{"own token again", own.Access, 1, 1},
		{"external token, first sight", ext, 1, 2},
		{"external token again", ext, 2, 2},
	}
	for _, s := range steps {
		if _, err := c.m.VerifyBearer(s.raw); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if st := cache.Stats(); st.Hits != s.hits || st.Misses != s.misses {
			t.Fatalf("after %s: %d hits, %d misses; want %d, %d", s.name, st.Hits, st.Misses, s.hits, s.misses)
		}
	}
}
