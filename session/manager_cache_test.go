package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/memstore"
)

// cachedManager builds a Manager with a verify cache on clock, its Tokens
// configured by tokens (audience etc.), on the given key set.
func cachedManager(t testing.TB, clock *lockedClock, ks *session.KeySet, cache *session.VerifyCache, tokens func(*config.Tokens)) (*session.Manager, *session.Tokens) {
	t.Helper()
	cfg := config.Default().Tokens
	cfg.AccessTTL = time.Hour
	if tokens != nil {
		tokens(&cfg)
	}
	tk, err := session.NewTokens(cfg, ks, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	refresh, err := session.NewRefreshTokens([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.NewManager(session.ManagerOptions{
		Tokens: tk, Refresh: refresh, Store: memstore.New(memstore.Options{Now: clock.Now}),
		Revocations: session.NewRevocations(clock.Now), IdleTimeout: 24 * time.Hour,
		AbsoluteLifetime: 48 * time.Hour, Now: clock.Now, Cache: cache,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, tk
}

func newKeySet(t testing.TB) *session.KeySet {
	t.Helper()
	key, err := session.GenerateKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	ks, err := session.NewKeySet([]*session.Key{key}, "")
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// TestVerifyCacheStillChecksRevocation: a cached token is rejected as soon
// as its session, its user or the token itself is revoked.
func TestVerifyCacheStillChecksRevocation(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		revoke func(m *session.Manager, iss session.Issued) error
	}{
		{"logout", func(m *session.Manager, iss session.Issued) error { return m.Logout(ctx, iss.Principal.SessionID) }},
		{"user", func(m *session.Manager, iss session.Issued) error { return m.LogoutUser(ctx, iss.Principal.Subject) }},
		{"token", func(m *session.Manager, iss session.Issued) error { return m.RevokeToken(ctx, iss.Principal.TokenID) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &lockedClock{t: time.Now()}
			cache := session.NewVerifyCache(64, clock.Now)
			m, _ := cachedManager(t, clock, newKeySet(t), cache, nil)
			iss, err := m.Login(ctx, session.Identity{Subject: "alice"}, session.Client{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Verify(iss.Access); err != nil {
				t.Fatal(err)
			}
			if cache.Len() != 1 {
				t.Fatalf("cache Len = %d after one verification, want 1", cache.Len())
			}
			if err := tt.revoke(m, iss); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Verify(iss.Access); !errors.Is(err, session.ErrSessionRevoked) {
				t.Fatalf("cached token after revocation: err = %v, want ErrSessionRevoked", err)
			}
		})
	}
}

// TestVerifyCacheNeverServesAnotherVerifier: two gateways sharing one
// cache and one key set, differing in audience (or only in being another
// instance): a token the first cached is still checked in full by the
// second.
func TestVerifyCacheNeverServesAnotherVerifier(t *testing.T) {
	ctx := context.Background()
	clock := &lockedClock{t: time.Now()}
	ks := newKeySet(t)
	cache := session.NewVerifyCache(64, clock.Now)
	a, _ := cachedManager(t, clock, ks, cache, nil)
	b, _ := cachedManager(t, clock, ks, cache, func(c *config.Tokens) { c.Audience = "other-app" })
	iss, err := a.Login(ctx, session.Identity{Subject: "alice"}, session.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verify(iss.Access); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(iss.Access); !errors.Is(err, session.ErrWrongAudience) {
		t.Fatalf("other audience, same cache: err = %v, want ErrWrongAudience", err)
	}
	twin, twinTokens := cachedManager(t, clock, ks, cache, nil)
	if twinTokens.VerifierID() == "" || cache.Len() != 1 {
		t.Fatalf("VerifierID empty or cache Len %d", cache.Len())
	}
	if _, err := twin.Verify(iss.Access); err != nil {
		t.Fatal(err)
	}
	if cache.Len() != 2 {
		t.Errorf("an identical second verifier reused the first one's entry: Len = %d, want 2", cache.Len())
	}
}

// TestVerifyCacheExpiry: a cached token expires like any other: inside the
// leeway it is still accepted (by full verification), beyond it rejected
// as expired.
func TestVerifyCacheExpiry(t *testing.T) {
	ctx := context.Background()
	clock := &lockedClock{t: time.Now()}
	cache := session.NewVerifyCache(64, clock.Now)
	m, _ := cachedManager(t, clock, newKeySet(t), cache, nil)
	iss, err := m.Login(ctx, session.Identity{Subject: "alice"}, session.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(iss.Access); err != nil {
		t.Fatal(err)
	}
	clock.Advance(iss.Principal.ExpiresAt.Sub(clock.Now())) // at exp
	if _, err := m.Verify(iss.Access); err != nil {
		t.Fatalf("within the leeway: %v", err)
	}
	if cache.Len() != 0 {
		t.Errorf("entry kept or re-added at exp: Len = %d", cache.Len())
	}
	clock.Advance(config.Default().Tokens.Leeway)
	if _, err := m.Verify(iss.Access); !errors.Is(err, session.ErrTokenExpired) {
		t.Fatalf("beyond the leeway: err = %v, want ErrTokenExpired", err)
	}
}
