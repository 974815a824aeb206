package sessiontest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/session"
)

func testCreateGet(t *testing.T, h *harness) {
	c := h.create("alice", nil)
	checkRecord(t, "Get after Create", h.get(c.id), c.created)

	// Every field survives, including a previous hash and grace window.
	c2 := h.create("alice", func(r *session.Record) {
		r.PrevHash = session.HashRefreshToken("an earlier token")
		r.PrevValidUntil = base().Add(grace)
		r.IP = "2001:db8::7"
	})
	checkRecord(t, "Get after Create", h.get(c2.id), c2.created)
}

func testGetUnknown(t *testing.T, h *harness) {
	if _, err := h.s.Get(t.Context(), session.NewID()); !errors.Is(err, session.ErrSessionNotFound) {
		t.Errorf("Get(unknown id) error = %v, want ErrSessionNotFound", err)
	}
}

func testCreateDuplicate(t *testing.T, h *harness) {
	c := h.create("alice", nil)
	dup := newRecord(c.id, "mallory", h.tokens.New(c.id))
	if err := h.s.Create(t.Context(), dup); err == nil {
		t.Errorf("Create with the existing id %s succeeded, want an error", c.id)
	}
	checkRecord(t, "Get after a refused Create", h.get(c.id), c.created)
}

func testRotateCurrent(t *testing.T, h *harness) {
	c := h.create("alice", nil)
	now := base().Add(10 * time.Minute)
	r := h.rotation(c, 0, now)
	r.Identity = identity("alice", "user", "admin") // promoted at the source
	got, out, err := h.s.Rotate(t.Context(), c.id, r)
	if err != nil || out != session.Rotated {
		t.Fatalf("Rotate(current token) = %s, %v; want Rotated", outcome(out), err)
	}
	// The contract spelled out field by field (advance uses rotated()).
	want := c.created
	want.Identity = identity("alice", "user", "admin")
	want.PrevHash = c.hash(0)
	want.PrevValidUntil = now.Add(grace)
	want.RefreshHash = r.Next
	want.RefreshedAt = now
	want.IdleExpiresAt = now.Add(idleTimeout)
	checkRecord(t, "record returned by Rotate", got, want)
	checkRecord(t, "Get after Rotate", h.get(c.id), want)
}

// testRotateSourceSecret: the source's secret is stored as given (any
// bytes), replaced by a rotation that carries one, kept by one that does
// not, and untouched by a reissue.
func testRotateSourceSecret(t *testing.T, h *harness) {
	first := []byte("sealed\x00refresh token\xff one")
	c := h.create("alice", func(r *session.Record) { r.Source = "oidc:idp"; r.SourceSecret = bytes.Clone(first) })
	checkRecord(t, "Get after Create with a source secret", h.get(c.id), c.created)

	second := []byte("sealed refresh token two")
	r := h.rotation(c, 0, base().Add(time.Minute))
	r.SourceSecret = bytes.Clone(second)
	got, out, err := h.s.Rotate(t.Context(), c.id, r)
	if err != nil || out != session.Rotated || !bytes.Equal(got.SourceSecret, second) {
		t.Fatalf("Rotate with a source secret = %s, %v, secret %q; want Rotated with %q", outcome(out), err, got.SourceSecret, second)
	}
	// A reissue of the same rotation, with another secret, changes nothing.
	r.SourceSecret = []byte("a third one, from a parallel request")
	if got, out, err := h.s.Rotate(t.Context(), c.id, r); err != nil || out != session.Reissued || !bytes.Equal(got.SourceSecret, second) {
		t.Fatalf("reissue = %s, %v, secret %q; want Reissued keeping %q", outcome(out), err, got.SourceSecret, second)
	}
	c.tokens = append(c.tokens, h.tokens.Successor(c.id, c.tokens[0]))
	r = h.rotation(c, 1, base().Add(2*time.Minute))
	if got, _, err := h.s.Rotate(t.Context(), c.id, r); err != nil || !bytes.Equal(got.SourceSecret, second) {
		t.Fatalf("Rotate without a source secret: %v, secret %q; want %q kept", err, got.SourceSecret, second)
	}
	if got := h.get(c.id); !bytes.Equal(got.SourceSecret, second) {
		t.Fatalf("Get after rotations: secret %q, want %q", got.SourceSecret, second)
	}
}

func testRotateUnknown(t *testing.T, h *harness) {
	c := &chain{id: session.NewID(), subject: "alice"}
	c.tokens = []string{h.tokens.New(c.id)}
	h.rotateErr(c, h.rotation(c, 0, base()), session.ErrSessionNotFound)
}

func testIdleCapped(t *testing.T, h *harness) {
	c := h.create("alice", func(r *session.Record) { r.ExpiresAt = base().Add(45 * time.Minute) })
	for _, at := range []time.Duration{20 * time.Minute, 40 * time.Minute, 44 * time.Minute} {
		rec := h.advance(c, base().Add(at)) // checks IdleExpiresAt = min(Now+IdleTimeout, ExpiresAt)
		if rec.IdleExpiresAt.After(rec.ExpiresAt) {
			t.Errorf("after rotating at +%v, IdleExpiresAt %v is after ExpiresAt %v", at, rec.IdleExpiresAt, rec.ExpiresAt)
		}
	}
}

func testGraceReissue(t *testing.T, h *harness) {
	c := h.create("alice", nil)
	t1 := base().Add(5 * time.Minute)
	after := h.advance(c, t1)
	for _, at := range []time.Duration{0, grace / 2, grace - time.Second} {
		// The previous token again (a parallel request, a lost response):
		// same successor. A different identity and idle timeout must not
		// change anything either.
		r := h.rotation(c, 0, t1.Add(at))
		r.Identity = identity("alice", "admin")
		r.IdleTimeout = 2 * idleTimeout
		got, out, err := h.s.Rotate(t.Context(), c.id, r)
		if err != nil || out != session.Reissued {
			t.Fatalf("Rotate(previous token, %v after rotation) = %s, %v; want Reissued", at, outcome(out), err)
		}
		checkRecord(t, "record returned by a reissue", got, after)
	}
	checkRecord(t, "Get after reissues", h.get(c.id), after)
	h.advance(c, t1.Add(time.Minute)) // the chain goes on from the current token
}

func testGraceOver(t *testing.T, h *harness) {
	for _, tc := range []struct {
		name string
		at   time.Duration // after the rotation
	}{
		{"at PrevValidUntil", grace},
		{"a minute later", grace + time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.sub(t)
			c := h.create("alice", nil)
			t1 := base().Add(5 * time.Minute)
			after := h.advance(c, t1)
			h.rotateErr(c, h.rotation(c, 0, t1.Add(tc.at)), session.ErrRefreshReused)
			h.requireRevoked(c, after, t1.Add(tc.at))
		})
	}
}

func testGraceOtherNext(t *testing.T, h *harness) {
	c := h.create("alice", nil)
	t1 := base().Add(5 * time.Minute)
	after := h.advance(c, t1)
	r := h.rotation(c, 0, t1.Add(time.Second))
	r.Next = session.HashRefreshToken(h.tokens.New(c.id)) // not the current token
	h.rotateErr(c, r, session.ErrRefreshReused)
	h.requireRevoked(c, after, t1.Add(time.Second))
}

func testReuseOlder(t *testing.T, h *harness) {
	// Only one previous token is remembered: A is refused even within
	// the grace window of both rotations.
	c := h.create("alice", nil)
	t1 := base().Add(5 * time.Minute)
	h.advance(c, t1)                           // A -> B
	after := h.advance(c, t1.Add(time.Second)) // B -> C
	h.rotateErr(c, h.rotation(c, 0, t1.Add(2*time.Second)), session.ErrRefreshReused)
	h.requireRevoked(c, after, t1.Add(2*time.Second))
}

func testReuseAfterSuccessorUsed(t *testing.T, h *harness) {
	c := h.create("alice", nil)
	t1 := base().Add(5 * time.Minute)
	h.advance(c, t1)                             // A -> B
	h.advance(c, t1.Add(time.Minute))            // B -> C
	after := h.advance(c, t1.Add(2*time.Minute)) // C -> D
	now := t1.Add(2*time.Minute + time.Second)
	// C is still in its grace window ...
	if _, out, err := h.s.Rotate(t.Context(), c.id, h.rotation(c, 2, now)); err != nil || out != session.Reissued {
		t.Fatalf("Rotate(C within grace) = %s, %v; want Reissued", outcome(out), err)
	}
	// ... but B was rotated away when C was used.
	h.rotateErr(c, h.rotation(c, 1, now), session.ErrRefreshReused)
	h.requireRevoked(c, after, now)
}

func testChain20(t *testing.T, h *harness) {
	c := h.create("alice", nil)
	for i := 1; i <= 20; i++ {
		h.advance(c, base().Add(time.Duration(i)*time.Minute))
	}
	got := h.get(c.id)
	if !bytes.Equal(got.RefreshHash, c.hash(20)) || !bytes.Equal(got.PrevHash, c.hash(19)) || got.Revoked {
		t.Fatalf("after 20 rotations: current %s prev %s revoked %v; want tokens 20 and 19, live",
			fmtValue(got.RefreshHash), fmtValue(got.PrevHash), got.Revoked)
	}
	now := base().Add(20*time.Minute + time.Second)
	h.rotateErr(c, h.rotation(c, 18, now), session.ErrRefreshReused)
	h.requireRevoked(c, got, now)
}

func testExpiredIdle(t *testing.T, h *harness) {
	idle := base().Add(idleTimeout)
	for _, tc := range []struct {
		name string
		now  time.Time
	}{
		{"at IdleExpiresAt", idle},
		{"an hour later", idle.Add(time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.sub(t)
			c := h.create("alice", nil)
			h.rotateErr(c, h.rotation(c, 0, tc.now), session.ErrSessionExpired)
			// The failed Rotate changed nothing and revoked nothing.
			h.rotateErr(c, h.rotation(c, 0, tc.now), session.ErrSessionExpired)
			checkRecord(t, "Get after an expired Rotate", h.get(c.id), c.created)
		})
	}
	t.Run("a second before IdleExpiresAt", func(t *testing.T) {
		h := h.sub(t)
		h.advance(h.create("alice", nil), idle.Add(-time.Second))
	})
	t.Run("old token after expiry", func(t *testing.T) {
		// Expiry is checked before the chain: a stale token presented to
		// an expired session is not reuse.
		h := h.sub(t)
		c := h.create("alice", nil)
		after := h.advance(c, base().Add(time.Minute))
		now := after.IdleExpiresAt.Add(time.Second)
		h.rotateErr(c, h.rotation(c, 0, now), session.ErrSessionExpired)
		checkRecord(t, "Get after an expired Rotate", h.get(c.id), after)
	})
}

func testExpiredAbsolute(t *testing.T, h *harness) {
	t.Run("rotated until the end", func(t *testing.T) {
		h := h.sub(t)
		c := h.create("alice", func(r *session.Record) { r.ExpiresAt = base().Add(2 * time.Hour) })
		for at := 25 * time.Minute; at < 2*time.Hour; at += 25 * time.Minute {
			h.advance(c, base().Add(at))
		}
		h.rotateErr(c, h.rotation(c, c.last(), base().Add(2*time.Hour)), session.ErrSessionExpired)
	})
	t.Run("idle still fine", func(t *testing.T) {
		// A record whose IdleExpiresAt lies beyond ExpiresAt: the
		// session ends at the earlier of the two (Record.Deadline).
		h := h.sub(t)
		c := h.create("alice", func(r *session.Record) {
			r.ExpiresAt = base().Add(time.Hour)
			r.IdleExpiresAt = base().Add(2 * time.Hour)
		})
		h.rotateErr(c, h.rotation(c, 0, base().Add(time.Hour)), session.ErrSessionExpired)
		h.rotateErr(c, h.rotation(c, 0, base().Add(90*time.Minute)), session.ErrSessionExpired)
		rec := h.advance(c, base().Add(59*time.Minute))
		if !rec.IdleExpiresAt.Equal(rec.ExpiresAt) {
			t.Errorf("IdleExpiresAt = %v, want capped at ExpiresAt %v", rec.IdleExpiresAt, rec.ExpiresAt)
		}
	})
}

func testRevoke(t *testing.T, h *harness) {
	c := h.create("alice", nil)
	t1 := base().Add(time.Minute)
	after := h.advance(c, t1)
	if err := h.s.Revoke(t.Context(), c.id); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	h.requireRevoked(c, after, t1.Add(time.Second))
	// The previous token, within grace, is told "revoked" too.
	h.rotateErr(c, h.rotation(c, 0, t1.Add(time.Second)), session.ErrSessionRevoked)
	if err := h.s.Revoke(t.Context(), c.id); err != nil {
		t.Errorf("Revoke twice: %v, want nil", err)
	}
	h.requireRevoked(c, after, t1.Add(time.Second))

	unknown := session.NewID()
	if err := h.s.Revoke(t.Context(), unknown); err != nil {
		t.Errorf("Revoke(unknown id) = %v, want nil", err)
	}
	if _, err := h.s.Get(t.Context(), unknown); !errors.Is(err, session.ErrSessionNotFound) {
		t.Errorf("Get after Revoke(unknown id) error = %v, want ErrSessionNotFound", err)
	}
}

func testListUser(t *testing.T, h *harness) {
	now := base().Add(10 * time.Minute)
	a1 := h.create("alice", nil)
	a2 := h.create("alice", func(r *session.Record) {
		r.CreatedAt, r.RefreshedAt = base().Add(time.Minute), base().Add(time.Minute)
		r.UserAgent, r.IP = "other-browser/2.0", "2001:db8::1"
	})
	a3 := h.create("alice", nil)
	if err := h.s.Revoke(t.Context(), a3.id); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	a4 := h.create("alice", func(r *session.Record) { r.IdleExpiresAt = base().Add(5 * time.Minute) })
	a5 := h.create("alice", func(r *session.Record) { r.ExpiresAt = now }) // over exactly at now
	b1 := h.create("bob", nil)
	a1rec := h.advance(a1, base().Add(2*time.Minute)) // listed as it is now

	h.checkList("alice", now, a1rec, a2.created)
	h.checkList("alice", base().Add(4*time.Minute), a1rec, a2.created, a4.created, a5.created)
	h.checkList("bob", now, b1.created)
	h.checkList("carol", now)
	h.checkList("alice", base().Add(lifetime))
}

func testRevokeUser(t *testing.T, h *harness) {
	a1, a2, a3 := h.create("alice", nil), h.create("alice", nil), h.create("alice", nil)
	b1 := h.create("bob", nil)
	if err := h.s.Revoke(t.Context(), a3.id); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	ids, err := h.s.RevokeUser(t.Context(), "alice")
	if err != nil {
		t.Fatalf("RevokeUser: %v", err)
	}
	slices.Sort(ids)
	want := []string{a1.id, a2.id} // a3 was revoked already
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("RevokeUser(alice) = %q, want %q", ids, want)
	}
	now := base().Add(time.Minute)
	for _, c := range []*chain{a1, a2, a3} {
		h.requireRevoked(c, c.created, now)
	}
	h.checkList("alice", now)

	// Other users are untouched.
	checkRecord(t, "bob's session after RevokeUser(alice)", h.get(b1.id), b1.created)
	h.checkList("bob", now, b1.created)
	h.advance(b1, now)

	for _, subject := range []string{"alice", "carol"} {
		if ids, err := h.s.RevokeUser(t.Context(), subject); err != nil || len(ids) != 0 {
			t.Errorf("RevokeUser(%s) with nothing live = %q, %v; want none, nil", subject, ids, err)
		}
	}
}

// testConcurrentSameToken is the refresh stampede: many requests carry
// the same expiring session at once and must all end on one chain.
func testConcurrentSameToken(t *testing.T, h *harness) {
	const n = 50
	c := h.create("alice", nil)
	r := h.rotation(c, 0, base().Add(time.Minute))
	type result struct {
		rec session.Record
		out session.Outcome
		err error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			rec, out, err := h.s.Rotate(t.Context(), c.id, r)
			results[i] = result{rec, out, err}
		})
	}
	close(start)
	wg.Wait()

	counts := map[session.Outcome]int{}
	for i, res := range results {
		if res.err != nil {
			t.Errorf("call %d: Rotate error %v, want none", i, res.err)
			continue
		}
		counts[res.out]++
		if !bytes.Equal(res.rec.RefreshHash, r.Next) {
			t.Errorf("call %d (%s): returned RefreshHash %s, want Next", i, outcome(res.out), fmtValue(res.rec.RefreshHash))
		}
	}
	if counts[session.Rotated] != 1 || counts[session.Reissued] != n-1 {
		t.Errorf("outcomes: %d Rotated, %d Reissued; want 1 and %d", counts[session.Rotated], counts[session.Reissued], n-1)
	}
	checkRecord(t, "Get after the stampede", h.get(c.id), rotated(c.created, r))
}

// testConcurrentDistinctSessions rotates many sessions in parallel while
// others read, for the race detector and for lost updates.
func testConcurrentDistinct(t *testing.T, h *harness) {
	const sessions, rounds = 8, 10
	chains := make([]*chain, sessions)
	for i := range chains {
		chains[i] = h.create([]string{"alice", "bob"}[i%2], nil)
	}
	errs := make(chan error, sessions*rounds+4*rounds)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range chains {
		wg.Go(func() {
			<-start
			tok := c.tokens[0]
			for i := 1; i <= rounds; i++ {
				r := h.rotation(&chain{id: c.id, subject: c.subject, tokens: []string{tok}}, 0, base().Add(time.Duration(i)*time.Minute))
				if _, out, err := h.s.Rotate(t.Context(), c.id, r); err != nil || out != session.Rotated {
					errs <- fmt.Errorf("session %s round %d: Rotate = %s, %w", c.id, i, outcome(out), err)
					return
				}
				tok = h.tokens.Successor(c.id, tok)
			}
		})
	}
	for _, subject := range []string{"alice", "bob"} {
		wg.Go(func() {
			<-start
			for range rounds {
				if recs, err := h.s.ListUser(t.Context(), subject, base()); err != nil || len(recs) != sessions/2 {
					errs <- fmt.Errorf("ListUser(%s) during rotations = %d records, %w", subject, len(recs), err)
				}
				if _, err := h.s.Get(t.Context(), chains[0].id); err != nil {
					errs <- fmt.Errorf("Get during rotations: %w", err)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, c := range chains {
		tok := c.tokens[0]
		for range rounds {
			tok = h.tokens.Successor(c.id, tok)
		}
		if got := h.get(c.id); !bytes.Equal(got.RefreshHash, session.HashRefreshToken(tok)) || got.Revoked {
			t.Errorf("session %s after %d rotations: RefreshHash %s, revoked %v; want the %d-th successor, live",
				c.id, rounds, fmtValue(got.RefreshHash), got.Revoked, rounds)
		}
	}
}

// testNeverInChain: a store cannot tell a token it never saw from one
// rotated away long ago, so it treats both as reuse and revokes. That is
// why authenticity is checked before the store (RefreshTokens.Parse): a
// token the gateway did not mint never gets here, and knowing a session
// id is not enough to end the session.
func testNeverInChain(t *testing.T, h *harness) {
	other := h.create("alice", nil)
	for _, tc := range []struct {
		name      string
		presented func(c *chain) []byte
	}{
		{"minted for this session, never issued", func(c *chain) []byte { return session.HashRefreshToken(h.tokens.New(c.id)) }},
		{"another session's current token", func(*chain) []byte { return other.hash(0) }},
		{"successor not yet issued", func(c *chain) []byte {
			return session.HashRefreshToken(h.tokens.Successor(c.id, c.tokens[0]))
		}},
		{"empty", func(*chain) []byte { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.sub(t)
			c := h.create("alice", nil)
			now := base().Add(time.Minute)
			r := h.rotation(c, 0, now)
			r.Presented = tc.presented(c)
			h.rotateErr(c, r, session.ErrRefreshReused)
			h.requireRevoked(c, c.created, now)
		})
	}
	checkRecord(t, "the other session", h.get(other.id), other.created)
}

func testCopies(t *testing.T, h *harness) {
	id := session.NewID()
	tok := h.tokens.New(id)
	pristine := newRecord(id, "alice", tok)
	in := newRecord(id, "alice", tok)
	if err := h.s.Create(t.Context(), in); err != nil {
		t.Fatalf("Create: %v", err)
	}
	scribble(&in)
	checkRecord(t, "Get after changing the record given to Create", h.get(id), pristine)
	got := h.get(id)
	scribble(&got)
	checkRecord(t, "Get after changing a record Get returned", h.get(id), pristine)

	c := &chain{id: id, subject: "alice", tokens: []string{tok}}
	now := base().Add(time.Minute)
	want := rotated(pristine, h.rotation(c, 0, now))
	r := h.rotation(c, 0, now)
	got, out, err := h.s.Rotate(t.Context(), id, r)
	if err != nil || out != session.Rotated {
		t.Fatalf("Rotate = %s, %v; want Rotated", outcome(out), err)
	}
	scribble(&got)
	r.Next[0] ^= 0xff
	r.Presented[0] ^= 0xff
	scribble(&session.Record{Identity: r.Identity}) // r.Identity's roles and claims
	checkRecord(t, "Get after changing Rotate's input and result", h.get(id), want)

	list, err := h.s.ListUser(t.Context(), "alice", now)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListUser = %d records, %v; want 1", len(list), err)
	}
	scribble(&list[0])
	checkRecord(t, "Get after changing a record ListUser returned", h.get(id), want)
}

// testCanceledContext: a call whose context is already done is an
// infrastructure failure (ErrStoreUnavailable, wrapping the context's
// error) and changes nothing.
func testCanceledContext(t *testing.T, h *harness) {
	c := h.create("alice", nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rot := session.Rotation{Presented: []byte("wrong"), Next: []byte("next"), Now: base().Add(time.Minute), IdleTimeout: idleTimeout}
	calls := map[string]func() error{
		"Create":     func() error { return h.s.Create(ctx, session.Record{ID: session.NewID(), Identity: identity("alice")}) },
		"Get":        func() error { _, err := h.s.Get(ctx, c.id); return err },
		"Rotate":     func() error { _, _, err := h.s.Rotate(ctx, c.id, rot); return err },
		"Revoke":     func() error { return h.s.Revoke(ctx, c.id) },
		"ListUser":   func() error { _, err := h.s.ListUser(ctx, "alice", base()); return err },
		"RevokeUser": func() error { _, err := h.s.RevokeUser(ctx, "alice"); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) || !errors.Is(err, session.ErrStoreUnavailable) {
			t.Errorf("%s with a canceled context: error %v, want context.Canceled and ErrStoreUnavailable", name, err)
		}
	}
	// Nothing happened: the session is neither revoked (by Revoke,
	// RevokeUser or the wrong hash) nor joined by another.
	if rec, err := h.s.Get(t.Context(), c.id); err != nil || rec.Revoked {
		t.Errorf("Get = revoked %v, %v; want live", rec.Revoked, err)
	}
	if recs, err := h.s.ListUser(t.Context(), "alice", base()); err != nil || len(recs) != 1 {
		t.Errorf("ListUser = %d sessions, %v; want only the one created before", len(recs), err)
	}
}
