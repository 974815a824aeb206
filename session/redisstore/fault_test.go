package redisstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/redistest"
	"github.com/gatehouse/gatehouse/session"
)

// TestServerKilled: with the server gone every operation fails with
// session.ErrStoreUnavailable within Timeout (plus a second of slack), and
// never hangs; after a restart (appendonly) the sessions written before
// are back and everything works again.
func TestServerKilled(t *testing.T) {
	const timeout = 500 * time.Millisecond
	srv := redistest.Start(t, redistest.WithAppendOnly())
	s := open(t, single(srv.Addr), Options{Timeout: timeout})
	ctx := t.Context()
	mustCreate(t, s, newRecord("s1", "alice"))
	mustCreate(t, s, newRecord("s2", "alice"))
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}

	srv.Kill()
	now := base().Add(time.Minute)
	calls := []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"Create", func() error { return s.Create(ctx, newRecord("s3", "alice")) }},
		{"Get", func() error { _, err := s.Get(ctx, "s1"); return err }},
		{"Rotate", func() error { _, _, err := s.Rotate(ctx, "s1", rotation("s1", 0, now)); return err }},
		{"Revoke", func() error { return s.Revoke(ctx, "s1") }},
		{"ListUser", func() error { _, err := s.ListUser(ctx, "alice", now); return err }},
		{"RevokeUser", func() error { _, err := s.RevokeUser(ctx, "alice"); return err }},
		{"AddRevocation", func() error {
			return s.AddRevocation(ctx, session.Revocation{Kind: session.RevokeSessionKind, ID: "s1", Until: now})
		}},
		{"Revocations", func() error { _, err := s.Revocations(ctx, now); return err }},
		{"SubscribeRevocations", func() error {
			return s.SubscribeRevocations(ctx, func(session.Revocation) {}, func() {})
		}},
	}
	// All at once: each is timed on its own, and the test stays short.
	took := make([]time.Duration, len(calls))
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() {
			start := time.Now()
			errs[i] = c.call()
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	var slowest time.Duration
	for i, c := range calls {
		slowest = max(slowest, took[i])
		if !errors.Is(errs[i], session.ErrStoreUnavailable) {
			t.Errorf("%s with the server killed: error %v, want ErrStoreUnavailable", c.name, errs[i])
		}
		if took[i] > timeout+time.Second {
			t.Errorf("%s with the server killed took %s, want at most Timeout (%s) + 1s", c.name, took[i], timeout)
		}
	}
	t.Logf("with the server killed, the slowest call failed after %s (Timeout %s)", slowest, timeout)

	// A caller's own deadline is honoured too, and reported the same way.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := s.Get(short, "s1"); !errors.Is(err, session.ErrStoreUnavailable) {
		t.Errorf("Get with a short caller deadline: %v, want ErrStoreUnavailable", err)
	}

	srv.Restart()
	got, err := s.Get(ctx, "s1")
	if err != nil {
		t.Fatalf("Get after restart: %v", err)
	}
	if got.Revoked || got.Identity.Subject != "alice" || !got.IdleExpiresAt.Equal(base().Add(idle)) {
		t.Errorf("s1 after restart: %+v; want the record from before the kill, unchanged", got)
	}
	// The scripts are not loaded on the new process: EVALSHA falls back.
	if _, out, err := s.Rotate(ctx, "s1", rotation("s1", 0, now)); err != nil || out != session.Rotated {
		t.Errorf("Rotate after restart = %v, %v; want Rotated", out, err)
	}
	if recs, err := s.ListUser(ctx, "alice", now); err != nil || len(recs) != 2 {
		t.Errorf("ListUser after restart = %d records, %v; want s1 and s2", len(recs), err)
	}
}

// TestSubscriptionSurvivesRestart: a subscriber gets another replica's
// revocation within a second; when the server is killed and restarted it
// resubscribes, calls resync, and gets later revocations again.
func TestSubscriptionSurvivesRestart(t *testing.T) {
	srv := redistest.Start(t)
	cfg := single(srv.Addr)
	sub, pub := open(t, cfg, Options{Timeout: 500 * time.Millisecond}), open(t, cfg, Options{})
	got := make(chan session.Revocation, 10)
	resync := make(chan struct{}, 10)
	err := sub.SubscribeRevocations(t.Context(), func(r session.Revocation) { got <- r }, func() { resync <- struct{}{} })
	if err != nil {
		t.Fatalf("SubscribeRevocations: %v", err)
	}
	deliver := func(id string) {
		t.Helper()
		r := session.Revocation{Kind: session.RevokeSessionKind, ID: id, Until: base()}
		start := time.Now()
		if err := pub.AddRevocation(t.Context(), r); err != nil {
			t.Fatalf("AddRevocation(%s): %v", id, err)
		}
		select {
		case g := <-got:
			if g.ID != id || !g.Until.Equal(r.Until) {
				t.Errorf("received %+v, want %+v", g, r)
			}
			t.Logf("%s delivered in %s", id, time.Since(start))
		case <-time.After(time.Second):
			t.Fatalf("revocation %s not delivered within 1s", id)
		}
	}
	deliver("before the kill")
	select {
	case <-resync:
		t.Fatal("resync called while the subscription was fine")
	default:
	}

	srv.Kill()
	killed := time.Now()
	srv.Restart()
	select {
	case <-resync:
		t.Logf("resync called %s after the kill", time.Since(killed))
	case <-time.After(10 * time.Second):
		t.Fatal("resync not called within 10s of the restart")
	}
	deliver("after the restart")
}

// TestCloseStopsSubscriptions: Close ends the subscription loops (it waits
// for them) and later calls fail as unavailable.
func TestCloseStopsSubscriptions(t *testing.T) {
	srv := redistest.Start(t)
	s, err := New(single(srv.Addr), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.SubscribeRevocations(t.Context(), func(session.Revocation) {}, func() {}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5s")
	}
	if _, err := s.Get(t.Context(), "s1"); !errors.Is(err, session.ErrStoreUnavailable) {
		t.Errorf("Get after Close: %v, want ErrStoreUnavailable", err)
	}
	if err := s.SubscribeRevocations(t.Context(), func(session.Revocation) {}, func() {}); !errors.Is(err, session.ErrStoreUnavailable) {
		t.Errorf("SubscribeRevocations after Close: %v, want ErrStoreUnavailable", err)
	}
}

// TestServerStalled: a server that stops answering without closing its
// connections (SIGSTOP: a hung process, a black-holed network) is the
// case that hangs clients without deadlines. Every operation fails with
// ErrStoreUnavailable within Timeout+1s; the subscriber notices the
// silence by its PING probe, resubscribes once the server is back, and
// calls resync.
func TestServerStalled(t *testing.T) {
	const timeout = 500 * time.Millisecond
	srv := redistest.Start(t)
	cfg := single(srv.Addr)
	s := open(t, cfg, Options{Timeout: timeout})
	s.probe = 100 * time.Millisecond
	mustCreate(t, s, newRecord("s1", "alice"))
	got := make(chan session.Revocation, 10)
	resync := make(chan struct{}, 10)
	if err := s.SubscribeRevocations(t.Context(), func(r session.Revocation) { got <- r }, func() { resync <- struct{}{} }); err != nil {
		t.Fatal(err)
	}

	srv.Pause()
	paused := time.Now()
	now := base().Add(time.Minute)
	calls := map[string]func() error{
		"Get":    func() error { _, err := s.Get(t.Context(), "s1"); return err },
		"Rotate": func() error { _, _, err := s.Rotate(t.Context(), "s1", rotation("s1", 0, now)); return err },
		"AddRevocation": func() error {
			return s.AddRevocation(t.Context(), session.Revocation{Kind: session.RevokeSessionKind, ID: "s1", Until: now})
		},
		"Subscribe": func() error { return s.SubscribeRevocations(t.Context(), func(session.Revocation) {}, nil) },
	}
	var wg sync.WaitGroup
	for name, call := range calls {
		wg.Go(func() {
			start := time.Now()
			err := call()
			if took := time.Since(start); !errors.Is(err, session.ErrStoreUnavailable) || took > timeout+time.Second {
				t.Errorf("%s with the server stalled = %v after %s; want ErrStoreUnavailable within %s", name, err, took, timeout+time.Second)
			}
		})
	}
	wg.Wait()
	// The subscriber's probe (100ms idle, then Timeout for the PONG) has
	// given up on the connection well before this; resuming earlier would
	// let the old connection carry on, which is not what is tested.
	time.Sleep(time.Until(paused.Add(s.probe + timeout + time.Second)))
	srv.Resume()
	select {
	case <-resync:
		t.Logf("resync called %s after the stall began", time.Since(paused))
	case <-time.After(10 * time.Second):
		t.Fatal("resync not called within 10s of the server resuming")
	}
	r := session.Revocation{Kind: session.RevokeTokenKind, ID: "after the stall", Until: base()}
	if err := s.AddRevocation(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	// The AddRevocation that timed out during the stall reached the
	// server's socket and may have run when it resumed (an unavailable
	// call's effect is unknown), so an announcement of s1 may come first.
	deadline := time.After(time.Second)
	for received := false; !received; {
		select {
		case g := <-got:
			received = g.ID == r.ID
			if !received && g.ID != "s1" {
				t.Errorf("received %s, want %s", g.ID, r.ID)
			}
		case <-deadline:
			t.Fatal("revocation after the stall not delivered within 1s")
		}
	}
	if _, err := s.Get(t.Context(), "s1"); err != nil {
		t.Errorf("Get after the stall: %v", err)
	}
}
