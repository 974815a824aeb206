package metrics

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/boltstore"
	"github.com/gatehouse/gatehouse/session/memstore"
	"github.com/gatehouse/gatehouse/session/sessiontest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// The instrumented store is still a Store: it passes the conformance
// suites, for sessions and for shared revocations.
func TestInstrumentedStoreConformance(t *testing.T) {
	instrumented := func() session.Store {
		return InstrumentStore(memstore.New(memstore.Options{}), New(prometheus.NewRegistry()))
	}
	sessiontest.Run(t, func(t *testing.T) session.Store { return instrumented() })
	sessiontest.RunRevocations(t, func(t *testing.T) session.RevocationStore {
		return instrumented().(session.RevocationStore)
	})
}

// plainStore has none of the optional interfaces.
type plainStore struct{ session.Store }

// sharingFake adds RevocationStore only.
type sharingFake struct {
	session.Store
	session.RevocationStore
}

// keepingFake adds RefreshSecret only.
type keepingFake struct{ session.Store }

func (keepingFake) RefreshSecret(context.Context) ([]byte, error) { return []byte("kept"), nil }

// TestInstrumentStoreKeepsInterfaces: proxy.New type-asserts the store for
// RevocationStore (a mirror) and RefreshSecret (a persistent secret); the
// wrapper must answer those assertions exactly as the store it wraps.
func TestInstrumentStoreKeepsInterfaces(t *testing.T) {
	mem := memstore.New(memstore.Options{})
	bolt, err := boltstore.Open(filepath.Join(t.TempDir(), "s.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bolt.Close() })
	tests := []struct {
		name            string
		store           session.Store
		shares, secrets bool
	}{
		{"plain", plainStore{mem}, false, false},
		{"revocations only", sharingFake{mem, mem}, true, false},
		{"secret only", keepingFake{mem}, false, true},
		{"memstore", mem, true, false},
		{"boltstore", bolt, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			s := InstrumentStore(tc.store, New(reg))
			rs, shares := s.(session.RevocationStore)
			sk, secrets := s.(refreshSecretStore)
			if shares != tc.shares || secrets != tc.secrets {
				t.Fatalf("RevocationStore %v, RefreshSecret %v; want %v, %v", shares, secrets, tc.shares, tc.secrets)
			}
			ctx := context.Background()
			if shares {
				if _, err := rs.Revocations(ctx, time.Now()); err != nil {
					t.Fatal(err)
				}
				if n := sampleCount(t, reg, "revocations"); n != 1 {
					t.Errorf("revocations not timed: %d samples", n)
				}
			}
			if secrets {
				if b, err := sk.RefreshSecret(ctx); err != nil || len(b) == 0 {
					t.Fatalf("RefreshSecret = %q, %v", b, err)
				}
			}
		})
	}
}

// sampleCount is the number of observations of op in
// gatehouse_store_operation_duration_seconds.
func sampleCount(t *testing.T, reg *prometheus.Registry, op string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "gatehouse_store_operation_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelValue(m, "op") == op {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	t.Fatalf("no histogram for op %q", op)
	return 0
}

func labelValue(m *dto.Metric, name string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

// failingStore answers every call with err.
type failingStore struct{ err error }

func (f failingStore) Create(context.Context, session.Record) error { return f.err }
func (f failingStore) Get(context.Context, string) (session.Record, error) {
	return session.Record{}, f.err
}
func (f failingStore) Rotate(context.Context, string, session.Rotation) (session.Record, session.Outcome, error) {
	return session.Record{}, 0, f.err
}
func (f failingStore) Revoke(context.Context, string) error { return f.err }
func (f failingStore) ListUser(context.Context, string, time.Time) ([]session.Record, error) {
	return nil, f.err
}
func (f failingStore) RevokeUser(context.Context, string) ([]string, error) { return nil, f.err }

// TestStoreErrors: store_errors_total counts failures of the store, not
// its verdicts on sessions, nor callers that gave up.
func TestStoreErrors(t *testing.T) {
	tests := []struct {
		err     error
		counted bool
	}{
		{fmt.Errorf("redis: dial: %w", session.ErrStoreUnavailable), true},
		{errors.New("bolt: database not open"), true},
		{context.DeadlineExceeded, true},
		{session.ErrSessionNotFound, false},
		{session.ErrSessionExpired, false},
		{session.ErrSessionRevoked, false},
		{fmt.Errorf("s: %w", session.ErrRefreshReused), false},
		{context.Canceled, false},
	}
	for _, tc := range tests {
		t.Run(tc.err.Error(), func(t *testing.T) {
			m := New(prometheus.NewRegistry())
			s := InstrumentStore(failingStore{tc.err}, m)
			ctx := context.Background()
			s.Create(ctx, session.Record{})
			s.Get(ctx, "id")
			s.Rotate(ctx, "id", session.Rotation{})
			s.Revoke(ctx, "id")
			s.ListUser(ctx, "u", time.Now())
			s.RevokeUser(ctx, "u")
			names := storeOpNames()
			for op, name := range names[:opAddRevocation] {
				want := 0.0
				if tc.counted {
					want = 1
				}
				if got := testutil.ToFloat64(m.storeErrors[op]); got != want {
					t.Errorf("store_errors_total{op=%q} = %v, want %v", name, got, want)
				}
			}
		})
	}
}
