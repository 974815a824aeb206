package session

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RevocationKind says what a Revocation covers.
type RevocationKind string

// The kinds of revocation.
const (
	// RevokeSessionKind: every token of session ID (logout, reuse, admin).
	RevokeSessionKind RevocationKind = "session"
	// RevokeUserKind: every token of subject ID issued at or before Before
	// ("log out everywhere", password change).
	RevokeUserKind RevocationKind = "user"
	// RevokeTokenKind: the one token whose jti is ID.
	RevokeTokenKind RevocationKind = "token"
)

// Revocation is one entry of the revocation lists. It is kept until Until,
// when every token it covers has expired anyway.
type Revocation struct {
	Kind   RevocationKind
	ID     string
	Before time.Time // RevokeUserKind only
	Until  time.Time
}

// RevocationStore shares revocations between replicas. Each replica keeps
// a local mirror (see Mirror) so the request path never waits on it.
type RevocationStore interface {
	// AddRevocation records r durably until r.Until and announces it to
	// every subscriber, this process's included.
	AddRevocation(ctx context.Context, r Revocation) error
	// Revocations returns every revocation whose Until is after now: the
	// mirror loads them at start and reconciles with them periodically.
	Revocations(ctx context.Context, now time.Time) ([]Revocation, error)
	// SubscribeRevocations delivers announced revocations to fn until ctx
	// is done. It returns once subscribed (or with the error that prevented
	// it). When the subscription is interrupted and re-established, it
	// calls resync, so the caller can reconcile what it may have missed.
	// fn and resync must not block for long.
	SubscribeRevocations(ctx context.Context, fn func(Revocation), resync func()) error
}

// Validate rejects a Revocation no store should keep: an unknown kind or
// an empty id (caller bugs, or a corrupt message from another replica).
func (r Revocation) Validate() error {
	switch r.Kind {
	case RevokeSessionKind, RevokeUserKind, RevokeTokenKind:
	default:
		return fmt.Errorf("session: unknown revocation kind %q", r.Kind)
	}
	if r.ID == "" {
		return errors.New("session: empty revocation id")
	}
	return nil
}
