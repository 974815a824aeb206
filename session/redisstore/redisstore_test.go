package redisstore

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/internal/redistest"
	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/sessiontest"
)

// All tests run against real redis-server processes (internal/redistest);
// each test starts its own, and each store gets a fresh key prefix.

// prefix returns a key prefix no other store of the test binary uses.
func prefix() string { return "t" + session.NewID() + ":" }

// open returns a Store on cfg, closed at the end of the test.
func open(t testing.TB, cfg config.Redis, opts Options) *Store {
	t.Helper()
	s, err := New(cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// single is the config of one server with a fresh prefix.
func single(addr string) config.Redis {
	return config.Redis{Addrs: []string{addr}, KeyPrefix: prefix()}
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	sessiontest.Run(t, func(t *testing.T) session.Store { return open(t, single(srv.Addr), Options{}) })
}

func TestRevocationConformance(t *testing.T) {
	srv := redistest.Start(t)
	sessiontest.RunRevocations(t, func(t *testing.T) session.RevocationStore {
		return open(t, single(srv.Addr), Options{})
	})
}

// TestConformanceCluster runs both suites against a three-master Redis
// Cluster: every script touches one slot, and revocations published on
// one node reach subscribers connected to another.
func TestConformanceCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Redis Cluster")
	}
	addrs := redistest.StartCluster(t)
	cluster := func() config.Redis {
		return config.Redis{Addrs: addrs, Cluster: true, KeyPrefix: prefix()}
	}
	t.Run("Store", func(t *testing.T) {
		sessiontest.Run(t, func(t *testing.T) session.Store { return open(t, cluster(), Options{}) })
	})
	t.Run("Revocations", func(t *testing.T) {
		sessiontest.RunRevocations(t, func(t *testing.T) session.RevocationStore { return open(t, cluster(), Options{}) })
	})
}

// base is the login time of this file's sessions; far ahead, so that
// PEXPIREAT on Redis's clock never reaps them during a test.
func base() time.Time { return time.Date(2100, time.March, 1, 12, 0, 0, 0, time.UTC) }

const (
	idle     = 30 * time.Minute
	lifetime = 12 * time.Hour
	grace    = 10 * time.Second
)

func newRecord(id, subject string) session.Record {
	return session.Record{
		ID:            id,
		Identity:      session.Identity{Subject: subject, Roles: []string{"user"}},
		CreatedAt:     base(),
		RefreshedAt:   base(),
		IdleExpiresAt: base().Add(idle),
		ExpiresAt:     base().Add(lifetime),
		RefreshHash:   session.HashRefreshToken(id + " token 0"),
	}
}

// rotation presents token i of session id at now, asking for token i+1.
func rotation(id string, i int, now time.Time) session.Rotation {
	return session.Rotation{
		Presented:   session.HashRefreshToken(id + " token " + string(rune('0'+i))),
		Next:        session.HashRefreshToken(id + " token " + string(rune('1'+i))),
		Identity:    session.Identity{Subject: "alice", Roles: []string{"user"}},
		Now:         now,
		Grace:       grace,
		IdleTimeout: idle,
	}
}

func mustCreate(t testing.TB, s *Store, rec session.Record) {
	t.Helper()
	if err := s.Create(t.Context(), rec); err != nil {
		t.Fatalf("Create(%s): %v", rec.ID, err)
	}
}

// TestTTLs: every key the store writes has a TTL, and it is the one the
// package doc promises.
func TestTTLs(t *testing.T) {
	srv := redistest.Start(t)
	cfg := single(srv.Addr)
	s := open(t, cfg, Options{})
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = raw.Close() })
	ctx := t.Context()

	mustCreate(t, s, newRecord("s1", "alice"))
	mustCreate(t, s, newRecord("s2", "alice"))
	if err := s.Create(ctx, newRecord("s1", "mallory")); !errors.Is(err, ErrExists) {
		t.Errorf("Create(existing id) error = %v, want ErrExists", err)
	}
	now := base().Add(20 * time.Minute)
	if _, out, err := s.Rotate(ctx, "s1", rotation("s1", 0, now)); err != nil || out != session.Rotated {
		t.Fatalf("Rotate = %v, %v", out, err)
	}
	if err := s.Revoke(ctx, "s2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, "never created"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRevocation(ctx, session.Revocation{Kind: session.RevokeSessionKind, ID: "s2", Until: base().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRevocation(ctx, session.Revocation{Kind: session.RevokeTokenKind, ID: "j", Until: base().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}

	want := map[string]time.Time{
		"s:{s1}":    now.Add(idle + DefaultTombstone),    // moved by the rotation
		"s:{s2}":    base().Add(idle + DefaultTombstone), // revoked: kept as a tombstone
		"u:{alice}": now.Add(idle + DefaultTombstone),    // its latest session
		// The index is written before the session, so the refused Create
		// left an entry, which readers skip and time removes.
		"u:{mallory}": base().Add(idle + DefaultTombstone),
		"rev":         base().Add(time.Hour), // its latest entry
	}
	var keys []string
	iter := raw.Scan(ctx, 0, cfg.KeyPrefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(want) {
		t.Errorf("keys %q, want the %d of %v ", keys, len(want), want)
	}
	for _, k := range keys {
		pttl, err := raw.PTTL(ctx, k).Result()
		if err != nil || pttl < 0 {
			t.Errorf("PTTL(%s) = %v, %v; want a TTL", k, pttl, err)
		}
		at, err := raw.PExpireTime(ctx, k).Result()
		name := strings.TrimPrefix(k, cfg.KeyPrefix)
		if w, ok := want[name]; !ok {
			t.Errorf("unexpected key %s", k)
		} else if err != nil || at != time.Duration(w.UnixMilli())*time.Millisecond {
			t.Errorf("PEXPIRETIME(%s) = %v, %v; want %v", name, time.UnixMilli(at.Milliseconds()).UTC(), err, w)
		}
	}
}

// TestTwoStoresRotateConcurrently: two replicas (two clients) rotating the
// same session with the same token at once end on one chain.
func TestTwoStoresRotateConcurrently(t *testing.T) {
	srv := redistest.Start(t)
	cfg := single(srv.Addr)
	stores := []*Store{open(t, cfg, Options{}), open(t, cfg, Options{})}
	rec := newRecord("s1", "alice")
	mustCreate(t, stores[0], rec)
	r := rotation("s1", 0, base().Add(time.Minute))

	const perStore = 50
	var (
		mu     sync.Mutex
		counts = map[session.Outcome]int{}
		wg     sync.WaitGroup
		start  = make(chan struct{})
	)
	for _, s := range stores {
		for range perStore {
			wg.Go(func() {
				<-start
				got, out, err := s.Rotate(t.Context(), "s1", r)
				if err != nil {
					t.Errorf("Rotate: %v", err)
					return
				}
				if !bytes.Equal(got.RefreshHash, r.Next) {
					t.Errorf("Rotate (%v) returned a record whose current hash is not Next", out)
				}
				mu.Lock()
				counts[out]++
				mu.Unlock()
			})
		}
	}
	close(start)
	wg.Wait()
	if counts[session.Rotated] != 1 || counts[session.Reissued] != 2*perStore-1 {
		t.Errorf("outcomes: %d Rotated, %d Reissued; want 1 and %d", counts[session.Rotated], counts[session.Reissued], 2*perStore-1)
	}
	for i, s := range stores {
		got, err := s.Get(t.Context(), "s1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Revoked || !bytes.Equal(got.RefreshHash, r.Next) || !bytes.Equal(got.PrevHash, rec.RefreshHash) ||
			!got.RefreshedAt.Equal(r.Now) || !got.PrevValidUntil.Equal(r.Now.Add(grace)) {
			t.Errorf("store %d: after the stampede: revoked %v, refreshed %v, prev valid until %v; want one rotation at %v, live",
				i, got.Revoked, got.RefreshedAt, got.PrevValidUntil, r.Now)
		}
	}
}
