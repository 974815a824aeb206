package boltstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/session"
)

// Defaults for the zero fields of Options.
const (
	// DefaultTombstone is the Tombstone used when Options leaves it zero,
	// as in memstore.
	DefaultTombstone = time.Hour
	// DefaultTimeout is the Timeout used when Options leaves it zero.
	DefaultTimeout = 2 * time.Second
)

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
	// Timeout is how long Open waits for another process to release the
	// file's lock before it fails with ErrLocked. Zero or negative means
	// DefaultTimeout (never "wait forever": a gateway that hangs at start
	// is harder to diagnose than one that says why it cannot start).
	// bbolt polls the lock every 50ms, so it may give up up to 50ms early.
	Timeout time.Duration
}

// Store is a session.Store and session.RevocationStore in one bbolt file.
// Make one with Open and Close it when done. It is safe for concurrent
// use: reads run in parallel, writes one at a time.
type Store struct {
	db        *bolt.DB
	path      string
	now       func() time.Time
	tombstone time.Duration

	mu   sync.Mutex
	subs map[*subscriber]struct{} // in-process revocation subscribers
}

var (
	_ session.Store           = (*Store)(nil)
	_ session.RevocationStore = (*Store)(nil)
)

// Path is the database file, as given to Open.
func (s *Store) Path() string { return s.path }

// Close closes the file and releases its lock. Reads and writes after
// Close fail with session.ErrStoreUnavailable.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("boltstore: close %s: %w", s.path, err)
	}
	return nil
}

// errUnchanged, returned by an update's fn, says fn changed nothing: the
// transaction is rolled back, not an error, unless the sweep deleted
// something. Committing nothing would only cost an fsync (a re-issue in
// a refresh stampede, a Revoke of an unknown id).
var errUnchanged = errors.New("unchanged")

// update runs fn in one read-write transaction, after deleting records
// that are due (sweep). If fn returns an error the transaction is rolled
// back and the error returned (nil for errUnchanged); otherwise it is
// committed, and fsynced, before update returns. A failure of bbolt
// itself (a closed store, a full or failing disk) is
// session.ErrStoreUnavailable.
func (s *Store) update(ctx context.Context, op string, fn func(tx *bolt.Tx, now time.Time) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: %s: %w: %w", op, session.ErrStoreUnavailable, err)
	}
	var fnErr error
	err := s.db.Update(func(tx *bolt.Tx) error {
		// The caller may have given up while another write held the lock.
		if err := ctx.Err(); err != nil {
			fnErr = fmt.Errorf("%w: %w", session.ErrStoreUnavailable, err)
			return fnErr
		}
		now := s.now()
		swept, err := s.sweep(tx, now)
		if err != nil {
			fnErr = err
			return err
		}
		fnErr = fn(tx, now)
		if errors.Is(fnErr, errUnchanged) && swept > 0 {
			return nil // commit the sweep
		}
		return fnErr
	})
	if errors.Is(fnErr, errUnchanged) {
		fnErr = nil
		if errors.Is(err, errUnchanged) {
			err = nil // rolled back, as intended
		}
	}
	if fnErr != nil {
		return fmt.Errorf("boltstore: %s: %w", op, fnErr)
	}
	if err != nil {
		return fmt.Errorf("boltstore: %s: %w: %w", op, session.ErrStoreUnavailable, err)
	}
	return nil
}

// view runs fn in one read-only transaction, with the store's clock.
func (s *Store) view(ctx context.Context, op string, fn func(tx *bolt.Tx, now time.Time) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: %s: %w: %w", op, session.ErrStoreUnavailable, err)
	}
	var fnErr error
	err := s.db.View(func(tx *bolt.Tx) error {
		fnErr = fn(tx, s.now())
		return fnErr
	})
	if fnErr != nil {
		return fmt.Errorf("boltstore: %s: %w", op, fnErr)
	}
	if err != nil {
		return fmt.Errorf("boltstore: %s: %w: %w", op, session.ErrStoreUnavailable, err)
	}
	return nil
}
