package session_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/memstore"
)

// The hooks package metrics uses: Issued.Outcome, ManagerOptions.OnRevoke
// and MirrorOptions.OnSync (issue #8).

func TestIssuedOutcomeAndOnRevoke(t *testing.T) {
	clock := &lockedClock{t: time.Now()}
	key, err := session.GenerateKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	ks, err := session.NewKeySet([]*session.Key{key}, "")
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := session.NewTokens(config.Default().Tokens, ks, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	refresh, err := session.NewRefreshTokens([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []session.RevocationKind // OnRevoke is called synchronously
	m, err := session.NewManager(session.ManagerOptions{
		Tokens: tokens, Refresh: refresh, Store: memstore.New(memstore.Options{Now: clock.Now}),
		Revocations: session.NewRevocations(clock.Now), IdleTimeout: time.Hour, AbsoluteLifetime: 2 * time.Hour,
		Grace: 30 * time.Second, Now: clock.Now,
		OnRevoke: func(k session.RevocationKind) { kinds = append(kinds, k) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	same := func(_ context.Context, rec session.Record) (session.Fresh, error) {
		return session.Fresh{Identity: rec.Identity}, nil
	}

	login, err := m.Login(ctx, session.Identity{Subject: "alice"}, session.Client{})
	if err != nil || login.Outcome != 0 {
		t.Fatalf("Login: outcome %v, %v", login.Outcome, err)
	}
	first, err := m.Refresh(ctx, login.Refresh, same)
	if err != nil || first.Outcome != session.Rotated {
		t.Fatalf("first refresh: outcome %v, %v", first.Outcome, err)
	}
	again, err := m.Refresh(ctx, login.Refresh, same) // the same parent, within grace
	if err != nil || again.Outcome != session.Reissued || again.Refresh != first.Refresh {
		t.Fatalf("within grace: outcome %v, %v", again.Outcome, err)
	}
	clock.Advance(time.Minute)
	if _, err := m.Refresh(ctx, login.Refresh, same); !errors.Is(err, session.ErrRefreshReused) {
		t.Fatalf("after grace: %v, want reuse", err)
	}
	if err := m.LogoutUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := m.RevokeToken(ctx, "jti-1"); err != nil {
		t.Fatal(err)
	}
	want := []session.RevocationKind{session.RevokeSessionKind, session.RevokeUserKind, session.RevokeTokenKind}
	if !slices.Equal(kinds, want) {
		t.Errorf("OnRevoke saw %v, want %v (reuse, logout everywhere, one token)", kinds, want)
	}
}

// flakySource fails its loads while down is set.
type flakySource struct {
	*memstore.Store
	down bool
}

func (f *flakySource) Revocations(ctx context.Context, now time.Time) ([]session.Revocation, error) {
	if f.down {
		return nil, session.ErrStoreUnavailable
	}
	return f.Store.Revocations(ctx, now)
}

func (f *flakySource) SubscribeRevocations(context.Context, func(session.Revocation), func()) error {
	return errors.New("not in this test") // no background resync: only Start loads
}

func TestMirrorOnSync(t *testing.T) {
	for _, down := range []bool{false, true} {
		var got []error
		src := &flakySource{Store: memstore.New(memstore.Options{}), down: down}
		mir := session.NewMirror(session.MirrorOptions{
			List: session.NewRevocations(nil), Source: src, MaxStaleness: time.Hour,
			OnSync: func(err error) { got = append(got, err) },
		})
		ctx, cancel := context.WithCancel(context.Background())
		startErr := mir.Start(ctx)
		cancel()
		if len(got) != 1 || !errors.Is(got[0], startErr) || (got[0] != nil) != down {
			t.Errorf("store down %v: OnSync saw %v, Start returned %v", down, got, startErr)
		}
	}
}
