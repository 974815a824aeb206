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
	cache   *VerifyCache // nil: off
	// onRevoke observes revocations, for metrics (ManagerOptions.OnRevoke).
	onRevoke func(RevocationKind)
	// external routes bearer tokens by iss; nil: own tokens only.
	external *Issuers
	// bearerIDs are the VerifierIDs a bearer token may be cached under
	// when external is set: the own Tokens' and every External's.
	bearerIDs []string
	// keep is how long a revocation must outlive the tokens it covers.
	keep time.Duration
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
	// Cache, when set, holds verified access tokens, so a token seen
	// before skips its signature check; revocation is still checked on
	// every request. Nil verifies every time.
	Cache *VerifyCache
	// OnRevoke, when set, is called with the kind of every revocation
	// this Manager makes (logout, admin, reuse detection, a user removed
	// at the source), after it applies locally. It is for metrics: it
	// must be fast and must not block.
	OnRevoke func(RevocationKind)
	// External, when set, routes bearer tokens to external issuers by
	// their iss (VerifyBearer). ExternalLifetime is the longest lifetime
	// of their tokens (external_tokens.max_lifetime): revocations are kept
	// that long.
	External         *Issuers
	ExternalLifetime time.Duration
}

// NewManager returns a Manager. All fields but Now are required.
func NewManager(o ManagerOptions) (*Manager, error) {
	if o.Tokens == nil || o.Refresh == nil || o.Store == nil || o.Revocations == nil {
		return nil, errors.New("session: NewManager needs Tokens, Refresh, Store and Revocations")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Manager{
		tokens: o.Tokens, refresh: o.Refresh, store: o.Store, revoked: o.Revocations,
		shared: o.Shared, mirror: o.Mirror, open: o.FailOpen,
		idle: o.IdleTimeout, life: o.AbsoluteLifetime, grace: o.Grace, now: o.Now,
		onRevoke: o.OnRevoke, external: o.External, cache: o.Cache,
		keep: max(o.Tokens.AccessTTL(), o.ExternalLifetime),
	}
	if o.External != nil {
		m.bearerIDs = append([]string{o.Tokens.id}, o.External.ids...)
	}
	return m, nil
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
	// SourceSecret is kept in the record for the source (Record.SourceSecret).
	SourceSecret []byte
}

// Login starts a new session for id.
func (m *Manager) Login(ctx context.Context, id Identity, c Client) (Issued, error) {
	now := m.now()
	sid := NewID()
	refresh := m.refresh.New(sid)
	rec := Record{
		ID: sid, Identity: id, CreatedAt: now, RefreshedAt: now,
		IdleExpiresAt: now.Add(m.idle), ExpiresAt: now.Add(m.life),
		UserAgent: c.UserAgent, IP: c.IP, Source: c.Source, SourceSecret: c.SourceSecret,
		RefreshHash: HashRefreshToken(refresh),
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
type FreshIdentity func(ctx context.Context, rec Record) (Fresh, error)

// Fresh is what a source says about a session's user at a rotation.
type Fresh struct {
	Identity Identity
	// SourceSecret, when not empty, replaces the record's SourceSecret
	// in the same atomic step as the rotation.
	SourceSecret []byte
}

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
	f, err := fresh(ctx, rec)
	id := f.Identity
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
		SourceSecret: f.SourceSecret, Now: m.now(), Grace: m.grace, IdleTimeout: m.idle,
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

// LogoutSource ends the live sessions of subject whose Record.Source is
// source, each as Logout does, and returns their ids. Sessions of the same
// subject from other sources stay. It is how a source that signs a user
// out (an OpenID Connect provider's back-channel logout) ends only the
// sessions it started: a users-file "alice" is not the provider's.
func (m *Manager) LogoutSource(ctx context.Context, subject, source string) ([]string, error) {
	recs, err := m.store.ListUser(ctx, subject, m.now())
	if err != nil {
		return nil, fmt.Errorf("session: listing the sessions of %q: %w", subject, err)
	}
	var ended []string
	for _, rec := range recs {
		if rec.Source != source {
			continue
		}
		if err := m.Logout(ctx, rec.ID); err != nil {
			return ended, fmt.Errorf("session: ending session %s of %q: %w", rec.ID, subject, err)
		}
		ended = append(ended, rec.ID)
	}
	return ended, nil
}

// Verify verifies an access token and checks it against the revocation
// list. A revoked token's error matches ErrSessionRevoked.
//
// With a Cache, a token verified before (by this Manager's Tokens, before
// its exp) skips verification; the mirror's freshness and the revocation
// list are checked on every call, cached or not. Neither makes a store
// round trip: the list is local, fed by the mirror.
func (m *Manager) Verify(raw string) (*Principal, error) {
	if p, ok := m.cache.Get(m.tokens.id, raw); ok {
		return m.checkRevoked(p)
	}
	return m.verifyOwn(raw)
}

// verifyOwn is Verify after the cache missed: a full verification by the
// own Tokens, cached, then the revocation checks. VerifyBearer calls it
// after its own lookup missed, so that one request is one lookup in the
// cache's Stats.
func (m *Manager) verifyOwn(raw string) (*Principal, error) {
	p, err := m.tokens.Verify(raw)
	if err != nil {
		return nil, err
	}
	m.cache.Put(m.tokens.id, raw, p, p.ExpiresAt)
	return m.checkRevoked(p)
}

// VerifyBearer verifies a token presented as Authorization: Bearer. With
// external issuers configured, the token is routed by its iss before any
// key is looked up: the gateway's own tokens go through Verify, an
// external issuer's through its verifier, and then through the same
// revocation checks (by jti, and by user not-before); any other iss is
// ErrInvalidToken (ErrWrongIssuer) without a network request. External
// tokens are accepted only here, never from a cookie, and never refreshed.
//
// With a Cache, an external token verified before is served from it under
// its issuer entry's VerifierID, for at most External.CacheUntil (its exp,
// and external_tokens.refetch_interval); revocation and the mirror's
// freshness are checked on every call, as in Verify. A cache hit, own or
// external, is found before routing (one lookup per configured verifier).
func (m *Manager) VerifyBearer(raw string) (*Principal, error) {
	if m.external == nil {
		return m.Verify(raw)
	}
	// A token cached under one of the verifiers the router could pick
	// was verified by the one it picks: routing is a function of the
	// token's bytes, and the Issuers is immutable (a reload builds new
	// verifiers, with new ids). So a hit skips routing too.
	if p, ok := m.cache.GetAny(m.bearerIDs, raw); ok {
		return m.checkRevoked(p)
	}
	e, h, err := m.external.route(raw)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return m.verifyOwn(raw) // GetAny looked under m.tokens.id too
	}
	p, err := e.verify(context.Background(), raw, h)
	if err != nil {
		return nil, err
	}
	m.cache.Put(e.id, raw, p, e.CacheUntil(p.ExpiresAt))
	return m.checkRevoked(p)
}

// checkRevoked applies the revocation list (and its staleness) to a
// verified principal.
func (m *Manager) checkRevoked(p *Principal) (*Principal, error) {
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
	// 5m is the largest leeway config allows; keep covers the longest
	// token lifetime, own or external.
	return m.now().Add(m.keep + 5*time.Minute)
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
