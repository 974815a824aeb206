package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/singleflight"
)

// Manager runs the session lifecycle — login, refresh, logout — on top of
// a Store, and verifies access tokens against the revocation list.
type Manager struct {
	tokens  *Tokens
	refresh *RefreshTokens
	store   Store
	revoked *Revocations
	shared  RevocationStore // nil: revocations stay in this process
	mirror  *Mirror         // nil: no staleness to enforce
	open    bool            // fail open when the mirror is stale
	idle    time.Duration
	life    time.Duration
	grace   time.Duration
	now     func() time.Time
	flight  singleflight.Group
	// onRevoke observes revocations, for metrics (ManagerOptions.OnRevoke).
	onRevoke func(RevocationKind)
}

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	Tokens      *Tokens
	Refresh     *RefreshTokens
	Store       Store
	Revocations *Revocations
	// Shared, when set, receives every revocation so other replicas see
	// it; Mirror keeps Revocations in step with it. With a Mirror that has
	// been started, verification fails with ErrStoreUnavailable once the
	// mirror is staler than its MaxStaleness, unless FailOpen.
	Shared   RevocationStore
	Mirror   *Mirror
	FailOpen bool
	// IdleTimeout and AbsoluteLifetime bound a session; Grace is how long
	// a rotated-away refresh token still yields the same successor.
	IdleTimeout      time.Duration
	AbsoluteLifetime time.Duration
	Grace            time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnRevoke, when set, is called with the kind of every revocation
	// this Manager makes (logout, admin, reuse detection, a user removed
	// at the source), after it applies locally. It is for metrics: it
	// must be fast and must not block.
	OnRevoke func(RevocationKind)
}

// NewManager returns a Manager. All fields but Now are required.
func NewManager(o ManagerOptions) (*Manager, error) {
	if o.Tokens == nil || o.Refresh == nil || o.Store == nil || o.Revocations == nil {
		return nil, errors.New("session: NewManager needs Tokens, Refresh, Store and Revocations")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Manager{
		tokens: o.Tokens, refresh: o.Refresh, store: o.Store, revoked: o.Revocations,
		shared: o.Shared, mirror: o.Mirror, open: o.FailOpen,
		idle: o.IdleTimeout, life: o.AbsoluteLifetime, grace: o.Grace, now: o.Now,
		onRevoke: o.OnRevoke,
	}, nil
}

// Issued is what login and refresh hand to the client.
type Issued struct {
	Access    string
	Refresh   string
	Principal *Principal
	Record    Record
	// Outcome is what the store did at a refresh: Rotated, or Reissued
	// (the previous token, within the grace window). Zero after Login.
	Outcome Outcome
}

// Client describes who logs in, for the session record.
type Client struct {
	// UserAgent and IP of the client.
	UserAgent string
	IP        string
	// Source is where the identity came from (Record.Source).
	Source string
}

// Login starts a new session for id.
func (m *Manager) Login(ctx context.Context, id Identity, c Client) (Issued, error) {
	now := m.now()
	sid := NewID()
	refresh := m.refresh.New(sid)
	rec := Record{
		ID: sid, Identity: id, CreatedAt: now, RefreshedAt: now,
		IdleExpiresAt: now.Add(m.idle), ExpiresAt: now.Add(m.life),
		UserAgent: c.UserAgent, IP: c.IP, Source: c.Source, RefreshHash: HashRefreshToken(refresh),
	}
	if rec.IdleExpiresAt.After(rec.ExpiresAt) {
		rec.IdleExpiresAt = rec.ExpiresAt
	}
	if err := m.store.Create(ctx, rec); err != nil {
		return Issued{}, fmt.Errorf("session: login: %w", err)
	}
	access, p, err := m.tokens.Mint(id, sid)
	if err != nil {
		return Issued{}, err
	}
	return Issued{Access: access, Refresh: refresh, Principal: p, Record: rec}, nil
}

// FreshIdentity reads a user's identity again from its source (rec.Source)
// at each rotation, so role changes reach the app within one access-token
// lifetime. It returns an error matching ErrSessionRevoked when the user
// was removed or disabled at the source, which ends the session.
type FreshIdentity func(ctx context.Context, rec Record) (Identity, error)

// Refresh rotates a refresh token. Concurrent calls with the same token in
// this process share one rotation; across processes the store's grace
// window keeps them on one chain. Errors: ErrInvalidToken (not a token we
// issued), ErrSessionNotFound, ErrSessionExpired, ErrSessionRevoked,
// ErrRefreshReused (the session is now revoked), ErrStoreUnavailable.
func (m *Manager) Refresh(ctx context.Context, token string, fresh FreshIdentity) (Issued, error) {
	sid, err := m.refresh.Parse(token)
	if err != nil {
		return Issued{}, err
	}
	// The key is the token itself: only callers holding the same token
	// share a result.
	v, err, _ := m.flight.Do(token, func() (any, error) {
		return m.rotate(context.WithoutCancel(ctx), sid, token, fresh)
	})
	if err != nil {
		return Issued{}, err
	}
	return v.(Issued), nil
}

func (m *Manager) rotate(ctx context.Context, sid, token string, fresh FreshIdentity) (Issued, error) {
	rec, err := m.store.Get(ctx, sid)
	if err != nil {
		return Issued{}, err
	}
	if rec.Revoked {
		return Issued{}, ErrSessionRevoked
	}
	id, err := fresh(ctx, rec)
	if errors.Is(err, ErrSessionRevoked) {
		if rerr := m.Logout(ctx, sid); rerr != nil {
			return Issued{}, rerr
		}
		return Issued{}, err
	}
	if err == nil && id.Subject != rec.Identity.Subject {
		err = fmt.Errorf("fresh identity has subject %q, the session %q", id.Subject, rec.Identity.Subject)
	}
	if err != nil {
		return Issued{}, fmt.Errorf("session: reading fresh claims: %w", err)
	}
	subject := rec.Identity.Subject
	next := m.refresh.Successor(sid, token)
	var outcome Outcome
	rec, outcome, err = m.store.Rotate(ctx, sid, Rotation{
		Presented: HashRefreshToken(token), Next: HashRefreshToken(next), Identity: id,
		Now: m.now(), Grace: m.grace, IdleTimeout: m.idle,
	})
	if errors.Is(err, ErrRefreshReused) {
		if serr := m.revoke(ctx, Revocation{Kind: RevokeSessionKind, ID: sid, Until: m.revocationExpiry()}); serr != nil {
			err = errors.Join(err, serr)
		}
		return Issued{}, fmt.Errorf("session %s of user %q: %w", sid, subject, err)
	}
	if err != nil {
		return Issued{}, err
	}
	access, p, err := m.tokens.Mint(rec.Identity, sid)
	if err != nil {
		return Issued{}, err
	}
	return Issued{Access: access, Refresh: next, Principal: p, Record: rec, Outcome: outcome}, nil
}

// Logout revokes session sid: its refresh token stops working and its
// outstanding access tokens are rejected at once.
func (m *Manager) Logout(ctx context.Context, sid string) error {
	if err := m.revoke(ctx, Revocation{Kind: RevokeSessionKind, ID: sid, Until: m.revocationExpiry()}); err != nil {
		return err
	}
	return m.store.Revoke(ctx, sid)
}

// RevokeToken revokes one access token by its jti.
func (m *Manager) RevokeToken(ctx context.Context, jti string) error {
	return m.revoke(ctx, Revocation{Kind: RevokeTokenKind, ID: jti, Until: m.revocationExpiry()})
}

// revoke applies r locally at once, then shares it with other replicas.
func (m *Manager) revoke(ctx context.Context, r Revocation) error {
	m.revoked.Apply(r)
	if m.onRevoke != nil {
		m.onRevoke(r.Kind)
	}
	if m.shared == nil {
		return nil
	}
	if err := m.shared.AddRevocation(ctx, r); err != nil {
		return fmt.Errorf("session: sharing %s revocation: %w", r.Kind, err)
	}
	return nil
}

// LogoutUser ends every session of subject, including access tokens
// issued to it up to now.
func (m *Manager) LogoutUser(ctx context.Context, subject string) error {
	r := Revocation{Kind: RevokeUserKind, ID: subject, Before: m.now(), Until: m.revocationExpiry()}
	if err := m.revoke(ctx, r); err != nil {
		return err
	}
	_, err := m.store.RevokeUser(ctx, subject)
	return err
}

// Verify verifies an access token and checks it against the revocation
// list. A revoked token's error matches ErrSessionRevoked.
func (m *Manager) Verify(raw string) (*Principal, error) {
	p, err := m.tokens.Verify(raw)
	if err != nil {
		return nil, err
	}
	if m.mirror != nil && !m.open && m.mirror.Started() && !m.mirror.Fresh() {
		return nil, fmt.Errorf("%w: revocation mirror is %s old", ErrStoreUnavailable, m.mirror.Age().Round(time.Second))
	}
	if m.revoked.Revoked(p) {
		return nil, ErrSessionRevoked
	}
	return p, nil
}

// revocationExpiry is when a revocation entry made now can be forgotten:
// after every access token it covers has expired.
func (m *Manager) revocationExpiry() time.Time {
	// 5m is the largest leeway config allows.
	return m.now().Add(m.tokens.AccessTTL() + 5*time.Minute)
}

// SessionID returns the session id of a refresh token this gateway
// issued (whether or not it is still current).
func (m *Manager) SessionID(refresh string) (string, error) {
	return m.refresh.Parse(refresh)
}

// Get returns the stored session sid.
func (m *Manager) Get(ctx context.Context, sid string) (Record, error) {
	return m.store.Get(ctx, sid)
}

// ListUser returns the live sessions of subject.
func (m *Manager) ListUser(ctx context.Context, subject string) ([]Record, error) {
	return m.store.ListUser(ctx, subject, m.now())
}
