package boltstore

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/session"
)

// TestConcurrentRotate is the refresh stampede against the file: 50
// requests present the same token at once; one rotates, the others get
// the same successor re-issued.
func TestConcurrentRotate(t *testing.T) {
	const n = 50
	s := openTemp(t, Options{})
	mustCreate(t, s, record("s1", "alice"))
	r := rotation("s1", 0, base().Add(time.Minute))
	outs := make([]session.Outcome, n)
	errs := make([]error, n)
	hashes := make([][]byte, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			rec, out, err := s.Rotate(t.Context(), "s1", r)
			outs[i], errs[i], hashes[i] = out, err, rec.RefreshHash
		})
	}
	close(start)
	wg.Wait()
	counts := map[session.Outcome]int{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("call %d: %v", i, errs[i])
			continue
		}
		counts[outs[i]]++
		if !bytes.Equal(hashes[i], r.Next) {
			t.Errorf("call %d: returned RefreshHash is not Next", i)
		}
	}
	if counts[session.Rotated] != 1 || counts[session.Reissued] != n-1 {
		t.Errorf("outcomes: %d Rotated, %d Reissued; want 1 and %d", counts[session.Rotated], counts[session.Reissued], n-1)
	}
}

func TestRotateSubjectChange(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t, Options{})
	mustCreate(t, s, record("s1", "alice"))
	r := rotation("s1", 0, base().Add(time.Minute))
	r.Identity.Subject = "alice2"
	if _, out, err := s.Rotate(ctx, "s1", r); err != nil || out != session.Rotated {
		t.Fatalf("Rotate = %v, %v; want Rotated", out, err)
	}
	if recs, _ := s.ListUser(ctx, "alice", base()); len(recs) != 0 {
		t.Errorf("ListUser(old subject) = %d records, want none", len(recs))
	}
	if recs, _ := s.ListUser(ctx, "alice2", base()); len(recs) != 1 {
		t.Errorf("ListUser(new subject) = %d records, want 1", len(recs))
	}
	if ids, err := s.RevokeUser(ctx, "alice2"); err != nil || len(ids) != 1 || ids[0] != "s1" {
		t.Errorf("RevokeUser(new subject) = %q, %v; want [s1]", ids, err)
	}
	if got, _ := sizesOf(t, s); got != [3]int{1, 1, 1} {
		t.Errorf("{sessions, subjects, expiry} = %v, want 1 each (the old entries moved, not copied)", got)
	}
}

// TestSubjectPrefix: one subject's index never yields another's sessions,
// even when one subject is a prefix of the other.
func TestSubjectPrefix(t *testing.T) {
	s := openTemp(t, Options{})
	for _, sub := range []string{"al", "alice", "al\x00ice", ""} {
		mustCreate(t, s, record("id-"+sub, sub))
	}
	for _, sub := range []string{"al", "alice", "al\x00ice", ""} {
		recs, err := s.ListUser(t.Context(), sub, base())
		if err != nil || len(recs) != 1 || recs[0].ID != "id-"+sub {
			t.Errorf("ListUser(%q) = %d records, %v; want only id-%s", sub, len(recs), err, sub)
		}
	}
}

func TestClosed(t *testing.T) {
	s := openTemp(t, Options{})
	mustCreate(t, s, record("s1", "alice"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	rot := rotation("s1", 0, base().Add(time.Minute))
	for name, call := range storeCalls(t.Context(), s, rot) {
		if err := call(); !errors.Is(err, session.ErrStoreUnavailable) {
			t.Errorf("%s after Close: error %v, want ErrStoreUnavailable", name, err)
		}
	}
}

// storeCalls are one call of each method that reads or writes the file.
func storeCalls(ctx context.Context, s *Store, rot session.Rotation) map[string]func() error {
	return map[string]func() error{
		"Create":     func() error { return s.Create(ctx, record("s2", "alice")) },
		"Get":        func() error { _, err := s.Get(ctx, "s1"); return err },
		"Rotate":     func() error { _, _, err := s.Rotate(ctx, "s1", rot); return err },
		"Revoke":     func() error { return s.Revoke(ctx, "s1") },
		"ListUser":   func() error { _, err := s.ListUser(ctx, "alice", base()); return err },
		"RevokeUser": func() error { _, err := s.RevokeUser(ctx, "alice"); return err },
		"AddRevocation": func() error {
			return s.AddRevocation(ctx, session.Revocation{Kind: session.RevokeUserKind, ID: "alice"})
		},
		"Revocations": func() error { _, err := s.Revocations(ctx, base()); return err },
	}
}

func TestRejectsCallerBugs(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t, Options{})
	if err := s.Create(ctx, record("", "alice")); err == nil {
		t.Error("Create with an empty id succeeded")
	}
	mustCreate(t, s, record("s1", "alice"))
	r := rotation("s1", 0, base().Add(time.Minute))
	r.Next = nil
	if _, _, err := s.Rotate(ctx, "s1", r); err == nil {
		t.Error("Rotate with an empty Next succeeded")
	}
	bad := record("s2", "alice")
	bad.Identity.Claims = map[string]any{"f": func() {}}
	if err := s.Create(ctx, bad); err == nil {
		t.Error("Create with a claim JSON cannot encode succeeded")
	}
	for _, r := range []session.Revocation{{Kind: "", ID: "x"}, {Kind: session.RevokeUserKind}, {Kind: "a\x00b", ID: "x"}} {
		if err := s.AddRevocation(ctx, r); err == nil {
			t.Errorf("AddRevocation(%q, %q) succeeded", r.Kind, r.ID)
		}
	}
	if rec, err := s.Get(ctx, "s1"); err != nil || rec.Revoked || !rec.RefreshedAt.Equal(base()) {
		t.Errorf("after refused calls: revoked %v, refreshed %v, %v; want unchanged", rec.Revoked, rec.RefreshedAt, err)
	}
	if got, revs := sizesOf(t, s); got != [3]int{1, 1, 1} || revs != [2]int{0, 0} {
		t.Errorf("after refused calls: sizes %v %v; want only s1", got, revs)
	}
}
