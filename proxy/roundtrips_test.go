package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/memstore"
)

// countingStore is a real memstore that counts every call made to it, so
// a test can prove which requests reach the store.
type countingStore struct {
	*memstore.Store
	calls atomic.Int64
	// synced receives after every Revocations call: the mirror's loads.
	synced chan struct{}
}

func (c *countingStore) Create(ctx context.Context, rec session.Record) error {
	c.calls.Add(1)
	return c.Store.Create(ctx, rec)
}

func (c *countingStore) Get(ctx context.Context, id string) (session.Record, error) {
	c.calls.Add(1)
	return c.Store.Get(ctx, id)
}

func (c *countingStore) Rotate(ctx context.Context, id string, r session.Rotation) (session.Record, session.Outcome, error) {
	c.calls.Add(1)
	return c.Store.Rotate(ctx, id, r)
}

func (c *countingStore) Revoke(ctx context.Context, id string) error {
	c.calls.Add(1)
	return c.Store.Revoke(ctx, id)
}

func (c *countingStore) ListUser(ctx context.Context, subject string, now time.Time) ([]session.Record, error) {
	c.calls.Add(1)
	return c.Store.ListUser(ctx, subject, now)
}

func (c *countingStore) RevokeUser(ctx context.Context, subject string) ([]string, error) {
	c.calls.Add(1)
	return c.Store.RevokeUser(ctx, subject)
}

func (c *countingStore) AddRevocation(ctx context.Context, r session.Revocation) error {
	c.calls.Add(1)
	return c.Store.AddRevocation(ctx, r)
}

func (c *countingStore) Revocations(ctx context.Context, now time.Time) ([]session.Revocation, error) {
	c.calls.Add(1)
	defer func() {
		select {
		case c.synced <- struct{}{}:
		default:
		}
	}()
	return c.Store.Revocations(ctx, now)
}

// awaitSyncs waits for n mirror loads.
func (c *countingStore) awaitSyncs(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-c.synced:
		case <-time.After(10 * time.Second):
			t.Fatal("the revocation mirror did not load")
		}
	}
}

func (c *countingStore) SubscribeRevocations(ctx context.Context, fn func(session.Revocation), resync func()) error {
	c.calls.Add(1)
	return c.Store.SubscribeRevocations(ctx, fn, resync)
}

// TestVerifiedRequestsMakeNoStoreRoundTrips proves the hot-path promise of
// issue #9: a verified, proxied request — cookie or bearer, verified-token
// cache on or off — makes zero store calls; revocation comes from the
// local mirror, and a revocation made meanwhile still takes effect at once.
func TestVerifiedRequestsMakeNoStoreRoundTrips(t *testing.T) {
	const n = 200
	for _, cacheSize := range []int{0, 4096} {
		for _, bearer := range []bool{false, true} {
			name := map[bool]string{false: "cookie", true: "bearer"}[bearer]
			name += map[bool]string{false: "/cache-off", true: "/cache-on"}[cacheSize > 0]
			t.Run(name, func(t *testing.T) {
				env := newTestEnv(t, func(c *config.Config) {
					c.Tokens.VerifyCacheSize = cacheSize
					// The mirror's reconcile ticker (MaxStaleness/3) must not
					// fire during the test: it is time-driven, not per request.
					c.Store.MaxStaleness = time.Hour
				})
				store := &countingStore{Store: memstore.New(memstore.Options{}), synced: make(chan struct{}, 8)}
				gw, err := New(env.cfg, Options{Store: store})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				if err := gw.Start(ctx); err != nil {
					t.Fatal(err)
				}
				if gw.mirror == nil || !gw.mirror.Started() {
					t.Fatal("no revocation mirror: the store is not shared, the test proves nothing")
				}
				// The mirror's start-up: the load in Start, then (in its
				// goroutine) subscribe and load again. Wait for both, so
				// only what requests cause is counted below.
				store.awaitSyncs(t, 2)
				victim := startSession(t, gw, "victim")
				alice := startSession(t, gw, "alice")

				get := func(s issued) int {
					r := httptest.NewRequest(http.MethodGet, "/app/x", nil)
					if bearer {
						r.Header.Set("Authorization", "Bearer "+s.access)
					} else {
						r.Header.Set("Cookie", s.cookie)
					}
					w := httptest.NewRecorder()
					gw.ServeHTTP(w, r)
					return w.Code
				}
				before := store.calls.Load()
				for i := range n {
					if code := get(alice); code != http.StatusOK {
						t.Fatalf("request %d: status %d", i, code)
					}
				}
				if got := store.calls.Load() - before; got != 0 {
					t.Fatalf("%d verified requests made %d store calls, want 0", n, got)
				}
				if env.up.count() != n {
					t.Fatalf("upstream saw %d requests, want %d", env.up.count(), n)
				}

				// A logout is one store write (and a pub/sub message)...
				if code := get(victim); code != http.StatusOK {
					t.Fatalf("victim before logout: %d", code)
				}
				if err := gw.sessions.Logout(ctx, victim.sid); err != nil {
					t.Fatal(err)
				}
				// ...after which the victim is refused and alice served, still
				// without a store call per request.
				before = store.calls.Load()
				for range n / 2 {
					if code := get(victim); code != http.StatusUnauthorized {
						t.Fatalf("revoked session: status %d, want 401", code)
					}
					if code := get(alice); code != http.StatusOK {
						t.Fatalf("alice after another logout: %d", code)
					}
				}
				if got := store.calls.Load() - before; got != 0 {
					t.Fatalf("requests after a revocation made %d store calls, want 0", got)
				}
			})
		}
	}
}

// issued is a session started directly on a gateway.
type issued struct{ access, cookie, sid string }

func startSession(t *testing.T, gw *Gateway, subject string) issued {
	t.Helper()
	iss, err := gw.sessions.Login(context.Background(), session.Identity{Subject: subject, Roles: []string{"user"}}, session.Client{})
	if err != nil {
		t.Fatal(err)
	}
	v := session.CookieValue{Access: iss.Access, Refresh: iss.Refresh}
	return issued{access: iss.Access, cookie: gw.cookies.Name() + "=" + v.Encode(), sid: iss.Principal.SessionID}
}
