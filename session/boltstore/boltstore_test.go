package boltstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/sessiontest"
)

func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store { return openTemp(t, Options{}) })
}

func TestRevocationConformance(t *testing.T) {
	sessiontest.RunRevocations(t, func(t *testing.T) session.RevocationStore { return openTemp(t, Options{}) })
}

// base is the login time of this package's own test sessions.
func base() time.Time { return time.Date(2030, time.March, 1, 12, 0, 0, 0, time.UTC) }

const idle = 30 * time.Minute

// openTemp opens a new database in t's temporary directory, closed when
// the test ends.
func openTemp(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "sessions.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// record is a live session of subject created at base: idle until
// base+30m, at most until base+12h, with token hash tokenHash(id, 0).
func record(id, subject string) session.Record {
	return session.Record{
		ID: id,
		Identity: session.Identity{
			Subject: subject, Email: subject + "@example.com", Roles: []string{"user"},
			Claims: map[string]any{"team": "blue", "level": float64(3)},
		},
		CreatedAt:     base(),
		RefreshedAt:   base(),
		IdleExpiresAt: base().Add(idle),
		ExpiresAt:     base().Add(12 * time.Hour),
		UserAgent:     "test/1.0",
		IP:            "192.0.2.1",
		Source:        "users",
		RefreshHash:   tokenHash(id, 0),
	}
}

// tokenHash is the hash of session id's i-th refresh token in these tests.
func tokenHash(id string, i int) []byte {
	return session.HashRefreshToken(fmt.Sprintf("%s token %d", id, i))
}

// rotation presents token i of session id at now and asks for token i+1.
func rotation(id string, i int, now time.Time) session.Rotation {
	return session.Rotation{
		Presented: tokenHash(id, i), Next: tokenHash(id, i+1),
		Identity: session.Identity{Subject: "alice", Roles: []string{"user"}},
		Now:      now, Grace: 10 * time.Second, IdleTimeout: idle,
	}
}

// fakeClock is the injected Options.Now; tests move it, never sleep.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func mustCreate(t testing.TB, s *Store, rec session.Record) {
	t.Helper()
	if err := s.Create(context.Background(), rec); err != nil {
		t.Fatalf("Create(%s): %v", rec.ID, err)
	}
}

// bucketSizes counts the keys of every bucket of s.
func bucketSizes(t testing.TB, s *Store) map[string]int {
	t.Helper()
	sizes := map[string]int{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(_, _ []byte) error { sizes[string(name)]++; return nil })
		})
	})
	if err != nil {
		t.Fatalf("counting keys: %v", err)
	}
	return sizes
}

// sizesOf is bucketSizes of the session buckets, as
// {sessions, subjects, expiry}, and of the revocation buckets.
func sizesOf(t testing.TB, s *Store) (sessions [3]int, revocations [2]int) {
	t.Helper()
	m := bucketSizes(t, s)
	return [3]int{m[bucketSessions], m[bucketSubjects], m[bucketExpiry]},
		[2]int{m[bucketRevocations], m[bucketRevocationExp]}
}
