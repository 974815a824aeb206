package session_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/memstore"
)

type lockedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *lockedClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *lockedClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// newManager builds a Manager on a memstore that shares revocations
// through a started Mirror.
func newManager(t *testing.T, failOpen bool) (*session.Manager, *lockedClock, *session.Mirror) {
	t.Helper()
	clock := &lockedClock{t: time.Now()}
	key, err := session.GenerateKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	ks, err := session.NewKeySet([]*session.Key{key}, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default().Tokens
	cfg.AccessTTL = time.Hour
	tokens, err := session.NewTokens(cfg, ks, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	refresh, err := session.NewRefreshTokens([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New(memstore.Options{Now: clock.Now})
	list := session.NewRevocations(clock.Now)
	// The mirror syncs at Start, then once more in the background right
	// after it subscribes, then on a ticker that runs on real time. A test
	// that moves the clock must not meet a late sync that makes a stale
	// mirror fresh again: the ticker's interval is an hour, and
	// newManager returns only after the post-subscription sync.
	synced := make(chan struct{}, 4)
	mirror := session.NewMirror(session.MirrorOptions{List: list, Source: store, MaxStaleness: 30 * time.Second, Interval: time.Hour, Now: clock.Now,
		OnSync: func(error) {
			select {
			case synced <- struct{}{}:
			default:
			}
		}})
	m, err := session.NewManager(session.ManagerOptions{
		Tokens: tokens, Refresh: refresh, Store: store, Revocations: list, Shared: store, Mirror: mirror,
		FailOpen: failOpen, IdleTimeout: 24 * time.Hour, AbsoluteLifetime: 48 * time.Hour, Grace: 30 * time.Second, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := mirror.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 { // Start's sync and the one after subscribing
		select {
		case <-synced:
		case <-time.After(10 * time.Second):
			t.Fatal("the mirror did not sync after subscribing")
		}
	}
	return m, clock, mirror
}

// TestStaleMirror: valid tokens work while the mirror is fresh; once it is
// staler than MaxStaleness, verification fails closed with
// ErrStoreUnavailable, or, configured to fail open, still succeeds.
func TestStaleMirror(t *testing.T) {
	for _, failOpen := range []bool{false, true} {
		m, clock, mirror := newManager(t, failOpen)
		is, err := m.Login(context.Background(), session.Identity{Subject: "alice"}, session.Client{Source: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Verify(is.Access); err != nil || !mirror.Fresh() {
			t.Fatalf("fresh mirror: %v (fresh=%v)", err, mirror.Fresh())
		}
		clock.Advance(31 * time.Second) // no sync can have happened: the ticker's interval is an hour of real time
		_, err = m.Verify(is.Access)
		switch {
		case failOpen && err != nil:
			t.Errorf("fail open: %v", err)
		case !failOpen && !errors.Is(err, session.ErrStoreUnavailable):
			t.Errorf("fail closed: %v, want ErrStoreUnavailable", err)
		}
	}
}

// TestRevocationKinds: logout, logout-everywhere and jti revocation each
// stop exactly the tokens they cover, at once.
func TestRevocationKinds(t *testing.T) {
	m, clock, _ := newManager(t, false)
	ctx := context.Background()
	login := func() session.Issued {
		is, err := m.Login(ctx, session.Identity{Subject: "alice"}, session.Client{})
		if err != nil {
			t.Fatal(err)
		}
		return is
	}
	a, b := login(), login()
	if err := m.Logout(ctx, a.Principal.SessionID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(a.Access); !errors.Is(err, session.ErrSessionRevoked) {
		t.Errorf("logged-out session: %v", err)
	}
	if _, err := m.Verify(b.Access); err != nil {
		t.Errorf("the other session: %v", err)
	}

	if err := m.RevokeToken(ctx, b.Principal.TokenID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(b.Access); !errors.Is(err, session.ErrSessionRevoked) {
		t.Errorf("revoked jti: %v", err)
	}

	c := login()
	if err := m.LogoutUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(c.Access); !errors.Is(err, session.ErrSessionRevoked) {
		t.Errorf("user revocation, token of the same second: %v", err)
	}
	clock.Advance(2 * time.Second)
	d := login() // issued after the cut-off: alive
	if _, err := m.Verify(d.Access); err != nil {
		t.Errorf("a login after logout-everywhere: %v", err)
	}
}

// TestLogoutSource: only the subject's sessions from that source end, at
// once; the same subject from another source, and another subject from
// the same source, keep theirs.
func TestLogoutSource(t *testing.T) {
	m, _, _ := newManager(t, false)
	ctx := context.Background()
	login := func(subject, source string) session.Issued {
		is, err := m.Login(ctx, session.Identity{Subject: subject}, session.Client{Source: source})
		if err != nil {
			t.Fatal(err)
		}
		return is
	}
	kc1, kc2 := login("alice", "oidc:kc"), login("alice", "oidc:kc")
	tests := []struct {
		name    string
		is      session.Issued
		revoked bool
	}{
		{"alice from the provider", kc1, true},
		{"alice's second session from the provider", kc2, true},
		{"alice from the users file", login("alice", "users"), false},
		{"alice from another provider", login("alice", "oidc:dex"), false},
		{"bob from the provider", login("bob", "oidc:kc"), false},
	}
	ended, err := m.LogoutSource(ctx, "alice", "oidc:kc")
	if err != nil {
		t.Fatal(err)
	}
	if len(ended) != 2 {
		t.Errorf("ended %q, want the two sessions %s and %s", ended, kc1.Principal.SessionID, kc2.Principal.SessionID)
	}
	for _, tt := range tests {
		_, err := m.Verify(tt.is.Access)
		if got := errors.Is(err, session.ErrSessionRevoked); got != tt.revoked || (!tt.revoked && err != nil) {
			t.Errorf("%s: Verify = %v, want revoked %v", tt.name, err, tt.revoked)
		}
		rec, err := m.Get(ctx, tt.is.Principal.SessionID)
		if err != nil || rec.Revoked != tt.revoked {
			t.Errorf("%s: record revoked %v (%v), want %v", tt.name, rec.Revoked, err, tt.revoked)
		}
	}
	if ended, err := m.LogoutSource(ctx, "alice", "oidc:kc"); err != nil || len(ended) != 0 {
		t.Errorf("again: ended %q, %v; want none, no error", ended, err)
	}
}
