package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/session"
)

// subscriber is one SubscribeRevocations call, until its ctx is done.
type subscriber struct {
	ctx context.Context
	fn  func(session.Revocation)
}

// AddRevocation records r in the file until r.Until, then hands it to
// every subscriber in this process (there are no others: the file has
// one user). A second revocation of the same kind and id is merged into
// the first: the later Before and the later Until are kept, so an entry
// is never weakened. Subscribers get r itself, and are called after the
// transaction has committed, with no lock held.
func (s *Store) AddRevocation(ctx context.Context, r session.Revocation) error {
	if r.Kind == "" || r.ID == "" || strings.IndexByte(string(r.Kind), 0) >= 0 {
		return fmt.Errorf("boltstore: add revocation: kind %q and id %q must be non-empty, and the kind without NUL bytes", r.Kind, r.ID)
	}
	err := s.update(ctx, fmt.Sprintf("add %s revocation %s", r.Kind, r.ID), func(tx *bolt.Tx, _ time.Time) error {
		key := revocationKey(string(r.Kind), r.ID)
		revocations, expiry := tx.Bucket([]byte(bucketRevocations)), tx.Bucket([]byte(bucketRevocationExp))
		merged := r
		if raw := revocations.Get(key); raw != nil {
			old, err := decodeRevocation(raw)
			if err != nil {
				return err
			}
			if old.Before.After(merged.Before) {
				merged.Before = old.Before
			}
			if old.Until.After(merged.Until) {
				merged.Until = old.Until
			}
			if oldExp := timeKey(old.Until, key); !bytes.Equal(oldExp, timeKey(merged.Until, key)) {
				if err := expiry.Delete(oldExp); err != nil {
					return fmt.Errorf("un-scheduling: %w", err)
				}
			}
		}
		raw, err := encodeRevocation(merged)
		if err != nil {
			return err
		}
		if err := revocations.Put(key, raw); err != nil {
			return fmt.Errorf("writing: %w", err)
		}
		if err := expiry.Put(timeKey(merged.Until, key), nil); err != nil {
			return fmt.Errorf("scheduling: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.announce(r)
	return nil
}

// announce calls every live subscriber's fn with r. It copies the list
// under the mutex and calls outside it, so a subscriber may call back
// into the store.
func (s *Store) announce(r session.Revocation) {
	s.mu.Lock()
	subs := make([]*subscriber, 0, len(s.subs))
	for sub := range s.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		if sub.ctx.Err() == nil {
			sub.fn(r)
		}
	}
}

// Revocations returns every stored revocation whose Until is after now.
func (s *Store) Revocations(ctx context.Context, now time.Time) ([]session.Revocation, error) {
	var out []session.Revocation
	err := s.view(ctx, "list revocations", func(tx *bolt.Tx, _ time.Time) error {
		return tx.Bucket([]byte(bucketRevocations)).ForEach(func(k, v []byte) error {
			r, err := decodeRevocation(v)
			if err != nil {
				return fmt.Errorf("revocation %q: %w", k, err)
			}
			if r.Until.After(now) {
				out = append(out, r)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SubscribeRevocations calls fn with every revocation AddRevocation makes
// in this process from now until ctx is done. An in-process subscription
// cannot be interrupted, so resync is never called.
func (s *Store) SubscribeRevocations(ctx context.Context, fn func(session.Revocation), resync func()) error {
	if fn == nil {
		return errors.New("boltstore: subscribe to revocations: nil fn")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: subscribe to revocations: %w", err)
	}
	sub := &subscriber{ctx: ctx, fn: fn}
	s.mu.Lock()
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
	})
	return nil
}
