package session

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// Store errors. Match them with errors.Is.
var (
	// ErrSessionNotFound: no session has that id (never created, or
	// expired and gone).
	ErrSessionNotFound = errors.New("session: session not found")
	// ErrSessionExpired: the session passed its idle timeout or absolute
	// lifetime.
	ErrSessionExpired = errors.New("session: session expired")
	// ErrSessionRevoked: the session was ended (logout, admin, reuse
	// detection, user removed at the source).
	ErrSessionRevoked = errors.New("session: session revoked")
	// ErrRefreshReused: a refresh token that had already been rotated
	// away was presented outside the grace window. The store has revoked
	// the session in the same atomic step.
	ErrRefreshReused = errors.New("session: refresh token reused")
	// ErrStoreUnavailable: the store could not be reached in time. It is
	// an infrastructure failure, not a verdict on the credential.
	ErrStoreUnavailable = errors.New("session: store unavailable")
)

// Record is a session as a Store keeps it. Refresh tokens are never
// stored, only their SHA-256 hashes.
type Record struct {
	// ID is the session id (the sid claim of its access tokens).
	ID string
	// Identity is the user's identity as of the last login or rotation.
	Identity Identity
	// CreatedAt is the login time; RefreshedAt the last rotation.
	CreatedAt   time.Time
	RefreshedAt time.Time
	// IdleExpiresAt is RefreshedAt plus the idle timeout; ExpiresAt is
	// CreatedAt plus the absolute lifetime. The session ends at the
	// earlier of the two.
	IdleExpiresAt time.Time
	ExpiresAt     time.Time
	// UserAgent and IP describe the client at login, for session lists.
	UserAgent string
	IP        string
	// Source says where the identity came from ("users" for the users
	// file, "grant" for an upstream grant), so a refresh knows where to
	// read fresh claims.
	Source string
	// SourceSecret is what the source needs to re-check the user at a
	// rotation (an OpenID Connect provider's refresh token, sealed by the
	// caller); stores keep it as given. Empty for most sources.
	SourceSecret []byte
	// RefreshHash is the hash of the current refresh token.
	RefreshHash []byte
	// PrevHash is the hash of the token RefreshHash replaced, accepted
	// (re-issuing the same successor) until PrevValidUntil: the grace
	// window for parallel requests and lost responses.
	PrevHash       []byte
	PrevValidUntil time.Time
	// Revoked marks a session that was ended. The record is kept as a
	// tombstone until it would have expired, so a late refresh is told
	// "revoked", not "not found".
	Revoked bool
}

// Deadline is when the session ends: the earlier of its idle and absolute
// expiry.
func (r *Record) Deadline() time.Time {
	if r.IdleExpiresAt.Before(r.ExpiresAt) {
		return r.IdleExpiresAt
	}
	return r.ExpiresAt
}

// Rotation asks a Store to advance a session's refresh chain.
type Rotation struct {
	// Presented is the hash of the refresh token the client sent.
	Presented []byte
	// Next is the hash of its successor. Successors are derived from
	// their parent (see RefreshTokens.Successor), so presenting the same
	// parent twice yields the same successor.
	Next []byte
	// Identity is the user's identity read fresh from its source.
	Identity Identity
	// SourceSecret, when not empty, replaces Record.SourceSecret (a
	// source that rotates its own credential); empty keeps it.
	SourceSecret []byte
	// Now is the current time; Grace the window in which the previous
	// token is still accepted; IdleTimeout extends IdleExpiresAt.
	Now         time.Time
	Grace       time.Duration
	IdleTimeout time.Duration
}

// Outcome says what a successful Rotate did.
type Outcome int

const (
	// Rotated: Presented was the current token; Next is now current and
	// Presented is the previous one, valid for Grace.
	Rotated Outcome = iota + 1
	// Reissued: Presented was the previous token, within its grace
	// window; nothing changed, and Next (equal to the current token's
	// hash) is handed out again.
	Reissued
)

// Store keeps sessions. Implementations must be safe for concurrent use,
// and Rotate must be atomic: two replicas rotating the same session at the
// same moment end on one chain. Every key or record has a TTL: nothing
// outlives the session's Deadline by more than a bounded tombstone time.
//
// The conformance suite in package sessiontest states the contract in
// detail; every implementation runs it.
type Store interface {
	// Create stores a new session. The id must be new.
	Create(ctx context.Context, rec Record) error
	// Get returns the session with that id (a revoked one too, with
	// Revoked set), or ErrSessionNotFound.
	Get(ctx context.Context, id string) (Record, error)
	// Rotate atomically checks and advances the refresh chain:
	//   - unknown id: ErrSessionNotFound;
	//   - revoked: ErrSessionRevoked;
	//   - past its deadline at r.Now: ErrSessionExpired;
	//   - Presented equals RefreshHash: Rotated (PrevHash = old current,
	//     PrevValidUntil = Now+Grace, RefreshHash = Next, RefreshedAt = Now,
	//     IdleExpiresAt = Now+IdleTimeout capped at ExpiresAt, Identity
	//     replaced, SourceSecret replaced when the rotation has one);
	//   - Presented equals PrevHash, Now before PrevValidUntil, and Next
	//     equals RefreshHash: Reissued, nothing changes;
	//   - anything else: the session is revoked in the same atomic step
	//     and ErrRefreshReused is returned.
	// Hashes are compared in constant time. The returned Record is the
	// state after the operation.
	Rotate(ctx context.Context, id string, r Rotation) (Record, Outcome, error)
	// Revoke marks a session revoked. Revoking an unknown or already
	// revoked session is not an error.
	Revoke(ctx context.Context, id string) error
	// ListUser returns the live (not revoked, not expired at now) sessions
	// of a subject.
	ListUser(ctx context.Context, subject string, now time.Time) ([]Record, error)
	// RevokeUser revokes every session of a subject and returns their ids.
	RevokeUser(ctx context.Context, subject string) ([]string, error)
}

// SortRecords orders records oldest first (by CreatedAt, then ID), the
// order in which every Store's ListUser returns them.
func SortRecords(rs []Record) {
	slices.SortFunc(rs, func(a, b Record) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
