package memstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/session"
)

var _ session.RevocationStore = (*Store)(nil)

// revocationList is the Store's session.RevocationStore state. It has its
// own mutex: revocations and sessions never need to change together.
// The zero value is ready to use.
type revocationList struct {
	mu      sync.Mutex
	entries map[revKey]time.Time // -> Until
	subs    map[*revSubscriber]struct{}
}

// revKey identifies a revocation. Before is normalised (UTC, no monotonic
// reading) so that equal instants are equal keys.
type revKey struct {
	kind   session.RevocationKind
	id     string
	before time.Time
}

type revSubscriber struct {
	ctx context.Context
	fn  func(session.Revocation)
}

// AddRevocation keeps r until r.Until (on the store's clock) and calls
// every subscriber's fn before returning, outside the lock. Adding the
// same revocation twice keeps one entry, with the later Until.
func (s *Store) AddRevocation(ctx context.Context, r session.Revocation) error {
	if err := checkContext(ctx); err != nil {
		return fmt.Errorf("memstore: add revocation: %w", err)
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("memstore: add revocation: %w", err)
	}
	l := &s.revocations
	now := s.now()
	l.mu.Lock()
	for k, until := range l.entries {
		if !until.After(now) {
			delete(l.entries, k) // bounded by what is live
		}
	}
	k := revKey{kind: r.Kind, id: r.ID, before: r.Before.UTC().Round(0)}
	if r.Until.After(now) && r.Until.After(l.entries[k]) {
		if l.entries == nil {
			l.entries = make(map[revKey]time.Time)
		}
		l.entries[k] = r.Until
	}
	subs := make([]*revSubscriber, 0, len(l.subs))
	for sub := range l.subs {
		if sub.ctx.Err() != nil {
			delete(l.subs, sub) // AfterFunc would too, a moment later
			continue
		}
		subs = append(subs, sub)
	}
	l.mu.Unlock()

	for _, sub := range subs {
		if sub.ctx.Err() == nil {
			sub.fn(r)
		}
	}
	return nil
}

// Revocations returns every revocation whose Until is after now.
func (s *Store) Revocations(ctx context.Context, now time.Time) ([]session.Revocation, error) {
	if err := checkContext(ctx); err != nil {
		return nil, fmt.Errorf("memstore: list revocations: %w", err)
	}
	l := &s.revocations
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []session.Revocation
	for k, until := range l.entries {
		if until.After(now) {
			out = append(out, session.Revocation{Kind: k.kind, ID: k.id, Before: k.before, Until: until})
		}
	}
	return out, nil
}

// SubscribeRevocations calls fn, synchronously from AddRevocation, for
// every revocation added until ctx is done. Nothing can be missed within
// one process, so resync is never called.
func (s *Store) SubscribeRevocations(ctx context.Context, fn func(session.Revocation), resync func()) error {
	if err := checkContext(ctx); err != nil {
		return fmt.Errorf("memstore: subscribe to revocations: %w", err)
	}
	l := &s.revocations
	sub := &revSubscriber{ctx: ctx, fn: fn}
	l.mu.Lock()
	if l.subs == nil {
		l.subs = make(map[*revSubscriber]struct{})
	}
	l.subs[sub] = struct{}{}
	l.mu.Unlock()
	context.AfterFunc(ctx, func() {
		l.mu.Lock()
		delete(l.subs, sub)
		l.mu.Unlock()
	})
	return nil
}
