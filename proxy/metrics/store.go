package metrics

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/session"
)

// Store operations, the op label of gatehouse_store_operation_duration_seconds
// and gatehouse_store_errors_total.
const (
	opCreate = iota
	opGet
	opRotate
	opRevoke
	opListUser
	opRevokeUser
	opAddRevocation
	opRevocations
	opSubscribeRevocations
	numStoreOps
)

func storeOpNames() [numStoreOps]string {
	return [...]string{
		"create", "get", "rotate", "revoke", "list_user", "revoke_user",
		"add_revocation", "revocations", "subscribe_revocations",
	}
}

// refreshSecretStore is the optional interface of a store that keeps a
// generated refresh-token secret (boltstore); package proxy looks for it.
type refreshSecretStore interface {
	RefreshSecret(ctx context.Context) ([]byte, error)
}

// InstrumentStore returns s, timing every operation in
// gatehouse_store_operation_duration_seconds{op} and counting failures in
// gatehouse_store_errors_total{op}. The result implements
// session.RevocationStore, and RefreshSecret, exactly when s does, so
// type assertions on it answer as they would on s. RefreshSecret is
// passed on untimed: it is read once, at start. With a nil m it returns s
// itself.
//
// Durations are measured with the wall clock (time.Now), not the
// gateway's injected clock: they describe real I/O.
func InstrumentStore(s session.Store, m *Metrics) session.Store {
	if m == nil || s == nil {
		return s
	}
	base := &store{inner: s, m: m}
	rs, shares := s.(session.RevocationStore)
	sk, keeps := s.(refreshSecretStore)
	switch {
	case shares && keeps:
		return &sharingKeepingStore{base, revocationStore{rs, m}, secretStore{sk}}
	case shares:
		return &sharingStore{base, revocationStore{rs, m}}
	case keeps:
		return &keepingStore{base, secretStore{sk}}
	}
	return base
}

// The combinations of optional interfaces InstrumentStore can return.
type (
	sharingStore struct {
		*store
		revocationStore
	}
	keepingStore struct {
		*store
		secretStore
	}
	sharingKeepingStore struct {
		*store
		revocationStore
		secretStore
	}
)

// observe records one operation that started at start.
func (m *Metrics) observe(op int, start time.Time, err error) {
	m.storeSeconds[op].Observe(time.Since(start).Seconds())
	if isStoreFailure(err) {
		m.storeErrors[op].Inc()
	}
}

// store instruments the session.Store methods.
type store struct {
	inner session.Store
	m     *Metrics
}

// Create implements session.Store.
func (s *store) Create(ctx context.Context, rec session.Record) error {
	start := time.Now()
	err := s.inner.Create(ctx, rec)
	s.m.observe(opCreate, start, err)
	return err
}

// Get implements session.Store.
func (s *store) Get(ctx context.Context, id string) (session.Record, error) {
	start := time.Now()
	rec, err := s.inner.Get(ctx, id)
	s.m.observe(opGet, start, err)
	return rec, err
}

// Rotate implements session.Store.
func (s *store) Rotate(ctx context.Context, id string, r session.Rotation) (session.Record, session.Outcome, error) {
	start := time.Now()
	rec, o, err := s.inner.Rotate(ctx, id, r)
	s.m.observe(opRotate, start, err)
	return rec, o, err
}

// Revoke implements session.Store.
func (s *store) Revoke(ctx context.Context, id string) error {
	start := time.Now()
	err := s.inner.Revoke(ctx, id)
	s.m.observe(opRevoke, start, err)
	return err
}

// ListUser implements session.Store.
func (s *store) ListUser(ctx context.Context, subject string, now time.Time) ([]session.Record, error) {
	start := time.Now()
	recs, err := s.inner.ListUser(ctx, subject, now)
	s.m.observe(opListUser, start, err)
	return recs, err
}

// RevokeUser implements session.Store.
func (s *store) RevokeUser(ctx context.Context, subject string) ([]string, error) {
	start := time.Now()
	ids, err := s.inner.RevokeUser(ctx, subject)
	s.m.observe(opRevokeUser, start, err)
	return ids, err
}

// revocationStore instruments the session.RevocationStore methods.
type revocationStore struct {
	inner session.RevocationStore
	m     *Metrics
}

// AddRevocation implements session.RevocationStore.
func (s revocationStore) AddRevocation(ctx context.Context, r session.Revocation) error {
	start := time.Now()
	err := s.inner.AddRevocation(ctx, r)
	s.m.observe(opAddRevocation, start, err)
	return err
}

// Revocations implements session.RevocationStore.
func (s revocationStore) Revocations(ctx context.Context, now time.Time) ([]session.Revocation, error) {
	start := time.Now()
	rs, err := s.inner.Revocations(ctx, now)
	s.m.observe(opRevocations, start, err)
	return rs, err
}

// SubscribeRevocations implements session.RevocationStore. It times how
// long subscribing takes; the deliveries that follow go straight to fn and
// resync.
func (s revocationStore) SubscribeRevocations(ctx context.Context, fn func(session.Revocation), resync func()) error {
	start := time.Now()
	err := s.inner.SubscribeRevocations(ctx, fn, resync)
	s.m.observe(opSubscribeRevocations, start, err)
	return err
}

// secretStore passes RefreshSecret on.
type secretStore struct{ inner refreshSecretStore }

// RefreshSecret returns the wrapped store's RefreshSecret.
func (s secretStore) RefreshSecret(ctx context.Context) ([]byte, error) {
	return s.inner.RefreshSecret(ctx)
}
