package session

import (
	"sync"
	"time"
)

// Revocations is the local list of revoked sessions and users that every
// verification consults — in memory, so the request path never makes a
// network hop for it. Entries expire when the access tokens they cover
// would have expired anyway, so the list stays small.
//
// In a single process the Manager feeds it directly; with a shared store,
// each replica's list is a mirror fed by the store.
type Revocations struct {
	now      func() time.Time
	mu       sync.RWMutex
	sessions map[string]time.Time // sid -> entry expiry
	users    map[string]userCut   // subject -> cut-off
	tokens   map[string]time.Time // jti -> entry expiry
	writes   int
}

// userCut revokes every token of a user issued at or before Before.
type userCut struct{ before, until time.Time }

// NewRevocations returns an empty list. now is the clock used to drop
// expired entries (nil means time.Now).
func NewRevocations(now func() time.Time) *Revocations {
	if now == nil {
		now = time.Now
	}
	return &Revocations{now: now, sessions: map[string]time.Time{}, users: map[string]userCut{}, tokens: map[string]time.Time{}}
}

// RevokeSession revokes every access token of session sid; the entry is
// kept until until (the latest expiry of a token it covers).
func (r *Revocations) RevokeSession(sid string, until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if until.After(r.sessions[sid]) {
		r.sessions[sid] = until
	}
	r.sweep()
}

// RevokeToken revokes the one token whose jti is jti.
func (r *Revocations) RevokeToken(jti string, until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if until.After(r.tokens[jti]) {
		r.tokens[jti] = until
	}
	r.sweep()
}

// Apply adds a shared revocation to the list. Applying one twice is
// harmless.
func (r *Revocations) Apply(rv Revocation) {
	switch rv.Kind {
	case RevokeSessionKind:
		r.RevokeSession(rv.ID, rv.Until)
	case RevokeUserKind:
		r.RevokeUser(rv.ID, rv.Before, rv.Until)
	case RevokeTokenKind:
		r.RevokeToken(rv.ID, rv.Until)
	}
}

// RevokeUser revokes every access token of subject issued at or before
// before — a token minted in the same second as the revocation is covered,
// since iat has one-second resolution.
func (r *Revocations) RevokeUser(subject string, before, until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.users[subject]
	if before.After(c.before) {
		c.before = before
	}
	if until.After(c.until) {
		c.until = until
	}
	r.users[subject] = c
	r.sweep()
}

// Revoked reports whether p's token has been revoked. An external
// issuer's token (no session) is revoked by its jti or its subject; one
// without iat is revoked whenever its subject is.
func (r *Revocations) Revoked(p *Principal) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if _, ok := r.sessions[p.SessionID]; ok && p.SessionID != "" {
		return true
	}
	if _, ok := r.tokens[p.TokenID]; ok && p.TokenID != "" {
		return true
	}
	if c, ok := r.users[p.Subject]; ok && !p.IssuedAt.After(c.before.Truncate(time.Second)) {
		return true
	}
	return false
}

// sweep drops expired entries, amortised over writes so the list cannot
// grow without bound and no goroutine is needed. The caller holds the lock.
func (r *Revocations) sweep() {
	r.writes++
	if r.writes%256 != 0 {
		return
	}
	now := r.now()
	for k, until := range r.sessions {
		if until.Before(now) {
			delete(r.sessions, k)
		}
	}
	for k, c := range r.users {
		if c.until.Before(now) {
			delete(r.users, k)
		}
	}
	for k, until := range r.tokens {
		if until.Before(now) {
			delete(r.tokens, k)
		}
	}
}
