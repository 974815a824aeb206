// Package redisstore is a session.Store and session.RevocationStore on
// Redis: a single server, a Sentinel-managed master, or a Redis Cluster
// (go-redis UniversalClient). Several gateway replicas share sessions and
// revocations through it, and sessions survive gateway restarts.
//
// # Keys
//
// Every key starts with the configured prefix:
//
//	<prefix>s:{<sid>}      HASH: one session (fields in record.go)
//	<prefix>u:{<subject>}  ZSET: the subject's session ids, scored by when
//	                       each may be forgotten (deadline + tombstone, ms)
//	<prefix>rev            ZSET: revocations, scored by Until (ms)
//	<prefix>revocations    pub/sub channel announcing revocations
//
// The braces are Cluster hash tags: all of a session's writes go to one
// key, so each runs as one single-slot script. (A prefix that itself
// contains braces puts every key in the prefix's slot.)
//
// Every key has a TTL, set with PEXPIREAT: a session at its Deadline plus
// Options.Tombstone (the tombstone lets a late refresh be told "revoked" or
// "expired", not "not found"); an index and the revocation set at their
// latest entry's time. Expired index and revocation entries are also
// dropped whenever the key is written. Nothing grows forever.
//
// # Atomicity
//
// Create, Rotate and Revoke are each one Lua script on the session's key,
// so two replicas rotating the same session at once end on one chain.
// The per-subject index lives in another slot; it is written before the
// session (at Create and at every Rotate), so that RevokeUser never misses
// a live session: the index may name sessions that do not exist or belong
// to someone else now (a failed Create, a renamed subject), which readers
// skip, but never lacks one.
//
// # Failures
//
// Every operation runs under Options.Timeout. An error meaning that Redis
// could not be reached in time (network, timeout, refused connection, pool
// exhausted, closed client, a loading or failing-over server) wraps
// session.ErrStoreUnavailable, so the gateway answers with its configured
// outage behaviour instead of hanging. Such a call may still have taken
// effect (the command may have reached Redis before the deadline): Rotate
// is safe to retry, the retry being answered Reissued within the grace
// window.
//
// Times are stored with millisecond precision.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse/gatehouse/session"
)

// Defaults for zero Options fields.
const (
	DefaultTimeout   = 2 * time.Second
	DefaultTombstone = time.Hour
)

// Options configure a Store.
type Options struct {
	// Timeout bounds every operation, including retries inside go-redis;
	// zero or negative means DefaultTimeout.
	Timeout time.Duration
	// Now is the clock used only for expiry housekeeping: dropping index
	// and revocation entries whose time has passed. It never decides
	// whether a session is live (Rotate and ListUser take the time from
	// their caller), and key TTLs are absolute (PEXPIREAT), so they follow
	// Redis's clock. Nil means time.Now.
	Now func() time.Time
	// Tombstone is how long a session's record is kept after its
	// Deadline; zero or negative means DefaultTombstone.
	Tombstone time.Duration
}

// ErrExists is returned (wrapped) by Create when a session with the id
// exists.
var ErrExists = errors.New("redisstore: session id exists")

// Store is a session.Store and session.RevocationStore on Redis. Make one
// with New or NewFromClient; it is safe for concurrent use. Close it to
// release its connections and stop its subscriptions.
type Store struct {
	client    redis.UniversalClient
	prefix    string
	timeout   time.Duration
	now       func() time.Time
	tombstone time.Duration
	scripts   scripts
	probe     time.Duration // idle time before a subscription is probed (idleProbe; tests shorten it)

	mu     sync.Mutex
	closed bool
	done   chan struct{}  // closed by Close: subscriptions stop
	subs   sync.WaitGroup // running subscription loops
}

var (
	_ session.Store           = (*Store)(nil)
	_ session.RevocationStore = (*Store)(nil)
)

// NewFromClient returns a Store using c, with every key starting with
// prefix. The Store takes c over: Close closes it. For Timeout to bound
// every call, c should have ContextTimeoutEnabled set (New sets it).
func NewFromClient(c redis.UniversalClient, prefix string, opts Options) *Store {
	s := &Store{
		client:    c,
		prefix:    prefix,
		timeout:   opts.Timeout,
		now:       opts.Now,
		tombstone: opts.Tombstone,
		scripts:   newScripts(),
		probe:     idleProbe,
		done:      make(chan struct{}),
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.tombstone <= 0 {
		s.tombstone = DefaultTombstone
	}
	return s
}

// Ping checks that Redis answers within the timeout.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return s.fail("ping", err)
	}
	return nil
}

// Close stops the Store's subscriptions, waits for them to end, and closes
// the client. Later calls fail with session.ErrStoreUnavailable.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	err := s.client.Close()
	s.subs.Wait()
	return err
}

// withTimeout bounds one operation.
func (s *Store) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

func (s *Store) sessionKey(id string) string   { return s.prefix + "s:{" + id + "}" }
func (s *Store) userKey(subject string) string { return s.prefix + "u:{" + subject + "}" }
func (s *Store) revocationsKey() string        { return s.prefix + "rev" }
func (s *Store) channel() string               { return s.prefix + "revocations" }

// fail wraps err for operation op, marking it session.ErrStoreUnavailable
// when Redis could not be reached in time.
func (s *Store) fail(op string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("redisstore: %s: %w: %w", op, session.ErrStoreUnavailable, err)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}
