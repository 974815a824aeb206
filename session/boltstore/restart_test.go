package boltstore

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/session"
)

// TestRestart: what one process wrote, the next one reads back exactly,
// and carries on with.
func TestRestart(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sessions.db")
	clock := &fakeClock{t: base()}
	open := func() *Store {
		t.Helper()
		s, err := Open(path, Options{Now: clock.Now})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	}

	s := open()
	mustCreate(t, s, record("a1", "alice"))
	mustCreate(t, s, record("a2", "alice"))
	mustCreate(t, s, record("b1", "bob"))
	t1 := base().Add(5 * time.Minute)
	if _, out, err := s.Rotate(ctx, "a1", rotation("a1", 0, t1)); err != nil || out != session.Rotated {
		t.Fatalf("Rotate(a1) = %v, %v; want Rotated", out, err)
	}
	if err := s.Revoke(ctx, "b1"); err != nil {
		t.Fatalf("Revoke(b1): %v", err)
	}
	revs := []session.Revocation{
		{Kind: session.RevokeSessionKind, ID: "b1", Until: base().Add(time.Hour)},
		{Kind: session.RevokeUserKind, ID: "carol", Before: base(), Until: base().Add(2 * time.Hour)},
		{Kind: session.RevokeTokenKind, ID: "jti-1", Until: base().Add(3 * time.Hour)},
	}
	for _, r := range revs {
		if err := s.AddRevocation(ctx, r); err != nil {
			t.Fatalf("AddRevocation(%s %s): %v", r.Kind, r.ID, err)
		}
	}
	before := map[string]session.Record{}
	for _, id := range []string{"a1", "a2", "b1"} {
		rec, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("Get(%s): %v", id, err)
		}
		before[id] = rec
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open()
	defer s.Close()
	for id, want := range before {
		got, err := s.Get(ctx, id)
		if err != nil {
			t.Errorf("Get(%s) after reopening: %v", id, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Get(%s) after reopening:\n got %+v\nwant %+v", id, got, want)
		}
	}
	if !before["b1"].Revoked {
		t.Errorf("b1 was not revoked before the restart")
	}
	list, err := s.ListUser(ctx, "alice", t1)
	if err != nil || len(list) != 2 {
		t.Errorf("ListUser(alice) after reopening = %d records, %v; want 2", len(list), err)
	}

	// The grace window and the chain carry on: the previous token is
	// re-issued, the current one rotates, an old one is reuse.
	if _, out, err := s.Rotate(ctx, "a1", rotation("a1", 0, t1.Add(time.Second))); err != nil || out != session.Reissued {
		t.Errorf("Rotate(a1, previous token, within grace) after reopening = %v, %v; want Reissued", out, err)
	}
	got, out, err := s.Rotate(ctx, "a1", rotation("a1", 1, t1.Add(time.Minute)))
	if err != nil || out != session.Rotated {
		t.Fatalf("Rotate(a1, current token) after reopening = %v, %v; want Rotated", out, err)
	}
	if !bytes.Equal(got.RefreshHash, tokenHash("a1", 2)) || !bytes.Equal(got.PrevHash, tokenHash("a1", 1)) {
		t.Errorf("after rotating on: current/previous hashes are not tokens 2 and 1")
	}
	if _, _, err := s.Rotate(ctx, "b1", rotation("b1", 0, t1)); !errors.Is(err, session.ErrSessionRevoked) {
		t.Errorf("Rotate(b1) after reopening: %v, want ErrSessionRevoked", err)
	}

	gotRevs, err := s.Revocations(ctx, base())
	if err != nil {
		t.Fatalf("Revocations after reopening: %v", err)
	}
	byID := func(a, b session.Revocation) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(gotRevs, byID)
	want := slices.Clone(revs)
	slices.SortFunc(want, byID)
	if !reflect.DeepEqual(gotRevs, want) {
		t.Errorf("Revocations after reopening:\n got %+v\nwant %+v", gotRevs, want)
	}
}

// TestRefreshSecretSurvivesRestart: the generated secret is the same after
// a restart (so refresh tokens issued before it still verify) and differs
// between two database files.
func TestRefreshSecretSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/a.db"
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.RefreshSecret(context.Background())
	if err != nil || len(first) != 32 {
		t.Fatalf("RefreshSecret: %x, %v", first, err)
	}
	again, _ := s.RefreshSecret(context.Background())
	s.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	reopened, _ := s.RefreshSecret(context.Background())
	if !bytes.Equal(first, again) || !bytes.Equal(first, reopened) {
		t.Errorf("the secret changed: %x %x %x", first, again, reopened)
	}
	other, err := Open(dir+"/b.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if o, _ := other.RefreshSecret(context.Background()); bytes.Equal(o, first) {
		t.Error("two databases share a secret")
	}
}
