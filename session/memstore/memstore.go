// Package memstore is an in-memory session.Store: for a single gateway
// replica, for development, and for tests. Sessions live in the process,
// so they are lost on restart and not shared between replicas; several
// replicas need a shared store, or a client that refreshes on another
// replica is told its session does not exist.
//
// Every operation runs under one mutex, which makes Rotate atomic. The
// store keeps and hands out deep copies of records. It needs no
// background goroutine and nothing to close: each call first deletes the
// records whose time is up (see Options.Tombstone), so memory is bounded
// by the sessions that are live or recently ended.
package memstore

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/session"
)

// DefaultTombstone is the Tombstone used when Options leaves it zero.
const DefaultTombstone = time.Hour

// Options configure a Store.
type Options struct {
	// Now is the clock that decides when records are deleted; nil means
	// time.Now. It never decides whether a session is live: Rotate and
	// ListUser take the time from their caller.
	Now func() time.Time
	// Tombstone is how long a record is kept after its Deadline, so that
	// a late refresh of a revoked or expired session is told "revoked" or
	// "expired" rather than "not found". Zero or negative means
	// DefaultTombstone.
	Tombstone time.Duration
}

// Store is an in-memory session.Store. The zero value is not usable; make
// one with New. It is safe for concurrent use.
type Store struct {
	now       func() time.Time
	tombstone time.Duration

	mu        sync.Mutex
	byID      map[string]*entry
	bySubject map[string]map[string]*entry // subject -> id -> entry
	expiry    expiryHeap                   // every entry, soonest removal first

	revocations revocationList // the RevocationStore side (revocations.go)
}

var _ session.Store = (*Store)(nil)

// New returns an empty Store.
func New(opts Options) *Store {
	s := &Store{
		now:       opts.Now,
		tombstone: opts.Tombstone,
		byID:      make(map[string]*entry),
		bySubject: make(map[string]map[string]*entry),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.tombstone <= 0 {
		s.tombstone = DefaultTombstone
	}
	return s
}

// Create stores a copy of a new session. It fails if the id is empty or a
// session with that id exists (until the old record has been deleted). A
// record whose Deadline plus tombstone time has already passed on the
// store's clock is deleted by the next call.
func (s *Store) Create(ctx context.Context, rec session.Record) error {
	if err := checkContext(ctx); err != nil {
		return fmt.Errorf("memstore: create: %w", err)
	}
	if rec.ID == "" {
		return errors.New("memstore: create: empty session id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	if _, ok := s.byID[rec.ID]; ok {
		return errors.New("memstore: create: a session with that id exists")
	}
	s.insertLocked(&entry{rec: cloneRecord(rec)})
	return nil
}

// Get returns the session with that id, a revoked one too, or
// session.ErrSessionNotFound.
func (s *Store) Get(ctx context.Context, id string) (session.Record, error) {
	if err := checkContext(ctx); err != nil {
		return session.Record{}, fmt.Errorf("memstore: get: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	e, ok := s.byID[id]
	if !ok {
		return session.Record{}, fmt.Errorf("memstore: get: %w", session.ErrSessionNotFound)
	}
	return cloneRecord(e.rec), nil
}

// Rotate checks and advances the refresh chain of session id as
// session.Store documents. On error it returns the zero Record; only
// session.ErrRefreshReused comes with a change (the session is revoked).
func (s *Store) Rotate(ctx context.Context, id string, r session.Rotation) (session.Record, session.Outcome, error) {
	if err := checkContext(ctx); err != nil {
		return session.Record{}, 0, fmt.Errorf("memstore: rotate: %w", err)
	}
	if len(r.Next) == 0 {
		// A caller bug; storing it would leave a chain no token matches.
		return session.Record{}, 0, errors.New("memstore: rotate: empty Next hash")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	e, ok := s.byID[id]
	if !ok {
		return session.Record{}, 0, fmt.Errorf("memstore: rotate: %w", session.ErrSessionNotFound)
	}
	rec := &e.rec
	switch {
	case rec.Revoked:
		return session.Record{}, 0, fmt.Errorf("memstore: rotate: %w", session.ErrSessionRevoked)
	case !r.Now.Before(rec.Deadline()):
		return session.Record{}, 0, fmt.Errorf("memstore: rotate: %w", session.ErrSessionExpired)
	case hashEqual(r.Presented, rec.RefreshHash):
		rec.PrevHash = rec.RefreshHash // owned by the store; no copy needed
		rec.PrevValidUntil = r.Now.Add(r.Grace)
		rec.RefreshHash = slices.Clone(r.Next)
		rec.RefreshedAt = r.Now
		rec.IdleExpiresAt = r.Now.Add(r.IdleTimeout)
		if rec.IdleExpiresAt.After(rec.ExpiresAt) {
			rec.IdleExpiresAt = rec.ExpiresAt
		}
		s.setIdentityLocked(e, cloneIdentity(r.Identity))
		if len(r.SourceSecret) > 0 {
			rec.SourceSecret = slices.Clone(r.SourceSecret)
		}
		s.rescheduleLocked(e)
		return cloneRecord(*rec), session.Rotated, nil
	case hashEqual(r.Presented, rec.PrevHash) && r.Now.Before(rec.PrevValidUntil) && hashEqual(r.Next, rec.RefreshHash):
		return cloneRecord(*rec), session.Reissued, nil
	default:
		// Reuse, or a hash that was never in the chain: the store cannot
		// tell them apart (authenticity is checked before, by
		// RefreshTokens.Parse). Either way the chain may be stolen.
		rec.Revoked = true
		return session.Record{}, 0, fmt.Errorf("memstore: rotate: %w", session.ErrRefreshReused)
	}
}

// Revoke marks a session revoked. Revoking an unknown or already revoked
// session is not an error. The record is kept until its Deadline plus the
// tombstone time.
func (s *Store) Revoke(ctx context.Context, id string) error {
	if err := checkContext(ctx); err != nil {
		return fmt.Errorf("memstore: revoke: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	if e, ok := s.byID[id]; ok {
		e.rec.Revoked = true
	}
	return nil
}

// ListUser returns the sessions of subject that are neither revoked nor
// expired at now, oldest first.
func (s *Store) ListUser(ctx context.Context, subject string, now time.Time) ([]session.Record, error) {
	if err := checkContext(ctx); err != nil {
		return nil, fmt.Errorf("memstore: list user sessions: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	var out []session.Record
	for _, e := range s.bySubject[subject] {
		if !e.rec.Revoked && now.Before(e.rec.Deadline()) {
			out = append(out, cloneRecord(e.rec))
		}
	}
	session.SortRecords(out)
	return out, nil
}

// RevokeUser revokes every session of subject and returns, sorted, the ids
// of those it revoked (the ones not revoked already).
func (s *Store) RevokeUser(ctx context.Context, subject string) ([]string, error) {
	if err := checkContext(ctx); err != nil {
		return nil, fmt.Errorf("memstore: revoke user sessions: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	var ids []string
	for id, e := range s.bySubject[subject] {
		if !e.rec.Revoked {
			e.rec.Revoked = true
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// checkContext reports a context that is already done, as
// session.ErrStoreUnavailable (the caller's time is up, as it would be
// for a remote store) wrapping the context's own error.
func checkContext(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", session.ErrStoreUnavailable, err)
	}
	return nil
}

// hashEqual compares two refresh token hashes in constant time. An empty
// hash matches nothing, so a record without a previous token cannot be
// matched by an empty presentation.
func hashEqual(a, b []byte) bool {
	return len(a) > 0 && subtle.ConstantTimeCompare(a, b) == 1
}
