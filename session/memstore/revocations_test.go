package memstore

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/sessiontest"
)

func TestRevocationConformance(t *testing.T) {
	sessiontest.RunRevocations(t, func(t *testing.T) session.RevocationStore { return New(Options{}) })
}

// TestRevocationsBounded: expired entries are dropped at the next add, and
// a cancelled subscriber is forgotten.
func TestRevocationsBounded(t *testing.T) {
	clock := &fakeClock{t: base()}
	s := New(Options{Now: clock.Now})
	ctx, cancel := context.WithCancel(t.Context())
	resyncs := 0
	if err := s.SubscribeRevocations(ctx, func(session.Revocation) {}, func() { resyncs++ }); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"a", "b", "c"} {
		r := session.Revocation{Kind: session.RevokeSessionKind, ID: id, Until: base().Add(time.Duration(i+1) * time.Minute)}
		if err := s.AddRevocation(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	clock.t = base().Add(2 * time.Minute)
	cancel()
	if err := s.AddRevocation(t.Context(), session.Revocation{Kind: session.RevokeTokenKind, ID: "j", Until: base().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	l := &s.revocations
	l.mu.Lock()
	entries, subs := len(l.entries), len(l.subs)
	l.mu.Unlock()
	if entries != 2 || subs != 0 {
		t.Errorf("after a and b expired and the subscriber left: %d entries, %d subscribers; want 2 (c and j), 0", entries, subs)
	}
	if resyncs != 0 {
		t.Errorf("resync called %d times, want never", resyncs)
	}
}

func TestRevocationRejectsCallerBugs(t *testing.T) {
	s := New(Options{})
	for _, r := range []session.Revocation{
		{Kind: "group", ID: "x", Until: base()},
		{Kind: session.RevokeSessionKind, Until: base()},
	} {
		if err := s.AddRevocation(t.Context(), r); err == nil {
			t.Errorf("AddRevocation(%+v) succeeded, want an error", r)
		}
	}
}
