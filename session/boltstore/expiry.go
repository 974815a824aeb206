package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/session"
)

// sweepBatch bounds how many due records (and, separately, revocations)
// one write deletes, so that a write after a long idle period does not
// turn into one huge transaction. Due records left over are invisible to
// reads (see gone) and deleted by the following writes.
const sweepBatch = 128

// removeAt is when rec is deleted: its Deadline plus the tombstone time.
func (s *Store) removeAt(rec *session.Record) time.Time {
	return rec.Deadline().Add(s.tombstone)
}

// gone reports whether rec is due for deletion at now. A due record is
// treated as deleted even before a sweep reaches it, so that what a
// caller sees does not depend on how far sweeping has got.
func (s *Store) gone(rec *session.Record, now time.Time) bool {
	return !s.removeAt(rec).After(now)
}

// sweep deletes up to sweepBatch due sessions and up to sweepBatch due
// revocations, with their index entries, and says how many index entries
// it deleted.
func (s *Store) sweep(tx *bolt.Tx, now time.Time) (int, error) {
	dueSessions := dueKeys(tx.Bucket([]byte(bucketExpiry)), now)
	dueRevocations := dueKeys(tx.Bucket([]byte(bucketRevocationExp)), now)
	for _, due := range dueSessions {
		if err := s.sweepSession(tx, due); err != nil {
			return 0, err
		}
	}
	for _, due := range dueRevocations {
		if err := sweepRevocation(tx, due); err != nil {
			return 0, err
		}
	}
	return len(dueSessions) + len(dueRevocations), nil
}

// sweepSession deletes a due expiry index entry and the session it
// points at, if the entry is the session's current one.
func (s *Store) sweepSession(tx *bolt.Tx, due dueKey) error {
	if raw := tx.Bucket([]byte(bucketSessions)).Get(due.id); raw != nil {
		rec, err := decodeRecord(raw)
		switch {
		case err != nil:
			// An unreadable record cannot be un-indexed by subject (a
			// ListUser skips the dangling entry); delete what we can.
			if err := deleteKey(tx, bucketSessions, due.id); err != nil {
				return err
			}
		case bytes.Equal(timeKey(s.removeAt(&rec), due.id), due.expiryKey):
			return s.deleteSession(tx, &rec)
		}
		// Otherwise the session was rescheduled and this entry is stale.
	}
	return deleteKey(tx, bucketExpiry, due.expiryKey)
}

// sweepRevocation deletes a due expiry index entry and the revocation it
// points at, if the entry is the revocation's current one.
func sweepRevocation(tx *bolt.Tx, due dueKey) error {
	if raw := tx.Bucket([]byte(bucketRevocations)).Get(due.id); raw != nil {
		r, err := decodeRevocation(raw)
		if err != nil || bytes.Equal(timeKey(r.Until, due.id), due.expiryKey) {
			if err := deleteKey(tx, bucketRevocations, due.id); err != nil {
				return err
			}
		}
	}
	return deleteKey(tx, bucketRevocationExp, due.expiryKey)
}

// dueKey is an expiry index entry: the whole key, and the key it points
// at in the indexed bucket.
type dueKey struct {
	expiryKey []byte
	id        []byte
}

// dueKeys returns up to sweepBatch index entries of b due at now, copied
// out of bbolt's memory.
func dueKeys(b *bolt.Bucket, now time.Time) []dueKey {
	limit := floorMilli(now)
	var out []dueKey
	c := b.Cursor()
	for k, _ := c.First(); k != nil && len(out) < sweepBatch; k, _ = c.Next() {
		if len(k) < 8 || binary.BigEndian.Uint64(k) > limit {
			break
		}
		k = bytes.Clone(k)
		out = append(out, dueKey{expiryKey: k, id: k[8:]})
	}
	return out
}

// putSession writes rec and its index entries. old, if not nil, is the
// stored version rec replaces, whose index entries are moved.
func (s *Store) putSession(tx *bolt.Tx, rec, old *session.Record) error {
	raw, err := encodeRecord(rec)
	if err != nil {
		return err
	}
	id := []byte(rec.ID)
	if err := tx.Bucket([]byte(bucketSessions)).Put(id, raw); err != nil {
		return fmt.Errorf("writing session %s: %w", rec.ID, err)
	}
	subjects, expiry := tx.Bucket([]byte(bucketSubjects)), tx.Bucket([]byte(bucketExpiry))
	newSub, newExp := subjectKey(rec.Identity.Subject, rec.ID), timeKey(s.removeAt(rec), id)
	if old != nil {
		if oldSub := subjectKey(old.Identity.Subject, old.ID); !bytes.Equal(oldSub, newSub) {
			if err := subjects.Delete(oldSub); err != nil {
				return fmt.Errorf("un-indexing session %s: %w", rec.ID, err)
			}
		}
		if oldExp := timeKey(s.removeAt(old), id); !bytes.Equal(oldExp, newExp) {
			if err := expiry.Delete(oldExp); err != nil {
				return fmt.Errorf("un-scheduling session %s: %w", rec.ID, err)
			}
		}
	}
	if err := subjects.Put(newSub, nil); err != nil {
		return fmt.Errorf("indexing session %s: %w", rec.ID, err)
	}
	if err := expiry.Put(newExp, nil); err != nil {
		return fmt.Errorf("scheduling session %s: %w", rec.ID, err)
	}
	return nil
}

// deleteSession deletes the stored rec and its index entries.
func (s *Store) deleteSession(tx *bolt.Tx, rec *session.Record) error {
	id := []byte(rec.ID)
	if err := deleteKey(tx, bucketSessions, id); err != nil {
		return err
	}
	if err := deleteKey(tx, bucketSubjects, subjectKey(rec.Identity.Subject, rec.ID)); err != nil {
		return err
	}
	return deleteKey(tx, bucketExpiry, timeKey(s.removeAt(rec), id))
}

// deleteKey deletes key from the named bucket.
func deleteKey(tx *bolt.Tx, bucket string, key []byte) error {
	if err := tx.Bucket([]byte(bucket)).Delete(key); err != nil {
		return fmt.Errorf("deleting from %s: %w", bucket, err)
	}
	return nil
}
