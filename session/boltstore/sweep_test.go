package boltstore

import (
	"errors"
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/session"
)

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
			s := openTemp(t, Options{Now: clock.Now, Tombstone: tc.tombstone})
			mustCreate(t, s, record("a1", "alice"))
			mustCreate(t, s, record("a2", "alice"))
			mustCreate(t, s, record("b1", "bob"))
			if err := s.Revoke(ctx, "b1"); err != nil {
				t.Fatal(err)
			}
			// a2 is refreshed, which moves its deadline to +50m.
			if _, _, err := s.Rotate(ctx, "a2", rotation("a2", 0, base().Add(20*time.Minute))); err != nil {
				t.Fatal(err)
			}
			if got, _ := sizesOf(t, s); got != [3]int{3, 3, 3} {
				t.Fatalf("before any expiry: {sessions, subjects, expiry} = %v, want 3 each", got)
			}

			gone := base().Add(idle + tc.want) // a1's and b1's removal time
			clock.t = gone.Add(-time.Millisecond)
			x := record("x", "xavier") // a write, which sweeps; x ends with a2
			x.IdleExpiresAt = base().Add(20*time.Minute + idle)
			mustCreate(t, s, x)
			for _, id := range []string{"a1", "a2", "b1"} {
				if _, err := s.Get(ctx, id); err != nil {
					t.Errorf("Get(%s) within the tombstone time: %v", id, err)
				}
			}
			if rec, _ := s.Get(ctx, "b1"); !rec.Revoked {
				t.Errorf("b1 tombstone: Revoked = false, want true")
			}

			clock.t = gone
			// Due records are gone for reads before any sweep ...
			for _, id := range []string{"a1", "b1"} {
				if _, err := s.Get(ctx, id); !errors.Is(err, session.ErrSessionNotFound) {
					t.Errorf("Get(%s) after its time: error %v, want ErrSessionNotFound", id, err)
				}
			}
			if got, _ := sizesOf(t, s); got != [3]int{4, 4, 4} {
				t.Errorf("before the next write: {sessions, subjects, expiry} = %v, want 4 each (nothing deleted by reads)", got)
			}
			// ... and deleted, index entries too, by the next write.
			if err := s.Revoke(ctx, "x"); err != nil {
				t.Fatal(err)
			}
			if got, _ := sizesOf(t, s); got != [3]int{2, 2, 2} {
				t.Errorf("after a1 and b1 expired: {sessions, subjects, expiry} = %v, want 2 each (a2, x)", got)
			}
			if _, err := s.Get(ctx, "a2"); err != nil {
				t.Errorf("Get(a2), whose time was extended by Rotate: %v", err)
			}

			clock.t = base().Add(20*time.Minute + idle + tc.want)
			if err := s.Revoke(ctx, "nobody"); err != nil {
				t.Fatal(err)
			}
			if got, _ := sizesOf(t, s); got != [3]int{0, 0, 0} {
				t.Errorf("after every record's time: {sessions, subjects, expiry} = %v, want none", got)
			}
			// The id may be used again once the old record is gone.
			mustCreate(t, s, record("a1", "alice"))
		})
	}
}

// TestSweepBounded: one write deletes at most sweepBatch due records;
// the rest are invisible, and go with the following writes.
func TestSweepBounded(t *testing.T) {
	ctx := t.Context()
	clock := &fakeClock{t: base()}
	s := openTemp(t, Options{Now: clock.Now})
	const n = 2*sweepBatch + 10
	bulkCreate(t, s, n)
	clock.t = base().Add(idle + DefaultTombstone)
	if recs, err := s.ListUser(ctx, "user0", base()); err != nil || len(recs) != 0 {
		t.Errorf("ListUser(user0) of due records = %d records, %v; want none", len(recs), err)
	}
	for i, want := range []int{n - sweepBatch, n - 2*sweepBatch, 0} {
		if err := s.Revoke(ctx, "nobody"); err != nil {
			t.Fatal(err)
		}
		if got, _ := sizesOf(t, s); got != [3]int{want, want, want} {
			t.Errorf("after write %d: {sessions, subjects, expiry} = %v, want %d each", i+1, got, want)
		}
	}
}

// bulkCreate stores n sessions s0..s(n-1) of subjects user0..user36 in
// one transaction (one fsync, not n).
func bulkCreate(t testing.TB, s *Store, n int) {
	t.Helper()
	err := s.update(t.Context(), "bulk create", func(tx *bolt.Tx, _ time.Time) error {
		for i := range n {
			rec := record(fmt.Sprint("s", i), fmt.Sprint("user", i%37))
			if err := s.putSession(tx, &rec, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("creating %d sessions: %v", n, err)
	}
}

func TestSweepRevocations(t *testing.T) {
	ctx := t.Context()
	clock := &fakeClock{t: base()}
	s := openTemp(t, Options{Now: clock.Now})
	add := func(r session.Revocation) {
		t.Helper()
		if err := s.AddRevocation(ctx, r); err != nil {
			t.Fatalf("AddRevocation(%s %s): %v", r.Kind, r.ID, err)
		}
	}
	add(session.Revocation{Kind: session.RevokeSessionKind, ID: "s1", Until: base().Add(time.Hour)})
	add(session.Revocation{Kind: session.RevokeTokenKind, ID: "j1", Until: base().Add(time.Hour)})
	// The same user twice: merged into one entry, the later Before and
	// Until kept, rescheduled in the index.
	add(session.Revocation{Kind: session.RevokeUserKind, ID: "alice", Before: base().Add(time.Minute), Until: base().Add(time.Hour)})
	add(session.Revocation{Kind: session.RevokeUserKind, ID: "alice", Before: base(), Until: base().Add(2 * time.Hour)})
	if _, got := sizesOf(t, s); got != [2]int{3, 3} {
		t.Fatalf("{revocations, index} = %v, want 3 each", got)
	}
	list, err := s.Revocations(ctx, base().Add(90*time.Minute))
	want := session.Revocation{Kind: session.RevokeUserKind, ID: "alice", Before: base().Add(time.Minute), Until: base().Add(2 * time.Hour)}
	if err != nil || len(list) != 1 || list[0] != want {
		t.Errorf("Revocations(+90m) = %+v, %v; want only the merged %+v", list, err, want)
	}

	clock.t = base().Add(time.Hour)
	add(session.Revocation{Kind: session.RevokeTokenKind, ID: "j2", Until: base().Add(3 * time.Hour)})
	if _, got := sizesOf(t, s); got != [2]int{2, 2} {
		t.Errorf("after s1 and j1 expired: {revocations, index} = %v, want 2 each (alice, j2)", got)
	}
	clock.t = base().Add(3 * time.Hour)
	if err := s.Revoke(ctx, "nobody"); err != nil {
		t.Fatal(err)
	}
	if _, got := sizesOf(t, s); got != [2]int{0, 0} {
		t.Errorf("after every Until: {revocations, index} = %v, want none", got)
	}
}

// TestUnchangedWritesDoNotCommit: a write that changes nothing (a
// re-issue, a Revoke of an unknown id) is rolled back, sparing an fsync,
// unless its sweep deleted something.
func TestUnchangedWritesDoNotCommit(t *testing.T) {
	ctx := t.Context()
	clock := &fakeClock{t: base()}
	s := openTemp(t, Options{Now: clock.Now})
	mustCreate(t, s, record("s1", "alice"))
	t1 := base().Add(time.Minute)
	if _, _, err := s.Rotate(ctx, "s1", rotation("s1", 0, t1)); err != nil {
		t.Fatal(err)
	}
	txid := func() int {
		var id int
		_ = s.db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil })
		return id
	}
	before := txid()
	if _, out, err := s.Rotate(ctx, "s1", rotation("s1", 0, t1.Add(time.Second))); err != nil || out != session.Reissued {
		t.Fatalf("Rotate(previous token) = %v, %v; want Reissued", out, err)
	}
	if err := s.Revoke(ctx, "unknown"); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.RevokeUser(ctx, "nobody"); err != nil || len(ids) != 0 {
		t.Fatalf("RevokeUser(nobody) = %q, %v", ids, err)
	}
	if got := txid(); got != before {
		t.Errorf("transaction id %d after unchanged writes, want %d (nothing committed)", got, before)
	}

	clock.t = base().Add(12*time.Hour + DefaultTombstone)
	if err := s.Revoke(ctx, "unknown"); err != nil {
		t.Fatal(err)
	}
	if got := txid(); got != before+1 {
		t.Errorf("transaction id %d after a write whose sweep deleted s1, want %d (committed)", got, before+1)
	}
	if got, _ := sizesOf(t, s); got != [3]int{0, 0, 0} {
		t.Errorf("after the sweep: {sessions, subjects, expiry} = %v, want none", got)
	}
}
