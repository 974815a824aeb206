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
