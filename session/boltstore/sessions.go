package boltstore

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/session"
)

// errSessionExists: Create was given an id that is taken.
var errSessionExists = errors.New("a session with that id exists")

// Create stores a new session. It fails if the id is empty or taken (by a
// record not yet due for deletion). A record whose Deadline plus
// tombstone time has already passed on the store's clock is deleted by a
// later write.
func (s *Store) Create(ctx context.Context, rec session.Record) error {
	if rec.ID == "" {
		return errors.New("boltstore: create: empty session id")
	}
	return s.update(ctx, "create session "+rec.ID, func(tx *bolt.Tx, now time.Time) error {
		old, ok, err := s.load(tx, rec.ID)
		if err != nil {
			return err
		}
		if ok && !s.gone(&old, now) {
			return errSessionExists
		}
		if ok {
			// Due but not swept yet: the id is free again.
			if err := s.deleteSession(tx, &old); err != nil {
				return err
			}
		}
		return s.putSession(tx, &rec, nil)
	})
}

// Get returns the session with that id, a revoked one too, or
// session.ErrSessionNotFound.
func (s *Store) Get(ctx context.Context, id string) (session.Record, error) {
	var rec session.Record
	err := s.view(ctx, "get session "+id, func(tx *bolt.Tx, now time.Time) error {
		var ok bool
		var err error
		rec, ok, err = s.load(tx, id)
		if err != nil {
			return err
		}
		if !ok || s.gone(&rec, now) {
			return session.ErrSessionNotFound
		}
		return nil
	})
	if err != nil {
		return session.Record{}, err
	}
	return rec, nil
}

// Rotate checks and advances the refresh chain of session id as
// session.Store documents, in one transaction. On error it returns the
// zero Record; only session.ErrRefreshReused comes with a change (the
// session is revoked), which is committed before Rotate returns.
func (s *Store) Rotate(ctx context.Context, id string, r session.Rotation) (session.Record, session.Outcome, error) {
	if len(r.Next) == 0 {
		// A caller bug; storing it would leave a chain no token matches.
		return session.Record{}, 0, errors.New("boltstore: rotate: empty Next hash")
	}
	var (
		out    session.Record
		result session.Outcome
		reused bool
	)
	op := "rotate session " + id
	err := s.update(ctx, op, func(tx *bolt.Tx, now time.Time) error {
		rec, ok, err := s.load(tx, id)
		switch {
		case err != nil:
			return err
		case !ok || s.gone(&rec, now):
			return session.ErrSessionNotFound
		case rec.Revoked:
			return session.ErrSessionRevoked
		case !r.Now.Before(rec.Deadline()):
			return session.ErrSessionExpired
		case hashEqual(r.Presented, rec.RefreshHash):
			next := rec
			next.PrevHash = rec.RefreshHash
			next.PrevValidUntil = r.Now.Add(r.Grace)
			next.RefreshHash = r.Next
			next.RefreshedAt = r.Now
			next.IdleExpiresAt = r.Now.Add(r.IdleTimeout)
			if next.IdleExpiresAt.After(next.ExpiresAt) {
				next.IdleExpiresAt = next.ExpiresAt
			}
			next.Identity = r.Identity
			if len(r.SourceSecret) > 0 {
				next.SourceSecret = r.SourceSecret
			}
			if err := s.putSession(tx, &next, &rec); err != nil {
				return err
			}
			// Return what Get will return: decoded from the stored bytes,
			// so it shares nothing with r.
			out, _, err = s.load(tx, id)
			result = session.Rotated
			return err
		case hashEqual(r.Presented, rec.PrevHash) && r.Now.Before(rec.PrevValidUntil) && hashEqual(r.Next, rec.RefreshHash):
			out, result = rec, session.Reissued
			return errUnchanged
		default:
			// Reuse, or a hash that was never in the chain: the store cannot
			// tell them apart (authenticity is checked before, by
			// RefreshTokens.Parse). Either way the chain may be stolen, so
			// the revocation is committed, and the error returned after.
			revoked := rec
			revoked.Revoked = true
			reused = true
			return s.putSession(tx, &revoked, &rec)
		}
	})
	switch {
	case err != nil:
		return session.Record{}, 0, err
	case reused:
		return session.Record{}, 0, fmt.Errorf("boltstore: %s: %w", op, session.ErrRefreshReused)
	}
	return out, result, nil
}

// Revoke marks a session revoked. Revoking an unknown or already revoked
// session is not an error. The record is kept until its Deadline plus the
// tombstone time.
func (s *Store) Revoke(ctx context.Context, id string) error {
	return s.update(ctx, "revoke session "+id, func(tx *bolt.Tx, now time.Time) error {
		rec, ok, err := s.load(tx, id)
		if err != nil {
			return err
		}
		if !ok || rec.Revoked || s.gone(&rec, now) {
			return errUnchanged
		}
		revoked := rec
		revoked.Revoked = true
		return s.putSession(tx, &revoked, &rec)
	})
}

// ListUser returns the sessions of subject that are neither revoked nor
// expired at now, oldest first.
func (s *Store) ListUser(ctx context.Context, subject string, now time.Time) ([]session.Record, error) {
	var out []session.Record
	err := s.view(ctx, "list sessions of "+subject, func(tx *bolt.Tx, clock time.Time) error {
		recs, err := s.loadSubject(tx, subject, clock)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if !rec.Revoked && now.Before(rec.Deadline()) {
				out = append(out, rec)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	session.SortRecords(out)
	return out, nil
}

// RevokeUser revokes every session of subject and returns, sorted, the ids
// of those it revoked (the ones not revoked already).
func (s *Store) RevokeUser(ctx context.Context, subject string) ([]string, error) {
	var ids []string
	err := s.update(ctx, "revoke sessions of "+subject, func(tx *bolt.Tx, now time.Time) error {
		recs, err := s.loadSubject(tx, subject, now)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if rec.Revoked {
				continue
			}
			revoked := rec
			revoked.Revoked = true
			if err := s.putSession(tx, &revoked, &rec); err != nil {
				return err
			}
			ids = append(ids, rec.ID)
		}
		if len(ids) == 0 {
			return errUnchanged
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return ids, nil
}

// load reads session id; ok is false if there is no record.
func (s *Store) load(tx *bolt.Tx, id string) (rec session.Record, ok bool, err error) {
	raw := tx.Bucket([]byte(bucketSessions)).Get([]byte(id))
	if raw == nil {
		return session.Record{}, false, nil
	}
	rec, err = decodeRecord(raw)
	if err != nil {
		return session.Record{}, false, fmt.Errorf("session %s: %w", id, err)
	}
	return rec, true, nil
}

// loadSubject reads the sessions indexed under subject that are not due
// for deletion at now (the store's clock).
func (s *Store) loadSubject(tx *bolt.Tx, subject string, now time.Time) ([]session.Record, error) {
	prefix := subjectPrefix(subject)
	var out []session.Record
	c := tx.Bucket([]byte(bucketSubjects)).Cursor()
	for k, _ := c.Seek(prefix); hasPrefix(k, prefix); k, _ = c.Next() {
		id := string(k[len(prefix):])
		rec, ok, err := s.load(tx, id)
		if err != nil {
			return out, err
		}
		// A record whose subject changed has its own, new index entry.
		if ok && rec.Identity.Subject == subject && !s.gone(&rec, now) {
			out = append(out, rec)
		}
	}
	return out, nil
}

// hashEqual compares two refresh token hashes in constant time. An empty
// hash matches nothing, so a record without a previous token cannot be
// matched by an empty presentation.
func hashEqual(a, b []byte) bool {
	return len(a) > 0 && subtle.ConstantTimeCompare(a, b) == 1
}
