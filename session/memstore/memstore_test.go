package memstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/sessiontest"
)

func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store { return New(Options{}) })
}

// base is the login time of this file's sessions.
func base() time.Time { return time.Date(2030, time.March, 1, 12, 0, 0, 0, time.UTC) }

const idle = 30 * time.Minute

// record is a live session of subject created at base: idle until
// base+30m, at most until base+12h.
func record(id, subject string) session.Record {
	return session.Record{
		ID:            id,
		Identity:      session.Identity{Subject: subject, Roles: []string{"user"}},
		CreatedAt:     base(),
		RefreshedAt:   base(),
		IdleExpiresAt: base().Add(idle),
		ExpiresAt:     base().Add(12 * time.Hour),
		RefreshHash:   session.HashRefreshToken(id + " token 0"),
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

// sizes reports how many records, subjects and heap entries s holds.
func sizes(s *Store) (records, subjects, heap int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID), len(s.bySubject), len(s.expiry)
}

func TestSweep(t *testing.T) {
	for _, tc := range []struct {
		name      string
		tombstone time.Duration
		want      time.Duration
	}{
		{"default tombstone", 0, DefaultTombstone},
		{"ten minutes", 10 * time.Minute, 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			clock := &fakeClock{t: base()}
			s := New(Options{Now: clock.Now, Tombstone: tc.tombstone})
			mustCreate(t, s, record("a1", "alice"))
			mustCreate(t, s, record("a2", "alice"))
			mustCreate(t, s, record("b1", "bob"))
			if err := s.Revoke(ctx, "b1"); err != nil {
				t.Fatal(err)
			}
			// a2 is refreshed, which moves its deadline (and TTL) to +50m.
			_, _, err := s.Rotate(ctx, "a2", session.Rotation{
				Presented: session.HashRefreshToken("a2 token 0"), Next: session.HashRefreshToken("a2 token 1"),
				Identity: session.Identity{Subject: "alice"}, Now: base().Add(20 * time.Minute),
				Grace: time.Second, IdleTimeout: idle,
			})
			if err != nil {
				t.Fatal(err)
			}

			gone := base().Add(idle + tc.want) // a1's and b1's removal time
			clock.t = gone.Add(-time.Nanosecond)
			for _, id := range []string{"a1", "a2", "b1"} {
				if _, err := s.Get(ctx, id); err != nil {
					t.Errorf("Get(%s) within the tombstone time: %v", id, err)
				}
			}
			if rec, _ := s.Get(ctx, "b1"); !rec.Revoked {
				t.Errorf("b1 tombstone: Revoked = false, want true")
			}

			clock.t = gone
			for _, id := range []string{"a1", "b1"} {
				if _, err := s.Get(ctx, id); !errors.Is(err, session.ErrSessionNotFound) {
					t.Errorf("Get(%s) after its TTL: error %v, want ErrSessionNotFound", id, err)
				}
			}
			if r, sub, h := sizes(s); r != 1 || sub != 1 || h != 1 {
				t.Errorf("after a1 and b1 expired: %d records, %d subjects, %d heap entries; want 1, 1, 1", r, sub, h)
			}
			if _, err := s.Get(ctx, "a2"); err != nil {
				t.Errorf("Get(a2), whose TTL was extended: %v", err)
			}

			clock.t = base().Add(20*time.Minute + idle + tc.want)
			if recs, err := s.ListUser(ctx, "alice", base()); err != nil || len(recs) != 0 {
				t.Errorf("ListUser(alice) after every TTL = %d records, %v; want none", len(recs), err)
			}
			if r, sub, h := sizes(s); r != 0 || sub != 0 || h != 0 {
				t.Errorf("after every TTL: %d records, %d subjects, %d heap entries; want none", r, sub, h)
			}
			// The id may be used again once the old record is gone.
			mustCreate(t, s, record("a1", "alice"))
		})
	}
}

// TestSweepUntouched: records nobody asks for again are deleted by any
// later call, so memory does not grow with abandoned sessions.
func TestSweepUntouched(t *testing.T) {
	clock := &fakeClock{t: base()}
	s := New(Options{Now: clock.Now})
	for i := range 1000 {
		mustCreate(t, s, record(fmt.Sprint("s", i), fmt.Sprint("user", i%37)))
	}
	clock.t = base().Add(idle + DefaultTombstone)
	if _, err := s.Get(t.Context(), "another id"); !errors.Is(err, session.ErrSessionNotFound) {
		t.Fatalf("Get(unknown id) error = %v, want ErrSessionNotFound", err)
	}
	if r, sub, h := sizes(s); r != 0 || sub != 0 || h != 0 {
		t.Errorf("after the TTLs passed: %d records, %d subjects, %d heap entries; want none", r, sub, h)
	}
}

func TestRotateSubjectChange(t *testing.T) {
	ctx := t.Context()
	s := New(Options{})
	mustCreate(t, s, record("s1", "alice"))
	_, out, err := s.Rotate(ctx, "s1", session.Rotation{
		Presented: session.HashRefreshToken("s1 token 0"), Next: session.HashRefreshToken("s1 token 1"),
		Identity: session.Identity{Subject: "alice2"}, Now: base().Add(time.Minute), IdleTimeout: idle,
	})
	if err != nil || out != session.Rotated {
		t.Fatalf("Rotate = %v, %v; want Rotated", out, err)
	}
	if recs, _ := s.ListUser(ctx, "alice", base()); len(recs) != 0 {
		t.Errorf("ListUser(old subject) = %d records, want none", len(recs))
	}
	if recs, _ := s.ListUser(ctx, "alice2", base()); len(recs) != 1 {
		t.Errorf("ListUser(new subject) = %d records, want 1", len(recs))
	}
	if ids, err := s.RevokeUser(ctx, "alice2"); err != nil || len(ids) != 1 || ids[0] != "s1" {
		t.Errorf("RevokeUser(new subject) = %q, %v; want [s1]", ids, err)
	}
	if _, sub, _ := sizes(s); sub != 1 {
		t.Errorf("subject index has %d subjects, want 1", sub)
	}
}

func TestRejectsCallerBugs(t *testing.T) {
	ctx := t.Context()
	s := New(Options{})
	if err := s.Create(ctx, record("", "alice")); err == nil {
		t.Error("Create with an empty id succeeded")
	}
	mustCreate(t, s, record("s1", "alice"))
	_, _, err := s.Rotate(ctx, "s1", session.Rotation{
		Presented: session.HashRefreshToken("s1 token 0"), Now: base().Add(time.Minute), IdleTimeout: idle,
	})
	if err == nil {
		t.Error("Rotate with an empty Next succeeded")
	}
	if rec, err := s.Get(ctx, "s1"); err != nil || rec.Revoked || !rec.RefreshedAt.Equal(base()) {
		t.Errorf("after a refused Rotate: revoked %v, refreshed %v, %v; want unchanged", rec.Revoked, rec.RefreshedAt, err)
	}
}

// BenchmarkRotate measures one rotation, alone and among many sessions
// (the expiry heap makes a rotation O(log n)).
func BenchmarkRotate(b *testing.B) {
	for _, n := range []int{1, 100_000} {
		b.Run(fmt.Sprint("sessions=", n), func(b *testing.B) {
			s := New(Options{Now: func() time.Time { return base() }})
			for i := range n {
				mustCreate(b, s, record(fmt.Sprint("s", i), fmt.Sprint("user", i%1000)))
			}
			sessiontest.BenchStoreRotate(b, s, "s0", session.HashRefreshToken("s0 token 0"), base().Add(time.Minute), idle)
		})
	}
}
